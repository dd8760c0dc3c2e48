import re
from pathlib import Path

import pytest

from adapt.eval import registry
from adapt.eval.registry import fmt_interval, fmt_usd, fmt_value

PACKAGE = Path(registry.__file__).resolve().parents[1]


def test_every_metric_is_declared_once_with_a_definition():
    keys = [m.key for m in registry.METRICS]
    bars = [m.bar for m in registry.METRICS if m.bar]
    assert len(keys) == len(set(keys)) and len(bars) == len(set(bars))
    for m in registry.METRICS:
        assert m.definition and m.label and m.kind in ("rate", "score", "pct", "ms", "per_s", "usd", "count")
        assert m.better in ("higher", "lower", None)


def test_no_metric_name_is_written_outside_the_registry():
    """Summary, report, ladder, terminal table and MLflow read the registry; none spells a metric's name."""
    names = {m.key for m in registry.METRICS} | {m.bar for m in registry.METRICS if m.bar}
    # 'em' and 'f1' are also per-item record fields, and 'correct' is also a grade label
    names -= {"em", "f1", "correct"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "registry.py":
            continue
        text = path.read_text()
        for name in names:
            if re.search(rf"[\"']{re.escape(name)}[\"']", text):
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []


@pytest.mark.parametrize("kind, value, text", [
    ("rate", 0.3043, "30 %"), ("ms", 12080.4, "12.1 s"), ("ms", 850.4, "850 ms"), ("ms", 0.33, "<1 ms"),
    ("usd", 5e-06, "$0.0000050"), ("usd", 0.0129, "$0.013"), ("usd", 0.0285, "$0.029"), ("usd", 1234.5, "$1,200"),
    ("usd", 0.0, "$0"), ("usd", 1.5, "$1.5"), ("usd", 12.35, "$12"), ("ms", 999.6, "1.0 s"), ("per_s", 3.456, "3.5"), ("pct", 41.666, "41.7 %"), ("rate", None, "-"),
])
def test_numbers_for_people(kind, value, text):
    assert fmt_value(kind, value) == text
    assert "e-" not in fmt_value(kind, value) and "e+" not in fmt_value(kind, value)


def test_intervals_are_shown_in_the_metrics_unit():
    assert fmt_interval("rate", (0.153, 0.512)) == "[15–51]"
    assert fmt_interval("ms", (900.0, 1500.0)) == "[900 ms–1.5 s]"
    assert fmt_usd(0.000123) == "$0.00012"
