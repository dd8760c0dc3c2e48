"""report.md and a self-contained report.html (inline SVG plots, no network) from a summary.

Columns come from the metric registry; numbers are written for people: percentages with their 95 %
interval, whole milliseconds or seconds, dollars to two significant digits.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

from adapt.artifacts import write_text
from adapt.eval import registry
from adapt.eval.records import ItemRecord, SummaryRow, Timing, rows_of


def _shown(rows: list[SummaryRow], terminal: bool = False) -> list[registry.Metric]:
    """The metrics measured for at least one row (all of them, or the terminal's few)."""
    return [m for m in registry.METRICS if (m.terminal or not terminal)
            and any(registry.get(r, m.key) is not None for r in rows)]


def _latency_basis(row: SummaryRow) -> str:
    t = row.timed
    if not t.n:
        return "-"
    return f"n={t.n}, concurrency {t.concurrency}, batch {t.batch_size}"


def table_rows(summary: dict[str, Any], ladder: dict[str, Any] | None = None,
               terminal: bool = False) -> tuple[list[str], list[list[str]]]:
    """The rungs table of a summary (as evaluate() returns it): a header and one row of cells per recipe."""
    recipes = rows_of(summary)
    metrics = _shown(recipes, terminal)
    verdicts = {c["recipe"]: c for c in (ladder or {}).get("checks", [])}
    head = ["recipe", "rung", "n"] + [registry.header(m) for m in metrics]
    if not terminal:
        head.append("latency measured on")
    if verdicts:
        head.append("verdict")
    rows = []
    for r in recipes:
        cells = [r.recipe, r.rung, str(r.n)] + [registry.fmt_cell(m, r) for m in metrics]
        if not terminal:
            cells.append(_latency_basis(r))
        if verdicts:
            cells.append(_verdict_cell(verdicts.get(r.recipe)))
        rows.append(cells)
    return head, rows


def _verdict_cell(c: dict[str, Any] | None) -> str:

    if c is None:
        return "-"
    hint = what_decides(c) if c["verdict"] == "inconclusive" else ""
    return f"{c['verdict']} ({hint})" if hint else c["verdict"]


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _comparisons(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["A", "B", "grade", "items", "only A", "only B", "exact McNemar p"]
    rows = [[c["a"], c["b"], c["grade"], str(c["n"]), str(c["a_only"]), str(c["b_only"]),
             "<0.001" if c["p"] < 0.001 else f"{c['p']:.3f}"] for c in summary.get("comparisons", [])]
    return head, rows


def _verdict_md(ladder: dict[str, Any] | None) -> str:
    if not ladder:
        return ""
    lines = ["## Recommendation", "", ladder["verdict"], "", f"Bar: `{ladder['bar']}` (a rung meets it when every "
             "95 % interval lies on the right side of its threshold)", ""]
    if ladder.get("warning"):
        lines += [f"**Warning:** {ladder['warning']}", ""]
    for c in ladder["checks"]:
        lines.append(f"- **{c['recipe']}** ({c['rung']}): {_verdict_cell(c)}: "
                     + "; ".join(f"{x['text']} {x['status']}" for x in c["conditions"]))
    return "\n".join(lines) + "\n\n"


def write_reports(out: Path, summary: dict[str, Any], records: list[ItemRecord],
                  timings: list[Timing], ladder: dict[str, Any] | None = None) -> None:
    head, rows = table_rows(summary, ladder)
    chead, crows = _comparisons(summary)
    defs = "\n".join(f"- **{k}**: {v}" for k, v in summary["definitions"].items())
    be = "\n".join(f"- {b['to']} costs less than {b['from']} in total after {b['queries']:,} queries"
                   for b in summary["break_even"]) or "- no rung trades a one-off cost for cheaper queries here"
    notes = "".join(f"- {n}\n" for n in summary.get("notes", []))
    synth = synthetic(summary.get("synth"))
    md = (f"# adapt evaluation: {summary['suite']}\n\n" + _verdict_md(ladder)
          + (f"## Synthetic suite\n\n{synth}\n\n" if synth else "")
          + "## Rungs\n\n" + markdown_table(head, rows)
          + "\n\nRates are shown with their 95 % Wilson interval, latency and F1 with a bootstrap interval. "
          + "Latency is per request at concurrency 1 after a warm-up batch; throughput is at the recipe's batch size.\n"
          + (f"\n## Notes\n\n{notes}" if notes else "")
          + ("\n## Rung against rung\n\n" + markdown_table(chead, crows) if crows else "")
          + "\n\n## Break-even\n\n" + be + "\n\n## Grading\n\n" + summary["grading"]
          + "\n\n## Definitions\n\n" + defs + "\n\nPer-item answers: `items.jsonl` and `report.html`.\n")
    write_text(out / "report.md", md)
    write_text(out / "report.html", _html(summary, records, timings, head, rows, chead, crows, ladder, be))


def synthetic(stats: dict[str, Any] | None) -> str:
    """How a synthetic suite was made (synth.json), in a paragraph: it is no hand-written suite, and says so."""
    if not stats:
        return ""
    su, tr = stats["suite"], stats["train"]
    rejected = ", ".join(f"{k} {v}" for k, v in stats["rejected"].items() if v) or "none"
    aside = ", ".join(stats["set_aside"]) or "none"
    return (f"This suite is synthetic: `adapt data synth` generated it from the documents in {stats['docs']} "
            f"with the generator recipe {stats['generator']['recipe']} (seed {stats['seed']}), not people. It "
            f"kept {stats['kept']} of {stats['generated']} generated questions (rejected: {rejected}): "
            f"{su['items']} eval items ({su['unanswerable']} unanswerable, asked of documents set aside from the "
            f"index: {aside}; {su['hard']} hard, whose question does not retrieve a passage holding its answer) and "
            f"{tr['rows']} training rows from other chunks. Its rates measure the rungs on questions a model "
            "wrote; check them against real questions before betting on them.")


def _svg(fig: Any) -> str:
    """A matplotlib figure as inline SVG without timestamps, so that a report is reproducible."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def calibration_plot(curve: list[dict[str, Any]], chosen: float | None) -> str:
    """What each retrieval-gate threshold gives on the calibration items (calibrate.Outcome as dicts),
    the chosen one marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    points = sorted((o for o in curve if o["min_score"] is not None), key=lambda o: o["min_score"])
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    xs = [o["min_score"] for o in points]
    for label, color in (("correct", "#2e7d32"), ("hallucinated", "#c62828"), ("abstained", "#777")):
        ax.plot(xs, [o[label] for o in points], label=label, color=color)
    if chosen is not None:
        ax.axvline(chosen, color="#333", linestyle="--", linewidth=1, label="chosen min_score")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: registry.fmt_value("rate", v)))
    ax.set_xlabel("min_score (best passage's cosine similarity)")
    ax.set_ylabel("share of calibration items")
    ax.set_title("Retrieval gate")
    ax.legend(fontsize=7)
    return _svg(fig)


