"""Answer grading, SQuAD EM/F1 and retrieval metrics.

`grade` follows OpenAI SimpleQA's three-way policy, decided lexically and offline:

- correct: the answer states a gold answer (any variant) and asserts nothing that contradicts it.
  Hedging is allowed; length is not penalised.
- incorrect: a wrong value; several candidates of which some are not gold ("15, 20, 25 or 30 days");
  a negated gold ("not Porto"); an answer followed by "this is not in the passages"; and any asserted
  answer, hedged or negative, to an unanswerable item (no golds).
- abstained: the answer makes no answer claim: it declines, or only adds a side fact.

Values are compared in their own canonical form (number words, decimals, units, dates, times,
weekdays, proper names) because SQuAD normalization destroys them ("1.8 kg" -> "18 kg"). EM/F1 keep
SQuAD's `normalize`. JUDGE_PROMPT asks an LLM (`--judge`) for the same policy; parse_judge reads it.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapt.data.reading import (
    _claims,
    _competitors,
    _Gold,
    _gold_status,
    _Question,
    _read_answer,
    _read_gold,
    _read_question,
    _Reading,
    _stance,
    _with_units,
    strip_citations,
)
from adapt.data.text import normalize

if TYPE_CHECKING:
    from adapt.rag.chunking import Chunk

# ---------------------------------------------------------------------------------------------
# SQuAD metrics



def exact_match(pred: str, gold: str) -> float:
    return float(normalize(pred) == normalize(gold))


def f1(pred: str, gold: str) -> float:
    p, g = normalize(pred).split(), normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = collections.Counter(p) & collections.Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)



# ---------------------------------------------------------------------------------------------
# The grade


@dataclass(frozen=True)
class Grade:
    label: str          # "correct" | "incorrect" | "abstained"
    em: float | None    # SQuAD exact match against the best gold (None for unanswerable items)
    f1: float | None    # SQuAD token F1 against the best gold (None for unanswerable items)
    reason: str         # why, in a few words


def grade(answer: str, golds: list[str], question: str = "", abstain_phrase: str | None = None) -> Grade:
    """Grade one answer; golds == [] marks an unanswerable item."""
    reading = _read_answer(answer, abstain_phrase)
    q = _read_question(question)
    if not golds:
        if _claims(reading, q, q.kinds):
            return Grade("incorrect", None, None, "answers an unanswerable item")
        return Grade("abstained", None, None, "declines")
    text = strip_citations(answer)
    em = max(exact_match(text, g) for g in golds)
    f = max(f1(text, g) for g in golds)
    if all(normalize(g) in ("yes", "no") for g in golds):
        label, reason = _grade_yes_no(reading, q, normalize(golds[0]))
    else:
        label, reason = _grade_against(reading, q, [_read_gold(g) for g in golds])
    return Grade(label, em, f, reason)


def _grade_against(reading: _Reading, q: _Question, golds: list[_Gold]) -> tuple[str, str]:
    if any(g.words and g.words == reading.words for g in golds):
        return "correct", "states the gold"  # the whole answer is a gold, even "None" or "not equal"
    golds = _with_units(golds, q)
    stated = negated = False
    for gold in golds:
        s, n = _gold_status(reading, gold)
        stated, negated = stated or s, negated or n
    if negated:
        return "incorrect", "negates the gold"
    extra = _competitors(reading, q, golds)
    if stated:
        if extra:
            return "incorrect", f"extra value {extra[0].text} not in the gold"
        if reading.grounding:  # "X. This is not in the passages.": the answer disowns its own claim
            return "incorrect", "states the gold but says the documents do not contain it"
        return "correct", "states the gold"
    if extra:
        return "incorrect", f"states {extra[0].text}, not the gold"
    kinds = q.kinds | {v.kind for g in golds for v in g.values}
    if _claims(reading, q, kinds):
        return "incorrect", "does not state the gold"
    return "abstained", "declines"


def _grade_yes_no(reading: _Reading, q: _Question, gold: str) -> tuple[str, str]:
    stance = _stance(reading, q)
    if stance is None:
        if _claims(reading, q, q.kinds):
            return "incorrect", "does not state the gold"
        return "abstained", "declines"
    if stance != gold:
        return "incorrect", "negates the gold"
    if reading.grounding:
        return "incorrect", "states the gold but says the documents do not contain it"
    return "correct", "states the gold"



# ---------------------------------------------------------------------------------------------
# LLM judge (`--judge`)

JUDGE_PROMPT = """Grade a predicted answer against the gold target as CORRECT, INCORRECT or NOT_ATTEMPTED.

