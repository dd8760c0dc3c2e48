"""SQuAD-style answer metrics, abstention detection, grading and retrieval metrics."""

from __future__ import annotations

import collections
import re
import string
from typing import Any

F1_CORRECT = 0.5       # token F1 at or above this counts as correct
SHORT_ANSWER = 4       # "gold contained in the answer" counts only if the answer is <= 4x gold + 8 tokens
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)
_NUM = re.compile(r"\d+")

# Paraphrases of "I don't know / not in the passages". Checked on the normalized answer.
_ABSTAIN = re.compile("|".join([
    r"\bi (do not|don t|dont|cannot|can t|am not able to|am unable to) (know|say|tell|find|answer|determine|provide)",
    r"\b(not|no|never) (mentioned|stated|specified|provided|given|included|found|available|contained|covered|addressed)",
    r"\b(does|do|did) not (mention|say|state|specify|contain|include|provide|indicate|tell)",
    r"\bdoesn t (mention|say|state|specify|contain|include|provide|indicate|tell)",
    r"\bno (information|mention|details?|data|answer|record)\b",
    r"\b(unknown|unanswerable|cannot be (answered|determined))\b",
    r"\bnot (in|within) the (passages?|documents?|context|text|provided)",
    r"\bthere is no (information|mention|answer)",
    r"\bnot sure\b",
    r"\bunable to (answer|find|determine)",
]))


def normalize(text: str) -> str:
    """SQuAD normalization: lowercase, drop punctuation and articles, squeeze spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _abstain_norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


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


def is_abstention(answer: str, phrase: str | None = None) -> bool:
    if not answer.strip():
        return True
    norm = _abstain_norm(answer)
    if phrase and _abstain_norm(phrase) in norm:
        return True
    return bool(_ABSTAIN.search(norm))


def strip_citations(answer: str) -> str:
    return re.sub(r"\[\d+(,\s*\d+)*\]", " ", answer)


def grade(answer: str, golds: list[str], abstain_phrase: str | None = None) -> dict[str, Any]:
    """correct | abstained | incorrect, plus EM and F1 against the best gold answer.

    correct: EM, or F1 >= F1_CORRECT, or the normalized gold inside a short answer.
    Any non-abstaining answer to an unanswerable item (no golds) is incorrect.
    """
    text = strip_citations(answer)
    abstained = is_abstention(text, abstain_phrase)
    if not golds:
        return {"grade": "abstained" if abstained else "incorrect", "em": None, "f1": None}
    em = max(exact_match(text, g) for g in golds)
    f = max(f1(text, g) for g in golds)
    contained = False
    n_ans = len(normalize(text).split())
    for g in golds:
        ng = normalize(g)
        if ng and n_ans <= SHORT_ANSWER * len(ng.split()) + 8 and re.search(rf"(^| ){re.escape(ng)}( |$)", normalize(text)):
            contained = True
    # F1 alone would pass "1,200 euros" for "600 euros": numbers in the gold must appear in the answer
    numbers_ok = any(set(_NUM.findall(normalize(g))) <= set(_NUM.findall(normalize(text))) for g in golds)
    if em or contained or (f >= F1_CORRECT and numbers_ok):
        label = "correct"
    elif abstained:
        label = "abstained"
    else:
        label = "incorrect"
    return {"grade": label, "em": em, "f1": f}


def retrieval_hit(hits: list[dict[str, Any]], source: str | None, context: str | None = None) -> int | None:
    """Rank (1-based) of the first retrieved chunk from the gold source (and overlapping the gold
    paragraph when the item names one); None for a miss."""
    if not source:
        return None
    for rank, h in enumerate(hits, 1):
        if h.get("source") != source:
            continue
        if context is None or h["text"][:60] in context or context[:60] in h["text"]:
            return rank
    return None
