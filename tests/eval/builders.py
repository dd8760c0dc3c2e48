"""Typed eval records for tests: only the fields a test cares about, the rest filled in."""

from __future__ import annotations

from typing import Any

from adapt.eval.records import ItemRecord, Timing


def record(**fields: Any) -> ItemRecord:
    """A graded answer; a correct answer to an answerable item unless fields say otherwise."""
    base: dict[str, Any] = {"recipe": "r", "rung": "prompt", "id": "q", "question": "q?", "gold": ["x"],
                            "answer": "x", "grade": "correct", "reason": "", "em": None, "f1": None}
    return ItemRecord(**{**base, **fields})


def timing(latency_ms: float, **fields: Any) -> Timing:
    """One request timed alone, its first token at the same time (retrieval none)."""
    base: dict[str, Any] = {"recipe": "r", "id": "q", "latency_ms": latency_ms, "ttft_ms": latency_ms,
                            "retrieval_ms": None}
    return Timing(**{**base, **fields})
