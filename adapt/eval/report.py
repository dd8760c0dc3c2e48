"""report.md and a self-contained report.html (inline SVG plots, no network) from a summary."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

from adapt.artifacts import write_text


def _fmt(x: Any, pct: bool = False, digits: int = 3) -> str:
    if x is None:
        return "-"
    if pct:
        return f"{100 * x:.1f}%"
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def table_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["recipe", "rung", "n", "correct", "hallucination", "abstain", "F1", "p50 ms", "p95 ms",
            "TTFT p50 ms", "out tok/s", "hit@k", "$/1k queries", "one-off $"]
    rows = []
    for r in summary["recipes"]:
        ret = r["retrieval"] or {}
        rows.append([r["recipe"], r["rung"], str(r["n"]), _fmt(r["correct_rate"], True),
                     _fmt(r["hallucination_rate"], True), _fmt(r["abstain_rate"], True), _fmt(r["f1"]),
                     _fmt(r["latency_ms"]["p50"], digits=4), _fmt(r["latency_ms"]["p95"], digits=4),
                     _fmt(r["ttft_ms"]["p50"], digits=4), _fmt(r["output_tokens_per_s"]),
                     _fmt(ret.get("hit@k"), True), _fmt(r["cost"]["usd_per_1k_queries"], digits=3),
                     _fmt(r["cost"]["one_off_usd"], digits=3)])
    return head, rows


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _verdict_md(ladder: dict[str, Any] | None) -> str:
    if not ladder:
        return ""
    lines = ["## Recommendation", "", ladder["verdict"], "", f"Bar: `{ladder['bar']}`", ""]
    for r in ladder["checks"]:
        lines.append(f"- **{r['recipe']}** ({r['rung']}): " + ("meets the bar" if r["meets"] else
                     "misses: " + "; ".join(r["misses"])))
    if ladder.get("skipped"):
        lines += ["", "Skipped rungs:"] + [f"- {k}: {v}" for k, v in ladder["skipped"].items()]
    return "\n".join(lines) + "\n\n"


def write_reports(out: Path, summary: dict[str, Any], records: list[dict[str, Any]],
                  ladder: dict[str, Any] | None = None) -> None:
    head, rows = table_rows(summary)
    defs = "\n".join(f"- **{k}**: {v}" for k, v in summary["definitions"].items())
    be = "\n".join(f"- {b['to']} costs less than {b['from']} in total after {b['queries']:,} queries"
                   for b in summary["break_even"]) or "- no rung trades a one-off cost for cheaper queries here"
    md = (f"# adapt evaluation: {summary['suite']}\n\n" + _verdict_md(ladder)
          + "## Rungs\n\n" + markdown_table(head, rows) + "\n\n## Break-even\n\n" + be
          + "\n\n## Definitions\n\n" + defs + "\n\nPer-item answers: `items.jsonl` and `report.html`.\n")
    write_text(out / "report.md", md)
    write_text(out / "report.html", _html(summary, records, head, rows, ladder, be))


def _plots(summary: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = summary["recipes"]
    names = [r["recipe"] for r in rows]
    svgs = []

    def svg(fig: Any) -> str:
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight",
                    metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
        plt.close(fig)
        text = buf.getvalue()
        return text[text.index("<svg"):]

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for r in rows:
        x = r["cost"]["usd_per_1k_queries"]
        if x is not None:
            ax.scatter(x, r["correct_rate"], s=60)
            ax.annotate(r["recipe"], (x, r["correct_rate"]), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel("$ per 1k queries")
    ax.set_ylabel("correct rate")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("Quality against cost")
    ax.grid(alpha=0.3)
    svgs.append(svg(fig))

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    parts = [("correct_rate", "correct", "#2e7d32"), ("abstain_rate", "abstained", "#9e9e9e"),
             ("hallucination_rate", "incorrect (hallucination)", "#c62828")]
    bottom = [0.0] * len(rows)
    for key, label, color in parts:
        vals = [r[key] for r in rows]
        ax.bar(names, vals, bottom=bottom, label=label, color=color)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("share of items")
    ax.set_title("Outcomes per rung")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3, frameon=False)
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    svgs.append(svg(fig))

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    data = [[x["latency_ms"] for x in records if x["recipe"] == n] for n in names]
    ax.boxplot(data, tick_labels=names, showfliers=True)
    ax.set_ylabel("latency per item (ms)")
    ax.set_yscale("log")
    ax.set_title("Latency distribution")
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    svgs.append(svg(fig))
    return svgs


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.plots{display:flex;flex-wrap:wrap;gap:1em}.plots>div{width:380px}.plots svg{width:100%;height:auto}
.correct{color:#2e7d32}.incorrect{color:#c62828}.abstained{color:#777}.verdict{font-size:1.15em;padding:.8em;background:#eef5ee;border-left:4px solid #2e7d32}
.verdict.miss{background:#fdf3e6;border-left-color:#e08a00}
details{margin:.5em 0}summary{cursor:pointer;font-weight:600}"""


def _html(summary: dict[str, Any], records: list[dict[str, Any]], head: list[str], rows: list[list[str]],
          ladder: dict[str, Any] | None, be: str) -> str:
    e = html.escape
    table = "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>"
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>adapt: {e(summary['suite'])}</title>"
             f"<style>{_CSS}</style></head><body><h1>adapt evaluation: {e(summary['suite'])}</h1>"]
    if ladder:
        parts.append(f"<p class='verdict{'' if ladder['meets'] else ' miss'}'>{e(ladder['verdict'])}</p><p>Bar: <code>{e(ladder['bar'])}</code></p><ul>")
        for c in ladder["checks"]:
            parts.append(f"<li><b>{e(c['recipe'])}</b> ({e(c['rung'])}): " +
                         ("meets the bar" if c["meets"] else "misses: " + e("; ".join(c["misses"]))) + "</li>")
        parts.append("</ul>")
        if ladder.get("skipped"):
            parts.append("<p>Skipped rungs: " + "; ".join(f"{e(k)}: {e(v)}" for k, v in ladder["skipped"].items()) + "</p>")
    parts.append("<h2>Rungs</h2>" + table)
    parts.append("<div class='plots'>" + "".join(f"<div>{s}</div>" for s in _plots(summary, records)) + "</div>")
    parts.append("<h2>Break-even</h2><ul>" + "".join(f"<li>{e(x[2:])}</li>" for x in be.splitlines()) + "</ul>")
    parts.append("<h2>Definitions</h2><ul>" + "".join(
        f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in summary["definitions"].items()) + "</ul>")
    parts.append("<h2>Per item</h2>")
    for r in summary["recipes"]:
        recs = [x for x in records if x["recipe"] == r["recipe"]]
        parts.append(f"<details><summary>{e(r['recipe'])} ({len(recs)} items)</summary><table>"
                     "<tr><th>id</th><th>question</th><th>gold</th><th>answer</th><th>grade</th><th>sources</th>"
                     "<th>ms</th></tr>")
        for x in recs:
            parts.append(f"<tr><td>{e(x['id'])}</td><td>{e(x['question'])}</td>"
                         f"<td>{e(' | '.join(x['gold']) or '(unanswerable)')}</td><td>{e(x['answer'])}</td>"
                         f"<td class='{x['grade']}'>{x['grade']}</td><td>{e(', '.join(x['sources'][:3]))}</td>"
                         f"<td>{x['latency_ms']:.0f}</td></tr>")
        parts.append("</table></details>")
    parts.append("</body></html>")
    return "".join(parts)
