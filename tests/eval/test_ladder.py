import pytest

from adapt.data.suite import Item
from adapt.errors import UserError
from adapt.eval.ladder import parse_bar, recommend, split_items
from adapt.eval.summary import break_even


def _row(name, rung, correct, halluc, p95, usd, one_off=0.0):
    return {"recipe": name, "rung": rung, "correct_rate": correct, "hallucination_rate": halluc,
            "abstain_rate": 1 - correct - halluc, "f1": correct, "em": correct,
            "latency_ms": {"p50": p95 / 2, "p95": p95}, "cost": {"usd_per_1k_queries": usd, "one_off_usd": one_off}}


ROWS = [_row("baseline", "baseline", 0.30, 0.60, 5, 0.0001),
        _row("prompt-local", "prompt", 0.10, 0.80, 900, 0.02),
        _row("rag-local", "rag", 0.65, 0.08, 1500, 0.03, 0.001),
        _row("rag-lora", "rag+lora", 0.80, 0.05, 1600, 0.035, 0.02)]


def test_picks_cheapest_rung_meeting_the_bar():
    v = recommend(ROWS, "correct>=0.6,hallucination<=0.1,p95_ms<=2000,usd_per_1k<=1")
    assert v["recommended"] == "rag-local" and v["meets"]
    assert "rag-local" in v["verdict"]
    v = recommend(ROWS, "correct>=0.75")
    assert v["recommended"] == "rag-lora"


def test_none_meets_names_the_closest_and_why():
    v = recommend(ROWS, "correct>=0.9,hallucination<=0.01")
    assert v["recommended"] is None and v["closest"] == "rag-lora"
    assert "No rung meets the bar" in v["verdict"] and "correct 0.8" in v["verdict"]
    miss = {c["recipe"]: c["misses"] for c in v["checks"]}
    assert any("hallucination" in m for m in miss["baseline"])


def test_bad_bar_is_a_user_error():
    with pytest.raises(UserError, match="unknown metric 'accuracy'"):
        parse_bar("accuracy>=0.5")
    with pytest.raises(UserError, match="cannot read"):
        parse_bar("correct=0.5")


def test_break_even_volume():
    rows = [_row("a", "rag", 0.5, 0.1, 10, usd=0.05, one_off=0.0), _row("b", "rag+lora", 0.5, 0.1, 10, usd=0.03, one_off=2.0)]
    # b pays 2 dollars up front and saves 0.02 per 1k queries: 100k queries to break even
    assert break_even(rows) == [{"from": "a", "to": "b", "queries": 100_000}]


def test_split_is_by_id_and_stratified():
    items = [Item(f"a{i}", "q", ["x"]) for i in range(10)] + [Item(f"u{i}", "q", []) for i in range(4)]
    train, held = split_items(items, 0.5, seed=0)
    assert {i.id for i in train}.isdisjoint({i.id for i in held}) and len(train) + len(held) == 14
    assert sum(not i.answers for i in train) == 2 and sum(not i.answers for i in held) == 2
    assert split_items(list(reversed(items)), 0.5, seed=0)[0] == train  # order does not matter
