"""Metadata filters that restrict retrieval to part of a corpus: `source=policies/*`, `type=pdf`,
`tag=hr`, `modified>=2026-01-01`. Several filters must all hold.

They are applied inside each retriever (BM25 and dense alike) before fusion, not to its results, so
k passages still come back whenever k chunks match.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable

SYNTAX = ("KEY=VALUE, e.g. source=policies/* (a glob over the path in the documents folder; * also "
          "matches /), type=pdf, tag=hr, or modified>=2026-01-01 (also >, <=, < and =; a date or an "
          "ISO date-time, UTC)")
_FORM = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=|=|>|<)\s*(.*?)\s*$")
KEYS = ("source", "type", "tag", "modified")


@dataclass(frozen=True)
class Filter:
    key: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value}"

    def test(self, chunk: Any) -> bool:
        """Whether `chunk` (anything with the Chunk metadata fields) passes."""
        if self.key == "source":
            return fnmatch.fnmatchcase(chunk.file, self.value)
        if self.key == "type":
            return chunk.type == self.value
        if self.key == "tag":
            return self.value in (t.lower() for t in chunk.tags)
        when = _instant(chunk.modified)
        bound: date | datetime = _moment(self.value)
        # a bare date compares days: modified<=2026-01-31 includes all of the 31st
        have: date | datetime = when.date() if not isinstance(bound, datetime) else when
        return {">=": have >= bound, "<=": have <= bound, ">": have > bound, "<": have < bound,
                "=": have == bound}[self.op]


def parse(text: str) -> Filter:
    """One filter; a ValueError whose message shows the syntax when `text` is not one."""
    m = _FORM.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"'{text}' is not a filter: write {SYNTAX}")
    key, op, value = m.group(1).lower(), m.group(2), m.group(3)
    if key not in KEYS:
        raise ValueError(f"'{text}': unknown key '{key}' (source, type, tag or modified): write {SYNTAX}")
    if not value or value[0] in "=<>":
        raise ValueError(f"'{text}' has no value: write {SYNTAX}")
    if key == "modified":
        try:
            _moment(value)
        except ValueError:
            raise ValueError(f"'{text}': '{value}' is not a date (YYYY-MM-DD) or ISO date-time: write {SYNTAX}") \
                from None
    elif op != "=":
        raise ValueError(f"'{text}': {key} is matched with '=' only: write {SYNTAX}")
    if key == "type":
        value = value.lower().lstrip(".")
    elif key == "tag":
        value = value.lower()
    return Filter(key, op, value)


def parse_all(texts: Iterable[str]) -> tuple[Filter, ...]:
    return tuple(parse(t) for t in texts)


def _moment(value: str) -> date | datetime:
    """A bare date (2026-01-31 or 20260131) stays a date, compared by whole days; else an instant."""
    if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", value):
        return datetime.strptime(value.replace("-", ""), "%Y%m%d").date()
    return _instant(value)


def _instant(value: str) -> datetime:
    """An ISO date-time in UTC; naive means UTC. ("Z" spelled out: Python 3.10 does not read it.)"""
    moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
