"""Loader benchmark: load_file speed per document format, and whether a table row can be retrieved.

    python scripts/bench_loaders.py [--files 8] [--rows 30] [--questions 100] [--repeat 3]

Writes a synthetic corpus into a temp dir with scripts/docgen.py: for each format (docx, pptx, xlsx,
csv, pdf, html, md) `--files` files, each a paragraph of prose (not in CSV) and a table of `--rows`
(key, value) rows under a two-column header; every key and value in the corpus is distinct. File i of every format
uses the same columns, so the formats differ only in how the table is stored. Per format it reports

- files/s and pages/s (slides, sheets) for load_file alone, best of `--repeat` passes;
- the chunks that `adapt rag build` makes of them (one index over the whole corpus, default embedder);
- rows_whole / rows_with_header: the share of rows that some chunk holds whole (key and value), and
  whole under its column header: what the loader and chunker keep together, before any retrieval;
- row_recall@3: the share of table-row questions ("What is the <column> of <key>?") where one of the
  top-3 hybrid hits holds both the row's key and its value (bm25_row_recall@3: the same in BM25).

The baseline is md: the same table written as one plain Markdown table, its header row once, the
way a person would write it. Decks spread a table over slides of 12 rows (each with the header, as
people make them), PDFs over pages (header once, as text lines).

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import os
import random
import shutil
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from docgen import Page, Slide, write_docx, write_pdf, write_pptx, write_xlsx

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FORMATS = ["md", "html", "csv", "docx", "pptx", "xlsx", "pdf"]  # md first: the baseline
UNIT = {"pdf": "page", "pptx": "slide", "xlsx": "sheet"}  # the formats whose loader cuts them in units
SLIDE_ROWS = 12  # table rows per slide
PAGE_LINES = 38  # text lines on a PDF page below its heading

# (title, key column, value column): file i of every format uses COLUMNS[i % len(COLUMNS)]
COLUMNS = [("Project budgets", "Project", "Budget code"), ("Sensor register", "Sensor", "Serial number"),
           ("Vineyard contracts", "Vineyard", "Contract number"), ("Parts catalogue", "Part", "Order code"),
           ("Room bookings", "Room", "Booking reference"), ("Delivery routes", "Route", "Route number")]
NOUNS = ["badger", "beacon", "birch", "brook", "canyon", "cedar", "comet", "condor", "crane", "delta", "falcon",
         "fern", "glacier", "grove", "harbor", "heron", "lantern", "maple", "orchid", "osprey", "otter", "raven"]
FILLER = ["Entries are checked by the operations team at the end of every quarter.",
          "Ask the owner of the register before you change a row.",
          "Rows that are no longer in use are kept for two years and then archived.",
          "The register is exported every night so that the reporting tools see the latest values.",
          "New rows are added through the usual request form on the intranet.",
          "Values are unique: no two rows share one."]


@dataclass
class Table:
    title: str
    key_col: str
    value_col: str
    prose: str
    rows: list[tuple[str, str]]

    @property
    def grid(self) -> list[list[str]]:
        return [[self.key_col, self.value_col], *map(list, self.rows)]


def make_tables(n_files: int, n_rows: int, words: list[str], rng: random.Random) -> dict[str, list[Table]]:
    """Per format, n_files tables of n_rows rows; keys and values are distinct across all of them.
    A key is a word of its own (from `words`) and one of a few shared nouns: findable by name, as real
    keys are, with lexical near misses."""
    n = len(FORMATS) * n_files * n_rows
    used = {w.lower() for text in [*FILLER, *NOUNS, *(" ".join(c) for c in COLUMNS)] for w in text.split()}
    words = [w for w in words if w not in used]
    if n > len(words):
        sys.exit(f"{n} rows need {n} distinct key words; there are {len(words)}: ask for fewer --files or --rows")
    keys = [f"{w.title()} {rng.choice(NOUNS).title()}" for w in rng.sample(words, n)]
    values = [str(v) for v in rng.sample(range(100_000, 1_000_000), n)]
    out: dict[str, list[Table]] = {}
    it = iter(zip(keys, values))
    for fmt in FORMATS:
        out[fmt] = []
        for i in range(n_files):
            title, key_col, value_col = COLUMNS[i % len(COLUMNS)]
            prose = f"This register lists the {value_col.lower()} of every {key_col.lower()}. " + \
                " ".join(rng.sample(FILLER, 3))
            out[fmt].append(Table(title, key_col, value_col, prose, [next(it) for _ in range(n_rows)]))
    return out


def write(fmt: str, t: Table, path: Path) -> int:
    """Write `t` as a `fmt` file at `path`; returns its pages, slides or sheets (1 for other formats)."""
    if fmt == "md":
        lines = [f"# {t.title}", "", t.prose, "", f"| {t.key_col} | {t.value_col} |", "| --- | --- |",
                 *(f"| {k} | {v} |" for k, v in t.rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "html":
        rows = ["".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)
                for tag, row in zip(["th"] + ["td"] * len(t.rows), t.grid)]
        body = "".join(f"<tr>{r}</tr>" for r in rows)
        path.write_text(f"<html><head><title>{t.title}</title></head><body><h1>{t.title}</h1>"
                        f"<p>{t.prose}</p><table>{body}</table></body></html>", encoding="utf-8")
    elif fmt == "csv":  # a CSV holds the table only
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(t.grid)
        path.write_text(buf.getvalue(), encoding="utf-8")
    elif fmt == "docx":
        write_docx(path, [("title", t.title), ("p", t.prose), ("table", t.grid)], title=t.title)
    elif fmt == "pptx":
        slides = [Slide(t.title, textwrap.wrap(t.prose, 90))]
        for i in range(0, len(t.rows), SLIDE_ROWS):
            rows = t.grid[1 + i:1 + i + SLIDE_ROWS]
            slides.append(Slide(f"{t.title} ({i // SLIDE_ROWS + 1})", table=[t.grid[0], *rows]))
        write_pptx(path, slides, title=t.title)
        return len(slides)
    elif fmt == "xlsx":
        write_xlsx(path, {t.title: t.grid, "About": [["About"], [t.prose]]}, title=t.title)
        return 2
    elif fmt == "pdf":
        lines: list = [*textwrap.wrap(t.prose, 85), "", *t.grid]
        pages = [Page(t.title if i == 0 else f"{t.title} (continued)", lines[i:i + PAGE_LINES])
                 for i in range(0, len(lines), PAGE_LINES)]
        write_pdf(path, pages, title=t.title)
        return len(pages)
    else:
        raise ValueError(fmt)
    return 1


def time_loads(paths: list[Path], repeat: int) -> float:
    """Best wall time of `repeat` passes of load_file over `paths` (after one warm-up load)."""
    from adapt.rag.loaders import load_file

    load_file(paths[0], paths[0].name)  # imports the format's library
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for p in paths:
            load_file(p, p.name)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=8, help="files per format [default: 8]")
    ap.add_argument("--rows", type=int, default=30, help="table rows per file [default: 30]")
    ap.add_argument("--questions", type=int, default=100, help="table-row questions per format [default: 100]")
    ap.add_argument("--repeat", type=int, default=3, help="load_file passes to time, best kept [default: 3]")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from adapt.models import DEFAULT_EMBEDDER, load_embedder
    from adapt.rag.index import Index, build_index

    t_start = time.perf_counter()
    model = load_embedder(DEFAULT_EMBEDDER, dev="cpu")
    # key words: whole words of the embedder's vocabulary, so dense retrieval has something to go on
    vocab = sorted(w for w in model.tokenizer.get_vocab() if w.isascii() and w.isalpha() and len(w) >= 5)
    rng = random.Random(args.seed)
    tables = make_tables(args.files, args.rows, vocab, rng)
    tmp = Path(tempfile.mkdtemp(prefix="bench-loaders-"))
    docs = tmp / "docs"
    docs.mkdir()
    paths: dict[str, list[Path]] = {}
    units: dict[str, int] = {}
    t0 = time.perf_counter()
    for fmt in FORMATS:
        paths[fmt] = [docs / f"{fmt}-{i:03d}.{fmt}" for i in range(args.files)]
        units[fmt] = sum(write(fmt, t, p) for t, p in zip(tables[fmt], paths[fmt]))
    gen_s = time.perf_counter() - t0

    load_s = {fmt: time_loads(paths[fmt], args.repeat) for fmt in FORMATS}

    rep = build_index(docs, tmp / "idx", progress=False, embedder_model=model)
    if rep.skipped:
        sys.exit(f"files skipped: {rep.skipped}")
    index = Index.load(tmp / "idx", embedder_model=model)
    by_file: dict[str, list[str]] = {}
    for c in index.chunks:
        by_file.setdefault(c.file, []).append(c.text)

    results = {}
    for fmt in FORMATS:
        rows = [(t, p.name, k, v) for t, p in zip(tables[fmt], paths[fmt]) for k, v in t.rows]
        # structure, before retrieval: does some chunk of the file hold the row whole, and its header?
        whole = [any(k in c and v in c for c in by_file[f]) for t, f, k, v in rows]
        headed = [any(k in c and v in c and t.value_col in c for c in by_file[f]) for t, f, k, v in rows]
        found = {"hybrid": 0, "bm25": 0}
        asked = rng.sample(rows, min(args.questions, len(rows)))
        for t, _, key, value in asked:
            for mode in found:
                hits = index.search(f"What is the {t.value_col.lower()} of {key}?", 3, mode)
                found[mode] += any(key in h.text and value in h.text for h in hits)
        results[fmt] = {
            "files_per_s": round(len(paths[fmt]) / load_s[fmt], 1),
            "pages_per_s": round(units[fmt] / load_s[fmt], 1) if fmt in UNIT else None,
            "unit": UNIT.get(fmt),
            "chunks": sum(len(by_file[p.name]) for p in paths[fmt]),
            "rows_whole": round(sum(whole) / len(rows), 3),
            "rows_with_header": round(sum(headed) / len(rows), 3),
            "row_recall@3": round(found["hybrid"] / len(asked), 3),
            "bm25_row_recall@3": round(found["bm25"] / len(asked), 3),
            "questions": len(asked),
        }
    base = results["md"]["row_recall@3"]
    for r in results.values():
        r["recall_vs_md"] = round(r["row_recall@3"] - base, 3)
    shutil.rmtree(tmp, ignore_errors=True)
    total_s = time.perf_counter() - t_start

    cols = ("files/s", "pages/s", "chunks", "whole", "+header", "row@3", "bm25@3", "vs md")
    print(f"{'format':8}" + "".join(f"{c:>9}" for c in cols))
    for fmt, r in results.items():
        pages = f"{r['pages_per_s']:.1f}" if r["pages_per_s"] is not None else "-"
        print(f"{fmt:8}{r['files_per_s']:>9.1f}{pages:>9}{r['chunks']:>9}{r['rows_whole']:>9.3f}"
              f"{r['rows_with_header']:>9.3f}{r['row_recall@3']:>9.3f}{r['bm25_row_recall@3']:>9.3f}"
              f"{r['recall_vs_md']:>+9.3f}")
    print(f"{args.files} files x {args.rows} rows per format, {len(asked)} questions each; written in {gen_s:.1f}s, "
          f"index built in {rep.seconds:.1f}s ({rep.chunks} chunks), {total_s:.0f}s in all")
    print(json.dumps({"formats": results, "baseline": "md", "files_per_format": args.files, "rows": args.rows,
                      "embedder": DEFAULT_EMBEDDER, "mode": "hybrid", "k": 3, "chunks": rep.chunks,
                      "seconds": round(total_s, 1)}))


if __name__ == "__main__":
    main()
