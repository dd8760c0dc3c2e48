"""Reading answers the way a careful grader does: tokens, values (numbers with units, dates, times,
weekdays, proper names), declines, hedges, negation and what an answer claims.

The grader (adapt.eval.metrics) and the support check (adapt.rag.support) share this machinery, so an
answer is read the same way whether it is graded against a gold or checked against its passages.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass, replace

from adapt.data.text import normalize

_CITE_LABEL = r"(?:(?:passages?|docs?|documents?|sources?|refs?|references?|chunks?|excerpts?|context)\s*)?"
_CITATION = re.compile(
    rf"\[\^?{_CITE_LABEL}\d+(?:\s*[,\-–]\s*\d+)*\]"          # [1], [2, 3], [1-2], [^1], [Passage 1], [doc 2]
    r"|【[^】\n]{0,40}】"                                           # 【1】
    rf"|\({_CITE_LABEL}\d+(?:\s*[,\-–]\s*\d+)*\)"               # (1), (source 2)
    r"|\([^()\n]{0,80}?\bpp?\.\s*\d+(?:\s*[-–]\s*\d+)?\)"        # (Leave Policy, p. 4)
    # a source file the model echoes, with its heading path: "12-security-incidents.md (Handbook > Comms)"
    r"|[^\s()]+\.(?:md|markdown|txt|pdf|html?|docx?|rst)\b(?:\s*\([^()\n]{0,120}\))?",
    re.I)


def strip_citations(answer: str) -> str:
    """Drop citation markers and echoed source names: their numbers are not part of the answer."""
    return _CITATION.sub(" ", answer)



# ---------------------------------------------------------------------------------------------
# Lexicon

_STOPWORDS = frozenset("""
a an the and or but nor so if then than that this these those there here it its it's itself i i'm i've i'd
me my we our us you your yours he him his she her they them their what which who whom whose when where why
how many much is are was were be been being am do does did done have has had having will would shall
should can could may might must of in on at to for from by with about as into onto over under after
before between through during per via up out off also only just very too any some all each every both
either other another such same own more most less few lot lots there's that's what's let's get gets got
getting please yes yeah yep nope sorry unfortunately however according based note currently generally
usually typically actually basically answer question within around approximately roughly least since until
till among upon inside outside near toward towards across along against except plus via once again
mr mrs ms dr prof
""".split())  # titles too: "Anne Lee" states "Dr. Anne Lee"
_NEGATORS = frozenset({"not", "no", "never", "none", "neither", "nor", "cannot", "without"})
_YES = frozenset({"yes", "yeah", "yep", "yup"})
_NO = frozenset({"no", "nope"})

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "fifteenth": 15, "twentieth": 20, "thirtieth": 30}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_LEXICON = frozenset(_NUMBER_WORDS) | frozenset(_ORDINAL_WORDS)
_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
               "oct": 10, "nov": 11, "dec": 12}
_WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_WEEKDAY_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5,
                 "sun": 6}

# Units: aliases to one spelling, and a base so that "60 minutes" == "one hour". Other nouns after a
# number ("3 offices") still act as units, compared by their singular form.
_UNIT_ALIASES = {
    "%": "%", "percent": "%", "pct": "%", "€": "eur", "euro": "eur", "euros": "eur", "eur": "eur",
    "$": "usd", "dollar": "usd", "dollars": "usd", "usd": "usd", "£": "gbp", "pound": "gbp", "pounds": "gbp",
    "gbp": "gbp", "sec": "second", "secs": "second", "min": "minute", "mins": "minute", "hr": "hour",
    "hrs": "hour", "yr": "year", "yrs": "year", "wk": "week", "wks": "week", "kgs": "kg", "kilo": "kg",
    "kilos": "kg", "kilogram": "kg", "kilograms": "kg", "gram": "g", "grams": "g", "kilometre": "km",
    "kilometres": "km", "kilometer": "km", "kilometers": "km", "metre": "m", "metres": "m", "meter": "m",
    "meters": "m", "centimetre": "cm", "centimetres": "cm", "centimeter": "cm", "centimeters": "cm",
    "millimetre": "mm", "millimetres": "mm", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "°": "degree", "degrees": "degree", "inches": "inch", "kilobyte": "kb", "kilobytes": "kb",
    "megabyte": "mb", "megabytes": "mb", "gigabyte": "gb", "gigabytes": "gb",
    **{noun: "person" for noun in ("people", "persons", "person", "employee", "employees", "staff", "staffer",
                                   "staffers", "member", "members", "engineer", "engineers", "worker", "workers",
                                   "colleague", "colleagues", "individual", "individuals", "developer", "developers",
                                   "fte", "ftes", "headcount", "hire", "hires", "reviewer", "reviewers")}}
_UNIT_BASE = {
    "second": ("s", 1), "minute": ("s", 60), "hour": ("s", 3600), "day": ("s", 86400), "week": ("s", 604800),
    "month": ("mo", 1), "year": ("mo", 12), "g": ("g", 1), "kg": ("g", 1000), "tonne": ("g", 1e6),
    "mm": ("m", 0.001), "cm": ("m", 0.01), "m": ("m", 1), "km": ("m", 1000), "l": ("l", 1), "ml": ("l", 0.001),
    "kb": ("byte", 1e3), "mb": ("byte", 1e6), "gb": ("byte", 1e9)}
# Count nouns all become "person": "250 people", "250 staff" and "250 employees" are one value.
_KNOWN_UNITS = frozenset(_UNIT_BASE) | {"%", "eur", "usd", "gbp", "degree", "inch", "person"}
# Words after a number that describe what is counted but are no unit: "two paid", "25 unused".
_NOT_UNITS = frozenset({"paid", "unpaid", "full", "extra", "additional", "total", "consecutive", "free", "other",
                        "more", "whole", "entire", "separate", "different"})
# Numbers that label something rather than measure it ("section 4", "page 12").
_REFERENCE_WORDS = frozenset({"section", "page", "chapter", "article", "clause", "step", "version", "item",
                              "paragraph", "appendix", "room", "table", "figure", "rule", "part", "#", "passage",
                              "document", "doc", "source", "chunk", "excerpt", "snippet", "p", "pp"})
# Capitalised words that are roles, departments or abbreviations, not candidate names.
_NOT_NAMES = frozenset({"i", "hr", "it", "ceo", "cfo", "cto", "coo", "cio", "vp", "pto", "faq", "pdf", "id", "ok",
                        "okay", "am", "pm", "eu", "n/a", "na", "mr", "ms", "mrs", "dr", "url", "tbd", "q", "a",
                        "c", "f", "celsius", "fahrenheit"})
_NAME_JOINERS = frozenset({"of", "de", "da", "das", "do", "dos", "del", "la", "le", "van", "von", "der", "&"})
_DETERMINERS = frozenset({"the", "this", "that", "which", "each", "any", "every", "no", "some", "your", "their",
                          "its", "our", "his", "her", "my"})

# ---------------------------------------------------------------------------------------------
# Declines, hedges and advice (matched on lowercased text)

_DOCS = (r"(?:passages?|documents?|docs|context|sources?|texts?|handbook|excerpts?|snippets?|materials?|files?"
         r"|provided (?:information|data|content)|information (?:provided|given|available))")
_DOC_GAP = r"(?:\s+(?:provided|given|available|above|retrieved|shown|supplied|here))?"
_NOT = r"(?:\bnot|\bnever|n't)"
# Up to eight more words. Bounded, with words and gaps that cannot overlap, so a search stays linear in the
# answer's length where ".*" would rescan the rest of the text from every start ("no no no ...").
_FEW_WORDS = r"(?:\W+\w+){0,8}?"
# Says the sources lack the answer. With a claim beside it, the answer disowns its own claim.
_GROUNDING = re.compile("|".join([
    rf"{_NOT}\s+(?:\w+\s+)?(?:mentioned|stated|specified|listed|described|discussed|documented|covered|addressed"
    rf"|included|contained|found|given|provided|available|present|indicated|explained|defined)\s+"
    rf"(?:in|within|by|from|among|anywhere in)\s+(?:\w+\s+){{0,3}}?{_DOCS}",
    rf"{_NOT}\s+(?:explicitly\s+|directly\s+|specifically\s+|clearly\s+)?(?:mentioned|stated|specified|documented"
    rf"|indicated|described|discussed|defined)\b",
    rf"\b{_DOCS}{_DOC_GAP}\s+(?:do|does|did)?\s*{_NOT}\s+(?:\w+\s+)?(?:mention|say|state|specify|contain|include"
    rf"|provide|indicate|cover|address|list|give|discuss|describe|have|tell|name|answer|show|detail|explain)\b",
    rf"\b{_DOCS}{_DOC_GAP}\s+(?:says?|mentions?|contains?|lists?|names?|gives?|includes?|provides?|specif(?:y|ies)"
    rf"|ha(?:ve|s))\s+(?:no|nothing)\b",
    rf"\b(?:nothing|no\s+\w+){_FEW_WORDS}\W+(?:in|within|from)\s+(?:the\s+)?(?:provided\s+)?{_DOCS}",
    # "..., but do not specify how many": the documents' verbs, subject left out
    r"^\W*(?:(?:do|does|did)\s+not|don't|doesn't|didn't)\s+(?:\w+\s+)?(?:mention|specify|say|state|indicate|detail"
    r"|clarify|name)\b",
    r"^\W*not\s+(?:what|which|who|whom|when|where|how|whether)\b",  # "... say X, but not how many"
    r"\bno\s+(?:\w+\s+)?(?:information|info|mention|details?|data|record|reference|indication)"
    r"(?=\s+(?:about|on|regarding|concerning|in|for|of|as\s+to|available|(?:is|are|was|were|could\s+be)\s+"
    r"(?:given|provided|available|found|located))\b|\W*$)",
    rf"\b{_DOCS}{_DOC_GAP}\s+(?:is|are)\s+silent\b",
    rf"\bnone\s+of\s+(?:the\s+)?(?:provided\s+)?{_DOCS}",
    rf"{_NOT}\s+(?:something|anything){_FEW_WORDS}\W+(?:{_DOCS}|find|found|see|locate|answer)\b",
    # short declines: "That's not covered.", "It doesn't say.", "No relevant information found."
    rf"{_NOT}\s+(?:\w+\s+)?(?:covered|addressed|mentioned|specified|stated|documented|included)\W*$",
    r"^\W*(?:it|that|this|they)\s+(?:does\s+not|doesn't|do\s+not|don't)\s+(?:say|specify|mention|state)\b",
    r"\b(?:outside|beyond)\s+(?:the\s+)?scope\b",
    r"\bno\s+(?:relevant\s+|matching\s+)?(?:information|info|results?|data|answer|details?)\s+(?:was\s+|were\s+)?"
    r"found\b",
    rf"{_NOT}\s+(?:\w+\s+)?(?:in|within|part\s+of|among|from)\s+(?:the\s+|any\s+of\s+the\s+|these\s+|those\s+)?"
    rf"(?:provided\s+|given\s+|available\s+|retrieved\s+)?{_DOCS}",
    r"\b(?:answer|information|info|details?)\b(?:\s+\w+){0,4}?\s+(?:is|are|was|were)(?:\s+not|n't)\s+"
    r"(?:available|provided|given|included|present|there|known|specified|mentioned|stated)\b",
    r"\b(?:not\s+enough|insufficient)\s+(?:information|info|context|data|details?)\b",
]))
# Declines without blaming the sources.
_KNOWLEDGE = re.compile("|".join([
    r"\bi\s+(?:really\s+|honestly\s+)?(?:do\s+not|don't|dont|did\s+not|didn't)\s+know\b",
    r"\bno\s+(?:idea|clue)\b",
    r"\bi(?:\s+am|'m|\s+was)?\s+(?:cannot|can't|can\s+not|could\s+not|couldn't|unable\s+to|not\s+able\s+to"
    r"|wasn't\s+able\s+to|do\s+not|don't|did\s+not|didn't)\s+(?:\w+\s+)?(?:answer|say|tell|determine|find"
    r"|provide|confirm|locate|identify|see|give|know|verify|help)\b",
    r"\bunable\s+to\s+(?:answer|find|determine|say|tell|confirm|locate|identify)\b",
    r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't)\s+be\s+(?:answered|determined|found|confirmed|inferred"
    r"|identified|established|known)\b",
    r"\b(?:unknown|unanswerable|unclear|not\s+clear|uncertain|unsure)\b",
    r"\b(?:do\s+not|don't|does\s+not|doesn't)\s+have\s+(?:\w+\s+){0,3}?(?:information|info|data|details|access"
    r"|answer|knowledge)\b",
    # "I'm not sure what the portal is called": an embedded question, not an answer
    r"\b(?:not\s+(?:\w+\s+)?(?:sure|certain)|(?:do\s+not|don't)\s+know)\s+(?:what|which|who|whom|when|where|how"
    r"|whether|if|about)\b",
    r"^\W*(?:n\s*/\s*a|none|no\s+answer|not\s+applicable|no\s+comment)\W*$",
]))
_DOCS_RE = re.compile(rf"\b{_DOCS}\b")
# "The documents mention the Christchurch office": reports what the sources cover rather than answering.
_REPORT = re.compile(rf"^\W*(?:the\s+|these\s+|those\s+)?(?:provided\s+|given\s+|available\s+|retrieved\s+)?{_DOCS}\b",
                     re.I)
# Hedges are removed and what they qualify is kept: a hedged claim is still a claim.
_HEDGES = re.compile(
    r"\b(?:i\s+(?:think|believe|guess|suppose|assume|reckon)|i'd\s+(?:say|guess)|i\s+would\s+(?:say|guess)"
    r"|if\s+i\s+(?:recall|remember)(?:\s+correctly)?|as\s+far\s+as\s+i\s+(?:know|can\s+tell)"
    r"|i(?:'m|\s+am)\s+not\s+(?:\w+\s+)?(?:sure|certain|positive)(?:\s+(?:about\s+(?:this|that)|of\s+this"
    r"|if|whether|that))?|not\s+(?:\w+\s+)?(?:sure|certain)"
    r"|i(?:'m|\s+am)\s+(?:fairly\s+|pretty\s+|quite\s+|reasonably\s+)?(?:sure|confident|certain)(?:\s+that)?"
    r"|it\s+(?:seems|appears)(?:\s+that)?|(?:most\s+)?(?:probably|possibly|likely)|perhaps|maybe|presumably"
    r"|apparently|sorry|unfortunately)\b", re.I)
# "Check with finance", "please contact HR": points elsewhere instead of answering.
_ADVICE = re.compile(
    r"^\W*(?:(?:so|you\s+(?:should|could|can|may|might|need\s+to|will\s+need\s+to|would\s+need\s+to)|please"
    r"|i\s+(?:would\s+)?(?:recommend|suggest)(?:\s+that)?(?:\s+you)?|it(?:'s|\s+is)\s+best\s+to|best\s+to"
    r"|try\s+to|try)\s+)*(?:check|contact|ask|consult|verify|confirm|refer|reach\s+out|talk|speak|double-check"
    r"|inquire|enquire)(?:ing|s)?\b", re.I)

_CLAUSE_BREAK = re.compile(r"(?<!\d)[.!?;:]+|[.!?;:]+(?!\d)|\n+|\s*\b(?:but|however|although|though|whereas)\b",
                           re.I)
_SEGMENT_BREAK = re.compile(r"(?<!\d),|,(?!\d)")

# ---------------------------------------------------------------------------------------------
# Tokens


@dataclass(frozen=True)
class _Tok:
    text: str   # as written
    low: str    # lowercased, accents folded, possessive dropped
    kind: str   # "num" | "time" | "iso" | "word" | "other"


# "code": an identifier such as "P2", "v2" or "IP67", one word, so that its digits are not a quantity
_TOKEN = re.compile(r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})|(?P<time>\d{1,2}:\d{2})|(?P<code>[^\W\d_]+\d\w*)"
                    r"|(?P<num>\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:st|nd|rd|th)?"
                    r"|(?P<word>[^\W\d_]+(?:['-][^\W\d_]+)*)|(?P<other>[^\w\s])")


def _fold(text: str) -> str:
    """Lowercase without accents, so "Inês" matches "Ines"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _tokenize(text: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        raw = m.group(kind) if kind != "num" else m.group(0)
        kind = "word" if kind == "code" else kind
        if kind == "word" and "-" in raw:
            # "twenty-five", "three-year", "sign-on": parts read as separate words, as people also write them
            out += [_Tok(p, _fold(p), "word") for p in raw.split("-") if p]
            continue
        low = _fold(raw)
        if kind == "word" and low.endswith("'s"):
            low = low[:-2]
        out.append(_Tok(raw, low, kind))
    return out


def _is_negator(tok: _Tok) -> bool:
    return tok.low in _NEGATORS or tok.low.endswith("n't")


def _stem(word: str) -> str:
    """Crude suffix stripping, enough to match "requests" with "request" and "matching" with "match"."""
    for suffix in ("ies", "ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _is_content(tok: _Tok) -> bool:
    return tok.kind != "other" and tok.low not in _STOPWORDS and not _is_negator(tok) and tok.low not in _YES


def _content_stems(toks: list[_Tok]) -> set[str]:
    return {_stem(t.low) for t in toks if _is_content(t)}


# ---------------------------------------------------------------------------------------------
# Values: numbers (with units), dates, times, weekdays and proper names


@dataclass(frozen=True)
class _Value:
    kind: str        # "num" | "date" | "time" | "weekday" | "name" | "ref"
    key: tuple       # num: (number, unit | None); date: (year, month, day), None where unsaid; name: words
    text: str        # as written, for the reason
    start: int       # token span in its clause
    end: int
    negated: bool = False


def _value(kind: str, key: tuple, toks: list[_Tok], start: int, end: int) -> _Value:
    text = " ".join(t.text for t in toks[start:end])
    text = re.sub(r"([€$£±]) | ([%°,])", lambda m: m.group(1) or m.group(2), text)  # "€ 600" -> "€600"
    return _Value(kind, key, text, start, end)


def _number(tok: _Tok) -> float | None:
    return float(re.sub(r"[^\d.]", "", tok.text)) if tok.kind == "num" else None


def _day_at(toks: list[_Tok], k: int) -> int | None:
    n = _number(toks[k]) if k < len(toks) else None
    return int(n) if n is not None and n.is_integer() and 1 <= n <= 31 and "," not in toks[k].text else None


def _year_at(toks: list[_Tok], k: int) -> int | None:
    if k < len(toks) and toks[k].kind == "num" and re.fullmatch(r"[12]\d{3}", toks[k].text):
        return int(toks[k].text)
    return None


def _month_at(toks: list[_Tok], k: int, near_day: bool) -> int | None:
    if k >= len(toks) or toks[k].kind != "word":
        return None
    low = toks[k].low
    if low in _MONTHS:
        # "may" and "march" are also verbs: only capitalised they are months
        return _MONTHS[low] if low not in ("may", "march") or toks[k].text[0].isupper() else None
    return _MONTH_ABBR.get(low) if near_day else None


def _read_date(toks: list[_Tok], i: int) -> tuple[_Value, int] | None:
    tok = toks[i]
    if tok.kind == "iso":
        y, m, d = map(int, tok.text.split("-"))
        return _value("date", (y, m, d), toks, i, i + 1), i + 1
    day = _day_at(toks, i)
    if day is not None:  # "24 December", "the 24th of December 2024"
        k = i + 1 + (i + 1 < len(toks) and toks[i + 1].low == "of")
        month = _month_at(toks, k, near_day=True)
        if month is None:
            return None
        year = _year_at(toks, k + 1)
        end = k + 1 + (year is not None)
        return _value("date", (year, month, day), toks, i, end), end
    month = _month_at(toks, i, near_day=_day_at(toks, i + 1) is not None)
    if month is None:
        return None
    k = i + 1
    day = _day_at(toks, k) if _year_at(toks, k) is None else None  # "March 31" but "March 2024"
    k += day is not None
    if day is not None and k + 1 < len(toks) and toks[k].low == "," and _year_at(toks, k + 1):
        k += 1
    year = _year_at(toks, k)
    k += year is not None
    return _value("date", (year, month, day), toks, i, k), k


def _read_time(toks: list[_Tok], i: int) -> tuple[_Value, int] | None:
    tok, number = toks[i], _number(toks[i])
    nxt = toks[i + 1].low if i + 1 < len(toks) else ""
    if tok.kind == "time":  # "9:30", "22:00"
        hour, minute = map(int, tok.text.split(":"))
    elif number is not None and number.is_integer() and 1 <= number <= 12 and nxt in ("am", "pm"):  # "9 am"
        hour, minute = int(number), 0
    else:
        return None
    end = i + 1
    if nxt in ("am", "pm"):
        hour = hour % 12 + (12 if nxt == "pm" else 0)
        end += 1
    if hour > 24 or minute > 59:
        return None
    return _value("time", ((hour * 60 + minute) % 1440,), toks, i, end), end


def _read_number_words(toks: list[_Tok], i: int) -> tuple[float, int] | None:
    """"twenty five", "two hundred and fifty", "fourth" -> (value, end)."""
    total = current = 0
    j, seen = i, False
    while j < len(toks):
        w = toks[j].low
        if w in _ORDINAL_WORDS:  # an ordinal ends the number: "twenty fifth"
            return total + current + _ORDINAL_WORDS[w], j + 1
        if w in _NUMBER_WORDS:
            current += _NUMBER_WORDS[w]
        elif w == "hundred" and seen:
            current = max(current, 1) * 100
        elif w in _SCALES and seen:
            total, current = total + max(current, 1) * _SCALES[w], 0
        elif w == "and" and seen and toks[j - 1].low in _SCALES and j + 1 < len(toks) \
                and toks[j + 1].low in _NUMBER_WORDS:
            pass
        else:
            break
        seen, j = True, j + 1
    return (total + current, j) if seen else None


def _is_quantity_word(toks: list[_Tok], i: int, end: int, bare: bool) -> bool:
    """"one" and ordinals are often not quantities ("the one in Porto", "First, ...")."""
    word = toks[i].low
    if end - i > 1 or (word != "one" and word not in _ORDINAL_WORDS) or bare:
        return True
    prev = toks[i - 1].low if i else ""
    nxt = toks[end] if end < len(toks) else None
    if word == "one":
        return prev not in _DETERMINERS and not (nxt and nxt.low in ("of", "another"))
    # "the fourth day", "fourth day", "The answer is first." but not "First, ..."
    return prev in _DETERMINERS or nxt is None or (nxt.kind == "word" and nxt.low not in _STOPWORDS)


_TIME_UNITS = frozenset({"second", "minute", "hour", "day", "week", "month", "year"})


def _article_quantity(toks: list[_Tok], i: int) -> bool:
    """"a week", "an hour" mean one, unless a rate follows a quantity ("25 days a year")."""
    if toks[i].low not in ("a", "an") or i + 1 >= len(toks) or _canonical_unit(toks[i + 1].low) not in _TIME_UNITS:
        return False
    return not (i and _canonical_unit(toks[i - 1].low) in _KNOWN_UNITS | _TIME_UNITS)


def _canonical_unit(word: str) -> str:
    if word in _UNIT_ALIASES:
        return _UNIT_ALIASES[word]
    for suffix, repl in (("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("ies", "y"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 1 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def _unit_after(toks: list[_Tok], j: int) -> tuple[str | None, int]:
    unit, end = _unit_word_after(toks, j)
    if unit == "degree" and end < len(toks) and toks[end].low in _SCALE_NAMES:  # "21°C", "21 degrees Celsius"
        return "degree " + _SCALE_NAMES[toks[end].low], end + 1
    return unit, end


_SCALE_NAMES = {"c": "c", "celsius": "c", "f": "f", "fahrenheit": "f"}


def _unit_word_after(toks: list[_Tok], j: int) -> tuple[str | None, int]:
    """The unit written after a number, skipping adjectives ("25 working days") and hyphens ("25-day")."""
    first_noun = None
    for k in range(j, min(j + 4, len(toks))):
        tok = toks[k]
        if tok.text in ("%", "€", "$", "£", "°"):
            return _UNIT_ALIASES[tok.text], k + 1
        if tok.low == "per" and k + 1 < len(toks) and toks[k + 1].low == "cent":
            return "%", k + 2
        if tok.text in ("-", "–"):
            continue
        if tok.kind != "word" or tok.low in _STOPWORDS or (k > j and tok.text[0].isupper()):
            break
        unit = _canonical_unit(tok.low)
        if unit in _KNOWN_UNITS:
            return unit, k + 1
        if (first_noun is None and tok.low not in _MONTHS and _weekday(tok) is None and tok.low not in _NOT_UNITS
                and not tok.low.endswith(("ed", "ing"))):
            first_noun = (unit, k + 1)
    return first_noun if first_noun else (None, j)


def _read_number(toks: list[_Tok], i: int, bare: bool) -> tuple[_Value, int] | None:
    tok = toks[i]
    currency = None
    if tok.text in ("€", "$", "£") or tok.low in ("eur", "usd", "gbp"):  # "€600", "EUR 600"
        if i + 1 >= len(toks) or toks[i + 1].kind != "num":
            return None
        currency, i = _UNIT_ALIASES[tok.low], i + 1
        tok = toks[i]
    if tok.kind == "num":
        number, j = _number(tok), i + 1
    elif _article_quantity(toks, i):  # "lasts a week"
        number, j = 1.0, i + 1
    else:
        words = _read_number_words(toks, i)
        if not words or not _is_quantity_word(toks, i, words[1], bare):
            return None
        number, j = words
    if j < len(toks) and toks[j].low in _SCALES:  # "1.2 million"
        number, j = number * _SCALES[toks[j].low], j + 1
    unit, end = (currency, j) if currency else _unit_after(toks, j)
    if unit in ("eur", "usd", "gbp") and re.fullmatch(r"\d{1,3}(?:\.\d{3})+", tok.text):
        number = float(tok.text.replace(".", ""))  # "€1.200": European thousands, money has no 3 decimals
    start = i - (currency is not None)
    return _value("num", (number, unit), toks, start, end), end


def _weekday(tok: _Tok) -> int | None:
    if tok.text[:1].isupper() and tok.low in _WEEKDAY_ABBR:  # "Tue and Thu"; lowercase "sat" is a verb
        return _WEEKDAY_ABBR[tok.low]
    return _WEEKDAYS.get(tok.low[:-1] if tok.low.endswith("s") else tok.low)  # "Tuesdays" is "Tuesday"


def _read_reference(toks: list[_Tok], i: int) -> tuple[_Value, int] | None:
    """"Article 102", "section 4": a label, compared as such but never a quantity."""
    if toks[i].low in _REFERENCE_WORDS and i + 1 < len(toks) and toks[i + 1].kind == "num":
        return _value("ref", (toks[i].low, _number(toks[i + 1])), toks, i, i + 2), i + 2
    return None


def _read_weekday(toks: list[_Tok], i: int) -> tuple[_Value, int] | None:
    day = _weekday(toks[i])
    return (_value("weekday", (day,), toks, i, i + 1), i + 1) if day is not None else None


def _capitalised(tok: _Tok) -> bool:
    """A word that may be (part of) a name: capitalised, or an identifier such as "welcome2024"."""
    named = tok.text[0].isupper() or any(c.isdigit() for c in tok.text)
    return (tok.kind == "word" and named and tok.low not in _STOPWORDS
            and tok.low not in _NOT_NAMES and tok.low not in _MONTHS and _weekday(tok) is None
            and tok.low not in _NUMBER_LEXICON)


def _read_name(toks: list[_Tok], i: int, bare: bool) -> tuple[_Value, int] | None:
    if not _capitalised(toks[i]):
        return None
    j = i + 1
    while j < len(toks):
        if _capitalised(toks[j]):
            j += 1
        elif toks[j].low in _NAME_JOINERS and j + 1 < len(toks) and _capitalised(toks[j + 1]):
            j += 2
        else:
            break
    # A clause's first word is capitalised anyway: alone, it is a name only in a bare answer
    # ("Lisbon."), as an acronym ("AXA"), or listed with another name ("Concur or Expensify").
    if i == 0 and j == 1 and not bare and not toks[0].text.isupper():
        listed = j + 1 < len(toks) and toks[j].low in ("or", "and", ",", "/") and _capitalised(toks[j + 1])
        if not listed:
            return None
    return _value("name", tuple(t.low for t in toks[i:j]), toks, i, j), j


def _read_values(toks: list[_Tok], bare: bool) -> list[_Value]:
    """Every value in a clause, left to right."""
    values: list[_Value] = []
    i = 0
    while i < len(toks):
        # dates, times and labels first: their numbers ("24 December", "9 am", "section 4") are not quantities
        got = (_read_date(toks, i) or _read_time(toks, i) or _read_reference(toks, i)
               or _read_number(toks, i, bare) or _read_weekday(toks, i) or _read_name(toks, i, bare))
        if got:
            values.append(got[0])
            i = got[1]
        else:
            i += 1
    return [_year_or_number(v) for v in _share_units(values, toks)]


def _share_units(values: list[_Value], toks: list[_Tok]) -> list[_Value]:
    """"15, 20, 25 or 30 days": a list of numbers writes its unit once, after the last one."""
    values = list(values)
    for k in range(len(values) - 2, -1, -1):
        left, right = values[k], values[k + 1]
        between = {t.low for t in toks[left.end:right.start]}
        if (left.kind == right.kind == "num" and left.key[1] is None and right.key[1] is not None
                and between and between <= {",", "or", "and", "to", "-", "–", "/"}):
            values[k] = replace(left, key=(left.key[0], right.key[1]))
    return values


def _year_or_number(v: _Value) -> _Value:
    """A bare four-digit number such as "2016" is a year."""
    if v.kind == "num" and v.key[1] is None and re.fullmatch(r"[12]\d{3}", v.text):
        return replace(v, kind="date", key=(int(v.text), None, None))
    return v


# ---------------------------------------------------------------------------------------------
# Comparing values


def _to_base(number: float, unit: str | None) -> tuple[float, str | None]:
    base, factor = _UNIT_BASE.get(unit or "", (unit, 1))
    return number * factor, base


def _same_number(a: tuple, b: tuple) -> bool:
    (x, u), (y, w) = a, b
    if u is None or w is None:  # "27" states "27 days"
        return math.isclose(x, y)
    (x, u), (y, w) = _to_base(x, u), _to_base(y, w)
    return u == w and math.isclose(x, y)


def _contains(seq: tuple, sub: tuple) -> bool:
    return any(_same_words(seq[k:k + len(sub)], sub) for k in range(len(seq) - len(sub) + 1))


def _states(v: _Value, gold: _Value) -> bool:
    """Does answer value v state gold value `gold` (at least as precisely)?"""
    if gold.kind == "num" and v.kind == "date" and v.key[1:] == (None, None):  # "2000" for "2000 euros"
        return math.isclose(v.key[0], gold.key[0])
    if v.kind != gold.kind:
        return False
    if v.kind == "num":
        return _same_number(v.key, gold.key)
    if v.kind == "date":
        return all(g is None or g == a for a, g in zip(v.key, gold.key))
    if v.kind == "name":
        return _contains(v.key, gold.key)
    return v.key == gold.key


def _same_value(a: _Value, b: _Value) -> bool:
    """Loose equality, used to drop values that the question itself mentions."""
    if a.kind != b.kind:
        return False
    if a.kind == "num":
        return _same_number(a.key, b.key)
    if a.kind == "date":
        return _consistent(a, b) and any(x is not None and y is not None for x, y in zip(a.key, b.key))
    if a.kind == "name":
        return _contains(a.key, b.key) or _contains(b.key, a.key)
    return a.key == b.key


def _competes(v: _Value, golds: list[_Value]) -> bool:
    """Is v another candidate of the gold's kind, i.e. a value that no gold agrees with?"""
    same_kind = [g for g in golds if g.kind == v.kind]
    if v.kind == "num":  # a number in another unit answers something else: "27 days, accrued over 12 months"
        rivals = [g for g in same_kind if v.key[1] is None or g.key[1] is None or v.key[1] == g.key[1]]
        return bool(rivals) and not any(_same_number(v.key, g.key) for g in same_kind)
    if v.kind == "date":  # "2023" neither agrees nor conflicts with "March 15"
        return bool(same_kind) and not any(_consistent(v, g) for g in same_kind)
    return bool(same_kind) and not any(v.key == g.key for g in same_kind)


def _consistent(a: _Value, b: _Value) -> bool:
    """No date field said by both differs."""
    return all(x == y for x, y in zip(a.key, b.key) if x is not None and y is not None)


# ---------------------------------------------------------------------------------------------
# Reading the answer, the question and the golds


@dataclass(frozen=True)
class _Clause:
    text: str
    toks: list[_Tok]
    values: list[_Value]


@dataclass(frozen=True)
class _Reading:
    clauses: list[_Clause]   # what the answer asserts: declining parts removed, hedges stripped
    declined: bool           # some part declines
    grounding: bool          # some part says the documents do not contain the answer
    words: tuple[str, ...]   # the whole answer's words, values kept intact


@dataclass(frozen=True)
class _Question:
    text: str
    stems: frozenset[str]
    values: tuple[_Value, ...]
    kinds: frozenset[str]    # kinds of value that would answer it
    yes_no: bool
    unit: str | None         # "days" in "How many days ...?"


@dataclass(frozen=True)
class _Gold:
    values: tuple[_Value, ...]
    stems: tuple[str, ...]   # content words besides its values ("legal team", "probabilistic machine")
    norm: str                # SQuAD-normalized
    negative: bool           # holds a negation itself ("not equal")
    words: tuple[str, ...]   # its words, values kept intact


_ALL_KINDS = frozenset({"num", "date", "time", "weekday", "name", "ref"})
_QUESTION_KINDS = [
    ("num", r"\bhow\s+(?:many|much|long|often|old|far|big|large|heavy|tall|quickly|accurate)\b"
            r"|\b(?:what|which)\s+(?:percentage|percent|number|amount|share|size|price|cost|fee|budget|limit)\b"),
    ("date", r"\bwhen\b|\b(?:what|which)\s+(?:date|year|month|months)\b|\bby\s+when\b"),
    ("time", r"\bwhen\b|\b(?:what|which)\s+time\b|\bhours\b"),
    ("weekday", r"\bwhen\b|\b(?:what|which)\s+(?:day|days|weekday|weekdays)\b"),
    ("name", r"\bwho(?:m|se)?\b|\bwhere\b|\bname[sd]?\b|\bcalled\b|\b(?:what|which)\s+(?!(?:is|are|was|were|do|does"
             r"|did|has|have|had|can|could|will|would|should|may|must|time|days?|date|year|months?|percentage|number"
             r"|amount)\b)\w+"),
]
_YES_NO_QUESTION = re.compile(r"^\s*(?:is|are|was|were|do|does|did|can|could|will|would|should|shall|has|have|had"
                              r"|may|might|must)\b", re.I)


def _strip_list_markers(text: str) -> str:
    """"1) 25 days", "1. ...\n2. ...", "- ...": a list's numbering is not a value. "N." counts as a marker
    only in a list of several lines, so that a bare "27. That's all." keeps its number."""
    text = re.sub(r"^[ \t]*(?:[-*•]|\d{1,2}\))[ \t]+", "", text, flags=re.M)
    if len(re.findall(r"^[ \t]*\d{1,2}\.[ \t]", text, flags=re.M)) > 1:
        text = re.sub(r"^[ \t]*\d{1,2}\.[ \t]+", "", text, flags=re.M)
    return text


def _prepare(text: str) -> str:
    text = _strip_list_markers(strip_citations(text))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"\b([ap])\.\s?m\.", r"\1m", text, flags=re.I)  # "9 a.m." -> "9 am"
    text = re.sub(r"\b([A-Z])\.\s?(?=[A-Z])", r"\1 ", text)  # initials: "J. R. Smith", "J.K. Rowling"
    # abbreviation dots are not sentence ends
    return re.sub(r"\b(Mr|Mrs|Ms|Dr|Prof|St|approx|e\.g|i\.e|vs)\.", lambda m: m.group(1).replace(".", ""), text)


def _decline_kind(segment: str) -> str | None:
    """"grounding" (the sources lack it), "knowledge" (I don't know) or None."""
    low = segment.lower().strip()
    if not low:
        return None
    if _GROUNDING.search(low):
        return "grounding"
    if _KNOWLEDGE.search(low):
        return "grounding" if _DOCS_RE.search(low) else "knowledge"
    return None


def _remove_phrase(text: str, phrase: str | None) -> tuple[str, bool]:
    """Remove the recipe's abstain phrase; it declines even where no pattern would say so."""
    words = (phrase or "").strip().rstrip(".!").split()
    if not words:
        return text, False
    text, n = re.subn(r"\s+".join(map(re.escape, words)) + r"[.!]?", " ; ", text, flags=re.I)
    return text, n > 0


def _read_answer(answer: str, abstain_phrase: str | None) -> _Reading:
    prepared = _prepare(answer)
    text, declined = _remove_phrase(prepared, abstain_phrase)
    grounding = declined and _decline_kind(abstain_phrase or "") == "grounding"
    clauses = []
    for part in _CLAUSE_BREAK.split(text):
        kept = []
        for segment in _SEGMENT_BREAK.split(part):
            kind = _decline_kind(segment)
            declined |= kind is not None
            grounding |= kind == "grounding"
            if kind is None:
                kept.append(segment)
        body = " ".join(_HEDGES.sub(" ", ",".join(kept)).split())
        toks = _tokenize(body)
        if any(t.kind != "other" for t in toks):
            values = _mark_denied(toks, _read_values(toks, _bare(toks)))
            clauses.append(_Clause(body, toks, values))
    return _Reading(clauses, declined, grounding, _words(_tokenize(prepared)))


def _mark_denied(toks: list[_Tok], values: list[_Value]) -> list[_Value]:
    """Mark the values the clause negates or says were superseded."""
    supersedes = bool(_SUPERSEDE_WORDS & {t.low for t in toks})  # a cheap test first: long answers stay fast
    out = []
    for v in values:
        denied = _negated(toks, v.start, v.end) or (supersedes and _superseded(toks, v.start, v.end))
        out.append(replace(v, negated=True) if denied else v)
    return out


def _words(toks: list[_Tok]) -> tuple[str, ...]:
    """Words and numbers without punctuation or articles; unlike SQuAD's normalize, "1.8" stays "1.8"."""
    return tuple(t.low for t in toks if t.kind != "other" and t.low not in ("a", "an", "the"))


def _bare(toks: list[_Tok]) -> bool:
    """A short answer such as "Lisbon." or "Maria Silva"."""
    return sum(t.kind != "other" for t in toks) <= 3


def _read_question(question: str) -> _Question:
    toks = _tokenize(_prepare(question))
    low = question.lower()
    yes_no = bool(_YES_NO_QUESTION.match(question))
    kinds = frozenset(kind for kind, pattern in _QUESTION_KINDS if re.search(pattern, low))
    if not kinds and not yes_no:  # "What is the Wi-Fi password?" may be answered by anything
        kinds = _ALL_KINDS
    many = next((k + 2 for k in range(len(toks) - 2)
                 if toks[k].low == "how" and toks[k + 1].low in ("many", "much")), None)
    unit = _unit_after(toks, many)[0] if many is not None else None
    return _Question(question, frozenset(_content_stems(toks)), tuple(_read_values(toks, bare=False)), kinds, yes_no,
                     unit)


def _with_units(golds: list[_Gold], q: _Question) -> list[_Gold]:
    """Give a unit-less gold number the unit its variants or the question use: for golds ["27", "27 days"] or
    "How many days ...?", "12 months" is not a competing candidate."""
    by_number = {v.key[0]: v.key[1] for g in golds for v in g.values if v.kind == "num" and v.key[1]}

    def fill(v: _Value) -> _Value:
        if v.kind != "num" or v.key[1] is not None:
            return v
        unit = by_number.get(v.key[0]) or q.unit
        return replace(v, key=(v.key[0], unit)) if unit else v

    return [replace(g, values=tuple(fill(v) for v in g.values)) for g in golds]


def _read_gold(gold: str) -> _Gold:
    toks = _tokenize(_prepare(gold))
    values = _read_values(toks, bare=True)
    stems = tuple(dict.fromkeys(_stem(t.low) for t in _outside(toks, values) if _is_content(t)))
    return _Gold(tuple(values), stems, normalize(gold), _has_negator(toks), _words(toks))


def _outside(toks: list[_Tok], values: list[_Value]) -> list[_Tok]:
    """The tokens that are not part of a value."""
    inside = {k for v in values for k in range(v.start, v.end)}
    return [t for k, t in enumerate(toks) if k not in inside]


# ---------------------------------------------------------------------------------------------
# Negation, claims and gold mentions

# Words between a negator and a value that make it a bound, not a denial: "no more than 5 days".
_NEGATION_BLOCKERS = frozenset({"than", "only", "exceed", "exceeds", "exceeding", "beyond", "later", "earlier",
                                "before", "after", "until", "more", "less", "fewer", "longer", "over", "under",
                                "above", "below", "just"})
_SCOPE_ENDS = frozenset({",", ";", "and", "then", "so", "because", "while", "which", "that"})


def _negated(toks: list[_Tok], start: int, end: int) -> bool:
    """"not Porto", "don't get 27 days", "Porto is not ...", but not "no more than 5 days"."""
    for k in range(start - 1, max(-1, start - 5), -1):
        if toks[k].low in _SCOPE_ENDS or toks[k].low in _NEGATION_BLOCKERS:
            break
        if _is_negator(toks[k]):
            return True
    # only a copula denies the value itself; "Heron does not store passwords" denies something else
    after = [t.low for t in toks[end:end + 3]]
    if after[:1] and after[0] in ("isn't", "wasn't", "aren't", "weren't"):
        return True
    return (len(after) >= 2 and after[0] in ("is", "was", "are", "were")
            and after[1] in ("not", "never") and after[2:3] != ["only"])


_FORMER = frozenset({"formerly", "previously", "former", "ex", "earlier"})
_MOVES = frozenset({"moved", "relocated", "changed", "switched", "transferred", "shifted", "went"})
_SUPERSEDE_WORDS = _FORMER | {"from", "until", "used", "before"}


def _superseded(toks: list[_Tok], start: int, end: int) -> bool:
    """A value said as a former one, which a current one replaced: "formerly X", "moved from X to Y",
    "X was the CFO until 2022", "X led it before", "X used to lead it". It is denied, like a negated value.
    Looks at a few words either side only, so that reading an answer stays linear in its length."""
    before = [t.low for t in toks[max(0, start - 4):start]]
    after = [t.low for t in toks[end:end + 6]]
    if set(before[-3:]) & _FORMER:
        return True
    if before[-1:] == ["from"] and set(before) & _MOVES and {"to", "into"} & set(after):
        return True
    if any(w == "until" and _year_at(toks, end + k + 1) for k, w in enumerate(after)):
        return True
    if any(w == "used" and after[k + 1:k + 2] == ["to"] for k, w in enumerate(after)):
        return True
    words = [w for w in after if w[0].isalnum()]
    past = any(w in ("was", "were") or w.endswith("ed") for w in words)
    clause_end = end + 6 >= len(toks) or toks[end + 6].kind == "other"
    return past and clause_end and bool(words) and words[-1] in ("before", "previously", "formerly", "earlier")


def _spans(toks: list[_Tok], words: tuple) -> list[tuple[int, int]]:
    """Where a gold's words occur in a clause (any case)."""
    lows = tuple(t.low for t in toks)
    n = len(words)
    return [(k, k + n) for k in range(len(lows) - n + 1) if _same_words(lows[k:k + n], words)]


def _same_words(a: tuple, b: tuple) -> bool:
    """Word for word, an initial standing for any word it begins ("J R Smith" is "John R Smith")."""
    return len(a) == len(b) and all(x == y or (min(len(x), len(y)) == 1 and x[0] == y[0]) for x, y in zip(a, b))


def _gold_status(reading: _Reading, gold: _Gold) -> tuple[bool, bool]:
    """(stated, negated): every part of the gold said without negation / some part only said negated."""
    found: list[list[bool]] = []  # per gold part: the negation of each occurrence
    for gv in gold.values:
        if gv.kind == "name":  # by its words, since a name need not be capitalised in the answer
            found.append([_negated(c.toks, s, e) or _superseded(c.toks, s, e)
                          for c in reading.clauses for s, e in _spans(c.toks, gv.key)])
        else:
            found.append([v.negated for c in reading.clauses for v in c.values if _states(v, gv)])
    for stem in gold.stems:
        found.append([_negated(c.toks, k, k + 1) for c in reading.clauses for k, t in enumerate(c.toks)
                      if t.kind != "other" and _stem(t.low) == stem])
    if not found:  # a gold of stopwords only
        text = normalize(" ".join(c.text for c in reading.clauses))
        return bool(gold.norm) and f" {gold.norm} " in f" {text} ", False
    if gold.negative:  # "not equal", "with or without ...": the answer repeats the gold's own negation
        found = [[False] * len(occurrences) for occurrences in found]
    stated = all(any(not n for n in occurrences) for occurrences in found) and _in_order(reading, gold.stems)
    negated = any(occurrences and all(occurrences) for occurrences in found)
    return stated, negated


def _in_order(reading: _Reading, stems: tuple[str, ...]) -> bool:
    """The gold's words appear in the gold's order ("intermediate forwarding nodes")."""
    answer = iter(_stem(t.low) for c in reading.clauses for t in c.toks if t.kind != "other")
    return all(stem in answer for stem in stems)  # `in` consumes the iterator: a subsequence test


def _competitors(reading: _Reading, q: _Question, golds: list[_Gold]) -> list[_Value]:
    """Asserted values of the gold's kind that no gold agrees with (question values excepted), offered as
    answers: in a clause that states the gold, only values in the answer slot before it or coordinated with
    it ("20-25 days", "25 or 27 days") compete, not those qualifying something else ("25 days, plus 2 days
    for volunteering", "founded in 2012 and went public in 2020"); in other clauses, those of a clause about
    what was asked ("...; phones every two years" is a side fact)."""
    gold_values = [v for g in golds for v in g.values]
    kinds = {v.kind for v in gold_values}
    out = []
    for clause in reading.clauses:
        spans = _gold_spans(clause, gold_values)
        if not (spans or _on_topic(clause, q) or _mentions_gold(clause, golds)):
            continue
        if _first_word(clause) in ("or", "either"):  # "Porto. Or maybe Lisbon.": the list goes on
            out += [v for v in clause.values if v.kind == "name" and not _in_question(v, q)
                    and not any(_states(v, g) for g in gold_values)]
        for v in clause.values:
            if (v.kind in kinds - {"name"} and not v.negated and not _in_question(v, q)
                    and _competes(v, gold_values) and (not spans or _offered(clause, v, spans, q))):
                out.append(v)
        if "name" in kinds:
            out += _listed_names(clause, q, [v.key for v in gold_values if v.kind == "name"])
    return out


def _gold_spans(clause: _Clause, gold_values: list[_Value]) -> list[tuple[int, int]]:
    """Where the clause states a gold value."""
    spans = [s for gv in gold_values if gv.kind == "name" for s in _spans(clause.toks, gv.key)]
    spans += [(v.start, v.end) for v in clause.values if not v.negated and any(_states(v, gv) for gv in gold_values)]
    return sorted(spans)


# Words that coordinate values into alternatives or a range.
_ALTERNATIVE_LINKS = frozenset({",", "or", "and", "nor", "/", "to", "-", "–", "until", "till", "either", "between"})
_RANGE_LINKS = frozenset({"to", "-", "–", "until", "till"})
_START_QUESTION = re.compile(r"\b(?:open|opens|start|starts|begin|begins)\b", re.I)
_END_QUESTION = re.compile(r"\b(?:close|closes|end|ends|finish|finishes)\b", re.I)


def _offered(clause: _Clause, v: _Value, spans: list[tuple[int, int]], q: _Question) -> bool:
    """Is v, in a clause that states the gold, offered as another answer: before the gold, or coordinated
    with it through a chain of values? A range's other end is no rival when the question asks for its
    start or its end ("From 9am to 6pm" for "When does the office open?")."""
    if v.start < spans[0][0]:
        return not (_END_QUESTION.search(q.text) and _linked(clause, v.end, spans[0][0]) <= _RANGE_LINKS)
    if _START_QUESTION.search(q.text) and _linked(clause, spans[-1][1], v.start) <= _RANGE_LINKS:
        return False
    items = sorted({(s, e) for s, e in spans} | {(u.start, u.end) for u in clause.values})
    k = items.index((v.start, v.end))
    while k > 0:  # walk back along the chain of coordinated values to a gold mention
        if items[k - 1] in spans:
            return bool(_linked(clause, items[k - 1][1], items[k][0]) <= _ALTERNATIVE_LINKS)
        if not _linked(clause, items[k - 1][1], items[k][0]) <= _ALTERNATIVE_LINKS:
            return False
        k -= 1
    return False


def _linked(clause: _Clause, end: int, start: int) -> frozenset[str]:
    """The words between two values; {"?"} when nothing is between them, which links nothing."""
    between = frozenset(t.low for t in clause.toks[end:start])
    return between or frozenset({"?"})


_LINKS = frozenset({",", "or", "and", "/", "either", "nor", "&", "vs", "versus", "not", "rather", "than", "instead",
                    "of"})
_CONJUNCTIONS = frozenset({"or", "and", "nor", "/", "vs", "versus", "rather", "instead"})


def _listed_names(clause: _Clause, q: _Question, gold_names: list[tuple]) -> list[_Value]:
    """Names offered beside a gold name ("Medivale or Allianz"). Other names in the answer are usually side
    entities (the company, a country, a team), so only names listed with the gold compete; a comma alone is
    an apposition ("Porto, Portugal")."""
    gold_spans = [s for words in gold_names for s in _spans(clause.toks, words)]
    names = [v for v in clause.values if v.kind == "name"
             and not any(s < v.end and v.start < e for s, e in gold_spans)
             and not any(set(v.key) & set(g) for g in gold_names)]
    mentions = sorted([(s, e, None) for s, e in gold_spans] + [(v.start, v.end, v) for v in names],
                      key=lambda m: m[0])
    out: list[_Value] = []
    chain, conjoined = mentions[:1], False
    for prev, cur in zip(mentions, mentions[1:]):
        between = {t.low for t in clause.toks[prev[1]:cur[0]]}
        if between and between <= _LINKS:
            chain.append(cur)
            conjoined |= bool(between & _CONJUNCTIONS)
            continue
        out += _chain_competitors(chain, conjoined, q)
        chain, conjoined = [cur], False
    return out + _chain_competitors(chain, conjoined, q)


def _chain_competitors(chain: list[tuple], conjoined: bool, q: _Question) -> list[_Value]:
    if not conjoined or all(m[2] is not None for m in chain):  # no gold in this list
        return []
    return [m[2] for m in chain if m[2] is not None and not m[2].negated and not _in_question(m[2], q)]


def _first_word(clause: _Clause) -> str:
    return next((t.low for t in clause.toks if t.kind != "other"), "")


def _mentions_gold(clause: _Clause, golds: list[_Gold]) -> bool:
    for gold in golds:
        for gv in gold.values:
            if _spans(clause.toks, gv.key) if gv.kind == "name" else any(_states(v, gv) for v in clause.values):
                return True
        if set(gold.stems) & _content_stems(clause.toks):
            return True
    return False


def _on_topic(clause: _Clause, q: _Question) -> bool:
    """Is the clause about what was asked: only values ("Tuesdays and Fridays"), a yes/no, or sharing a content
    word with the question?"""
    if not q.text.strip() or _first_word(clause) in _YES | _NO | {"or", "either"}:
        return True
    unit = {_stem(q.unit)} if q.unit else set()  # "Up to 5 days can be carried over" is not about leave days
    return not _content_stems(_outside(clause.toks, clause.values)) or bool(_content_stems(clause.toks) & q.stems - unit)


def _in_question(v: _Value, q: _Question) -> bool:
    return any(_same_value(v, qv) for qv in q.values)


def _has_negator(toks: list[_Tok]) -> bool:
    return any(_is_negator(t) for t in toks)


def _is_claim(clause: _Clause, q: _Question, kinds: frozenset[str] | set[str], declined: bool) -> bool:
    """Does this clause (declines removed, hedges stripped) assert an answer?

    Yes when it starts with yes/no, or holds a value of a kind that would answer the question. Otherwise a
    report of what the documents cover ("The documents only mention the Porto office") is not a claim, nor
    is advice ("please contact HR"). Beside a decline, the rest must also look like an answer to count:
    repeat the question's content words and add something (a negation counts), so a side fact that shares
    no content word with the question ("I can't answer, but requests go through the HR portal") is not a
    claim. Without a decline, any other content is an attempt."""
    first = _first_word(clause)
    if not first:
        return False
    if first in _YES | _NO:
        return True
    if _ADVICE.match(clause.text):
        return False
    if any(v.kind in kinds and not _in_question(v, q) for v in clause.values):
        return not (declined and _side_fact(clause, q))
    if _REPORT.match(clause.text):
        return False
    stems = _content_stems(clause.toks)
    if not declined or not q.text.strip():
        return bool(stems or clause.values)
    if not stems & q.stems:
        return False
    return q.yes_no or bool(stems - q.stems) or _has_negator(clause.toks)


def _side_fact(clause: _Clause, q: _Question) -> bool:
    """Beside a decline, a clause with its own subject that shares no content word with the question ("The
    travel policy covers mileage at €0.36/km") tells something else; "It might be Joana" has no subject."""
    stems = _content_stems(_outside(clause.toks, clause.values))
    return bool(q.text.strip() and len(stems) > 1 and not stems & q.stems)  # "try X" is no subject and verb


def _claims(reading: _Reading, q: _Question, kinds: frozenset[str] | set[str]) -> bool:
    return any(_is_claim(c, q, kinds, reading.declined) for c in reading.clauses)


def _stance(reading: _Reading, q: _Question) -> str | None:
    """"yes" / "no": the first explicit yes/no, or for a yes/no question the polarity of the first claim."""
    for clause in reading.clauses:
        words = [t.low for t in clause.toks if t.kind != "other"]
        for word in (words[:1] + words[-1:]) if words else []:  # "Yes, ...", "The answer is yes."
            if word in _YES | _NO:
                return "yes" if word in _YES else "no"
        if q.yes_no and _is_claim(clause, q, q.kinds, reading.declined):
            return "no" if _denies(clause) else "yes"
    return None


def _denies(clause: _Clause) -> bool:
    """A negation of the clause's main predicate. Negators after a comma ("..., no receipts needed",
    "..., no exceptions") or in a "without" phrase ("... without approval") qualify it instead."""
    head = itertools.takewhile(lambda t: t.low not in (",", "—", "–"), clause.toks)
    return any(_is_negator(t) and t.low != "without" for t in head)
