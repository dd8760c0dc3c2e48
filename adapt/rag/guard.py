"""A RAG recipe's guard (`rag.guard`): a retrieval gate before generation and a support check after.

The gate answers with the abstain phrase, without calling the model, when even the best passage is
far from the question: the passages cannot hold its answer, and a small model answers anyway. The
support check replaces an answer whose values and words the passages do not hold. Ask, eval and
serve all answer through it, so a served answer is guarded exactly as an evaluated one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from adapt.rag.index import Hit
    from adapt.recipe import GuardSpec

GATED, UNSUPPORTED, PASSED = "gated", "unsupported", "passed"


def best_similarity(hits: Sequence[Hit]) -> float | None:
    """The best cosine similarity among the passages; None when none was scored by the dense search."""
    sims = [h.similarity for h in hits if getattr(h, "similarity", None) is not None]
    return max(sims) if sims else None


class Guard:
    def __init__(self, spec: GuardSpec, abstain_phrase: str) -> None:
        self.spec, self.abstain_phrase = spec, abstain_phrase

    def gates(self, hits: Sequence[Hit]) -> bool:
        """Whether to abstain before generating: no passage, or the best one below min_score."""
        if self.spec.min_score is None:
            return False
        best = best_similarity(hits)
        return best is None or best < self.spec.min_score

    def gate_reason(self, hits: Sequence[Hit]) -> str:
        best = best_similarity(hits)
        return (f"the best passage's similarity to the question, {best:.2f}, is below min_score "
                f"{self.spec.min_score}" if best is not None else "no passage was retrieved")

    def verdict(self, question: str, answer: str, hits: Sequence[Hit]) -> tuple[str, str | None]:
        """PASSED or UNSUPPORTED for a generated answer (one that declines always passes), and why it
        was stopped."""
        if not self.spec.support:
            return PASSED, None
        from adapt.rag import support

        found = support.check(answer, [h.text for h in hits], question, self.abstain_phrase)
        if found is None or found.holds(self.spec.support_threshold):
            return PASSED, None
        return UNSUPPORTED, found.reason(self.spec.support_threshold)