def _plots(rows: list[SummaryRow], timings: list[Timing]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    names = [r.recipe for r in rows]
    correct, cost = registry.CORRECT_RATE, registry.PRICE
    svgs = []
    svg = _svg

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for r in rows:
        x, y = registry.get(r, cost.key), registry.get(r, correct.key)
        if x is not None and y is not None:
            lo, hi = r.intervals.get(correct.key, (y, y))
            ax.errorbar([x], [y], yerr=[[y - lo], [hi - y]], fmt="o", capsize=3)
            ax.annotate(r.recipe, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: registry.fmt_usd(v) if v >= 0 else ""))
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    ax.set_xlabel("per 1k queries")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: registry.fmt_value("rate", v)))
    ax.set_ylabel("correct (95 % interval)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("Quality against cost")
    ax.grid(alpha=0.3)
    svgs.append(svg(fig))

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    parts = [(registry.CORRECT_RATE, "correct", "#2e7d32"), (registry.ABSTAIN_RATE, "abstained", "#9e9e9e"),
             (registry.HALLUCINATION_RATE, "incorrect (hallucination)", "#c62828")]
    bottom = [0.0] * len(rows)
    for metric, label, color in parts:
        vals = [registry.get(r, metric.key) or 0.0 for r in rows]
        ax.bar(names, vals, bottom=bottom, label=label, color=color)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: registry.fmt_value("rate", v)))
    ax.set_ylabel("share of items")
    ax.set_title("Outcomes per rung")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3, frameon=False)
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    svgs.append(svg(fig))

    data = [[t.latency_ms for t in timings if t.recipe == n] for n in names]
    if any(data):
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        ax.boxplot([d or [float("nan")] for d in data], tick_labels=names, showfliers=True)
        ax.set_ylabel("per request, concurrency 1")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: registry.fmt_value("ms", v)))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.set_title("Latency distribution")
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
        svgs.append(svg(fig))
    return svgs


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.plots{display:flex;flex-wrap:wrap;gap:1em}.plots>div{width:380px}.plots svg{width:100%;height:auto}
.correct{color:#2e7d32}.incorrect{color:#c62828}.abstained{color:#777}.verdict{font-size:1.15em;padding:.8em;background:#eef5ee;border-left:4px solid #2e7d32}
.verdict.miss{background:#fdf3e6;border-left-color:#e08a00}.warn{color:#9a5b00}
details{margin:.5em 0}summary{cursor:pointer;font-weight:600}"""


def _table(head: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    return "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>"


def _calibrations(calibrations: dict[str, dict[str, Any]]) -> str:
    """How the ladder chose each guard, on its training half."""
    e = html.escape
    parts = []
    for name, cal in calibrations.items():
        before, after = cal["before"], cal["after"]
        change = ", ".join(f"{k} {before[k]:.0%} → {after[k]:.0%}" for k in ("correct", "hallucinated", "abstained"))
        parts.append(f"<h3>{e(name)}</h3><p>Calibrated on {cal['n']} training items ({e(cal['objective'])}): "
                     f"<code>{e(json.dumps(cal['guard']))}</code>. On those items: {change}.</p>"
                     f"<div class='plots'><div>{calibration_plot(cal['curve'], after['min_score'])}</div></div>")
    return "<h2>Guard calibration</h2>" + "".join(parts) if parts else ""


def _grounding(records: list[ItemRecord]) -> str:
    """Answers the passages do not support, and what a guard stopped, next to the passages they had."""
    shown = [x for x in records if x.supported is False or x.guard in ("gated", "unsupported")]
    if not shown:
        return ""
    e = html.escape
    parts = ["<h2>Unsupported answers and what the guard stopped</h2><p>Each with the passages it was given. "
             "<i>gated</i>: the best passage was too far from the question, so the model was not called; "
             "<i>unsupported</i>: the support check replaced the answer with the abstain phrase.</p>"]
    for name in dict.fromkeys(x.recipe for x in shown):
        mine = [x for x in shown if x.recipe == name]
        parts.append(f"<details><summary>{e(name)} ({len(mine)} answers)</summary><table><tr><th>id</th>"
                     "<th>question</th><th>gold</th><th>answer</th><th>guard</th><th>why</th><th>passages</th></tr>")
        for x in mine:
            said = x.raw_answer if x.raw_answer is not None else x.answer
            sim = f" (best similarity {x.similarity:.2f})" if x.similarity is not None else ""
            passages = "".join(f"<p><b>[{n}] {e(c)}</b><br>{e(t)}</p>"
                               for n, (c, t) in enumerate(zip(x.citations or x.sources, x.passages or []), 1))
            parts.append(f"<tr><td>{e(x.id)}</td><td>{e(x.question)}</td><td>{e(' | '.join(x.gold) or '(unanswerable)')}"
                         f"</td><td>{e(said)}</td><td>{e(x.guard or '-')}</td>"
                         f"<td>{e((x.support_reason or '') + sim)}</td><td>{passages}</td></tr>")
        parts.append("</table></details>")
    return "".join(parts)


def _html(summary: dict[str, Any], records: list[ItemRecord], timings: list[Timing], head: list[str],
          rows: list[list[str]], chead: list[str], crows: list[list[str]], ladder: dict[str, Any] | None,
          be: str) -> str:
    e = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>adapt: {e(summary['suite'])}</title>"
             f"<style>{_CSS}</style></head><body><h1>adapt evaluation: {e(summary['suite'])}</h1>"]
    if ladder:
        parts.append(f"<p class='verdict{'' if ladder['meets'] else ' miss'}'>{e(ladder['verdict'])}</p>"
                     f"<p>Bar: <code>{e(ladder['bar'])}</code>: a rung meets it when every 95 % interval lies on "
                     "the right side of its threshold.</p>")
        if ladder.get("warning"):
            parts.append(f"<p class='warn'><b>Warning:</b> {e(ladder['warning'])}</p>")
        parts.append("<ul>")
        for c in ladder["checks"]:
            parts.append(f"<li><b>{e(c['recipe'])}</b> ({e(c['rung'])}): {e(_verdict_cell(c))}: "
                         + e("; ".join(f"{x['text']} {x['status']}" for x in c["conditions"])) + "</li>")
        parts.append("</ul>")
    if summary.get("synth"):
        parts.append(f"<h2>Synthetic suite</h2><p>{e(synthetic(summary['synth']))}</p>")
    parts.append("<h2>Rungs</h2>" + _table(head, rows) + "<p>Rates with their 95 % Wilson interval; latency and F1 "
                 "with a bootstrap interval. Latency is per request at concurrency 1 after a warm-up batch; "
                 "throughput is at the recipe's batch size.</p>")
    if summary.get("notes"):
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in summary["notes"]) + "</ul>")
    recipes = rows_of(summary)
    parts.append("<div class='plots'>" + "".join(f"<div>{s}</div>" for s in _plots(recipes, timings)) + "</div>")
    if crows:
        parts.append("<h2>Rung against rung</h2><p>Exact McNemar tests on the items both rungs answered: a small p "
                     "means the difference in that grade is unlikely to be chance.</p>" + _table(chead, crows))
    parts.append("<h2>Break-even</h2><ul>" + "".join(f"<li>{e(x[2:])}</li>" for x in be.splitlines()) + "</ul>")
    parts.append(f"<h2>Grading</h2><p>{e(summary['grading'])}</p>")
    parts.append("<h2>Definitions</h2><ul>" + "".join(
        f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in summary["definitions"].items()) + "</ul>")
    parts.append(_calibrations(summary.get("calibrations") or {}))
    parts.append(_grounding(records))
    parts.append("<h2>Per item</h2>")
    for r in recipes:
        recs = [x for x in records if x.recipe == r.recipe]
        judged = any(x.lexical_grade is not None for x in recs)
        parts.append(f"<details><summary>{e(r.recipe)} ({len(recs)} items)</summary><table>"
                     "<tr><th>id</th><th>question</th><th>gold</th><th>answer</th><th>grade</th><th>why</th>"
                     + ("<th>lexical grade</th>" if judged else "") + "<th>sources</th></tr>")
        for x in recs:
            parts.append(f"<tr><td>{e(x.id)}</td><td>{e(x.question)}</td>"
                         f"<td>{e(' | '.join(x.gold) or '(unanswerable)')}</td><td>{e(x.answer)}</td>"
                         f"<td class='{e(x.grade)}'>{e(x.grade)}</td><td>{e(x.reason)}</td>"
                         + (f"<td>{e(x.lexical_grade or '-')}</td>" if judged else "")
                         + f"<td>{e('; '.join((x.citations or x.sources)[:3]))}</td></tr>")
        parts.append("</table></details>")
    parts.append("</body></html>")
    return "".join(parts)


def what_decides(c: dict[str, Any]) -> str:
    """'about 464 items, 72 timed requests': the suite size and timing that would decide a rung."""
    parts = []
    if c.get("needed_n"):
        parts.append(f"about {c['needed_n']:,} items")
    if c.get("needed_timed"):
        parts.append(f"{c['needed_timed']:,} timed requests (--latency-items)")
    return ", ".join(parts)
