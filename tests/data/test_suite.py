"""Suites round-trip through write_suite / load_suite, whatever their text holds."""

from adapt.data.suite import Item, load_suite, split_items, write_suite


def test_a_suite_written_is_a_suite_read_even_with_line_separators(tmp_path):
    items = [Item("a", "Line\u2028separated?", ["x\u2029y"]), Item("b", "Next\u0085line", []),
             Item("c", "plain", ["z"], source="doc.md", context="ctx")]
    write_suite(items, tmp_path / "s.jsonl")
    assert load_suite(tmp_path / "s.jsonl") == items


def test_split_keeps_unanswerable_items_on_both_sides():
    items = [Item(str(i), "q", ["a"] if i % 3 else []) for i in range(30)]
    train, held = split_items(items, 0.5)
    assert len(train) == len(held) == 15 and sum(not i.answers for i in held) == 5
