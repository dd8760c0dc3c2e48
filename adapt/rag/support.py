"""Is an answer supported by the passages it was grounded in? Offline and lexical: what the guard's
support check runs after generation, and what the faithfulness figures (ragas' faithfulness, TruLens'
groundedness) count.

An answer is supported when every value it states (number, date, time, weekday, proper name) occurs
in the passages, and at least `threshold` of its other content words do. What it repeats from the
question counts for nothing either way: restating the question is no evidence, so an answer that
adds nothing beyond the question's words (a bare "Yes") is unsupported, since nothing in it can be
checked. But the answer rests on the question's premises: a value the question states (a name, a
year, a number) that no passage holds leaves the answer unsupported too, which catches the false
premise of "Who founded it in 1999?" where the passages say 2016. An answer that declines makes no
claim and is not checked.

`--judge` replaces this with a model's verdict (SUPPORT_PROMPT).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapt.data.reading import (
    _claims,
    _content_stems,
    _is_content,
    _prepare,
    _read_answer,
    _read_question,
    _read_values,
    _same_value,
    _stem,
    _tokenize,
    _Value,
)
from adapt.rag import SUPPORT_THRESHOLD

_MARKER = re.compile(r"(?<!\w)\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")

SUPPORT_PROMPT = """Decide whether an answer is supported by the passages it was written from.

Passages:
{passages}

Question: {question}
Answer: {answer}

Reply SUPPORTED if every claim the answer makes is stated in the passages or follows from them, and
UNSUPPORTED if any claim is missing from them or contradicts them. Reply with that one word."""


@dataclass(frozen=True)
class Support:
    score: float                    # share of the answer's own content words found in the passages
    missing_values: tuple[str, ...]  # numbers, dates and names the passages lack, as the answer wrote them
    missing_words: tuple[str, ...]
    empty: bool = False             # nothing beyond the question's words to check
    missing_premises: tuple[str, ...] = ()  # values the question states that no passage holds

    @property
    def ceiling(self) -> float:
        """The highest threshold it passes: its word share, or -1 when a value, a premise or any claim is missing."""
        return -1.0 if self.empty or self.missing_values or self.missing_premises else self.score

    def holds(self, threshold: float = SUPPORT_THRESHOLD) -> bool:
        return self.ceiling >= threshold

    def reason(self, threshold: float = SUPPORT_THRESHOLD) -> str:
        if self.missing_premises:
            return "the passages do not hold the question's " + ", ".join(f"'{v}'" for v in self.missing_premises)
        if self.empty:
            return "adds nothing to the question's own words, so nothing in the passages supports it"
        if self.missing_values:
            return "the passages do not hold " + ", ".join(f"'{v}'" for v in self.missing_values)
        if self.score < threshold:
            return (f"{self.score:.0%} of its own words are in the passages (needs {threshold:.0%}); missing: "
                    + ", ".join(f"'{w}'" for w in self.missing_words[:6]))
        return f"every value and {self.score:.0%} of its own words are in the passages"


def check(answer: str, passages: list[str], question: str = "", abstain_phrase: str | None = None) -> Support | None:
    """The answer's support in `passages`; None when it declines (no claim to check)."""
    reading = _read_answer(answer, abstain_phrase)
    q = _read_question(question)
    if not _claims(reading, q, q.kinds):
        return None
    ptoks = _tokenize(_prepare("\n".join(passages)))
    words = " ".join(t.low for t in ptoks if t.kind != "other")
    stems = _content_stems(ptoks)
    values = _read_values(ptoks, bare=False)
    missing_values: list[str] = []
    found, total, missing_words = 0, 0, []
    for clause in reading.clauses:
        in_values: set[int] = set()
        for v in clause.values:
            in_values.update(range(v.start, v.end))
            if any(_same_value(v, qv) for qv in q.values):
                continue
            total += 1
            if _held(v, values, words):
                found += 1
            else:
                missing_values.append(v.text)
        for k, t in enumerate(clause.toks):
            if k in in_values or not _is_content(t) or _stem(t.low) in q.stems:
                continue
            total += 1
            if _stem(t.low) in stems:
                found += 1
            else:
                missing_words.append(t.text)
    premises = tuple(dict.fromkeys(v.text for v in q.values if not _held(v, values, words)))
    if total == 0:
        return Support(0.0, (), (), empty=True, missing_premises=premises)
    return Support(round(found / total, 4), tuple(dict.fromkeys(missing_values)), tuple(dict.fromkeys(missing_words)),
                   missing_premises=premises)


def _held(v: _Value, values: list[_Value], words: str) -> bool:
    """A value is held when the passages state the same value, or, failing a parse, its words in a row
    (so "Ana Lind" is not held by a passage naming "Ana Okafor and Tomas Lind")."""
    if any(_same_value(v, p) for p in values):
        return True
    phrase = " ".join(w.low for w in _tokenize(v.text) if w.kind != "other")
    return bool(phrase) and f" {phrase} " in f" {words} "


def cited(answer: str, n_passages: int) -> list[int] | None:
    """The passage numbers the answer cites with [n] markers (1-based, in order, each once); None when it
    has no marker. A number with no such passage is kept, so that it fails the check."""
    found = [int(x) for m in _MARKER.finditer(answer) for x in re.split(r"\s*[,;]\s*", m.group(1))]
    return list(dict.fromkeys(found)) if found else None


def citations_hold(answer: str, passages: list[str], question: str = "", abstain_phrase: str | None = None,
                   threshold: float = SUPPORT_THRESHOLD) -> bool | None:
    """Whether the passages the answer cites hold its support on their own; None without markers or a claim."""
    marks = cited(answer, len(passages))
    if marks is None:
        return None
    if any(not 1 <= n <= len(passages) for n in marks):
        return False
    s = check(answer, [passages[n - 1] for n in marks], question, abstain_phrase)
    return None if s is None else s.holds(threshold)


def parse_support(text: str) -> bool | None:
    """The judge's SUPPORTED / UNSUPPORTED; None when its reply names neither."""
    if re.search(r"\b(?:unsupported|not|isn't|n't)\b(?:\s+\w+){0,2}\s+supported\b|\bunsupported\b", text, re.I):
        return False
    return True if re.search(r"\bsupported\b", text, re.I) else None