Question: {question}
Gold target: {gold}
Predicted answer: {answer}

Policy:
- CORRECT: the predicted answer states the gold target (any one of its listed variants) and asserts nothing \
that contradicts it. Hedging is fine ("I believe it is X, but check with finance"), and so are extra sentences \
that do not contradict it; length does not matter. Number words and digits are the same number ("three months" \
is "3 months").
- INCORRECT: the predicted answer states another value; or lists several candidates of which any is not the gold \
target ("15, 20, 25 or 30 days depending on seniority" for "25 days"); or negates the gold target ("It is not X \
but Y"); or states an answer and then says the documents do not contain it. Numbers must match exactly, decimals \
and units included ("18 kg" is not "1.8 kg"), and so must dates, times, weekdays and months ("Tuesdays and Fridays" \
is not "Tuesdays and Thursdays"). A value in another unit that answers something else ("27 days, accrued over \
12 months") is not a competing candidate.
- NOT_ATTEMPTED: the predicted answer declines ("I don't know", "the documents do not say", "N/A", an empty \
answer) and asserts nothing that contradicts the gold target. A side fact that does not answer the question is \
fine ("I can't answer from the documents, but requests go through the HR portal").
- When the gold target says the documents do not contain the answer, any asserted answer is INCORRECT, hedged \
("X, but I'm not sure") or negative ("No, the company does not offer that") alike; only declining is \
NOT_ATTEMPTED.

Reply with one letter only:
A) CORRECT
B) INCORRECT
C) NOT_ATTEMPTED"""

_JUDGE_LABELS = {"A": "correct", "B": "incorrect", "C": "abstained", "CORRECT": "correct",
                 "INCORRECT": "incorrect", "NOT_ATTEMPTED": "abstained", "NOT ATTEMPTED": "abstained"}


def judge_gold(golds: list[str]) -> str:
    """The gold target as JUDGE_PROMPT shows it."""
    if not golds:
        return ("None. The documents do not contain the answer to this question, so any asserted answer is "
                "INCORRECT and declining to answer is NOT_ATTEMPTED.")
    return golds[0] if len(golds) == 1 else "any of: " + " | ".join(golds)


def parse_judge(text: str) -> str | None:
    """"correct" / "incorrect" / "abstained" from the judge's reply ("A", "B) INCORRECT", "NOT_ATTEMPTED");
    None when it names no label."""
    head = re.sub(r"^[\W_]*(?:the\s+)?(?:answer|grade|label|verdict|judgement|judgment)(?:\s+is)?\s*[:=\-]?\s*", "",
                  text.strip(), flags=re.I)  # "Answer: B", "Grade: C", "The answer is A) CORRECT"
    word = re.match(r"[\W_]*(NOT[_ ]ATTEMPTED|INCORRECT|CORRECT)\b", head, re.I)
    if word:
        return _JUDGE_LABELS[word.group(1).upper().replace(" ", "_")]
    letter = re.match(r"[\W_]*([ABC])(?![A-Za-z])", head) or re.fullmatch(r"[\W_]*([abc])[\W_]*", head)
    if letter:
        return _JUDGE_LABELS[letter.group(1).upper()]
    anywhere = re.search(r"\b(NOT[_ ]ATTEMPTED|INCORRECT|CORRECT)\b", head)
    return _JUDGE_LABELS[anywhere.group(1).replace(" ", "_")] if anywhere else None


# ---------------------------------------------------------------------------------------------
# Retrieval


def retrieval_hit(hits: list[Chunk], source: str | None, context: str | None = None) -> int | None:
    """Rank (1-based) of the first retrieved chunk from the gold source (and overlapping the gold
    paragraph when the item names one); None for a miss."""
    if not source:
        return None
    for rank, h in enumerate(hits, 1):
        if h.source != source:
            continue
        if context is None or h.text[:60] in context or context[:60] in h.text:
            return rank
    return None
