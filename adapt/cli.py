"""The `adapt` command: a table of subcommands, each a few lines that call one function in the package.

The functions speak in domain terms (UserError for a user's mistake); this module maps them to
flags, prints, and turns errors into exit codes: 2 for a user's mistake, 1 when `adapt ladder`
finds no rung that meets the bar, 3 for a bug, 130 when interrupted. Nothing here imports torch:
`adapt --help` must stay instant.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapt.errors import UserError
from adapt import rungs as ladder_rungs
from adapt.synth import UNANSWERABLE
from adapt.eval import DEFAULT_BAR, LATENCY_ITEMS
from adapt.eval.registry import BY_BAR
from adapt.rag import CHUNK_OVERLAP, CHUNK_SIZE, DEFAULT_EMBEDDER, DEFAULT_INDEX, MODE, TOP_K

app = typer.Typer(
    help="Adapt an open-weight model to your data and measure which way is worth it.\n\n"
         "The ladder: baseline -> prompt -> rag -> lora/qlora -> rag on the tuned model. "
         "Start with the simplest rung; `adapt ladder` measures them all and picks the cheapest that meets your bar.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
recipes_app = typer.Typer(help="List, show and validate recipes (shipped ones, ./recipes, or YAML paths).",
                          no_args_is_help=True)
rag_app = typer.Typer(help="Build and query a document index.", no_args_is_help=True)
data_app = typer.Typer(help="Import and check data.", no_args_is_help=True)
app.add_typer(recipes_app, name="recipes")
app.add_typer(rag_app, name="rag")
app.add_typer(data_app, name="data")
console = Console(soft_wrap=True)
err = Console(stderr=True)

RecipeArg = Annotated[str, typer.Argument(help="recipe name (a shipped recipe or ./recipes/NAME.yaml) or YAML path")]
Overrides = Annotated[Optional[list[str]], typer.Option(
    "--set", "-o", help="override a recipe field, e.g. -o generation.max_new_tokens=32 -o rag.k=5 (repeatable)")]


def _recipe(ref: str, overrides: Optional[list[str]] = None) -> Any:
    from adapt.recipe import load_recipe

    return load_recipe(ref, overrides or [])


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False)


# --- recipes and rungs ---------------------------------------------------------------------------

@recipes_app.command("list")
def recipes_list() -> None:
    """Table of the available recipes."""
    from adapt.recipe import available, load_recipe

    table = Table("name", "rung", "model", "description")
    for path in available():
        try:
            r = load_recipe(path)
            model = "-" if r.model is None else (r.model.name or f"{r.model.model} @ {r.model.base_url}")
            table.add_row(path.stem, r.rung, model, r.description)
        except UserError:
            table.add_row(path.stem, "[red]invalid[/red]", "", "run `adapt recipes validate`")
    console.print(table)


@recipes_app.command("show")
def recipes_show(recipe: RecipeArg, overrides: Overrides = None) -> None:
    """Print a recipe as adapt reads it: `extends` merged, overrides applied, defaults filled in."""
    import yaml

    console.print(yaml.safe_dump(_recipe(recipe, overrides).model_dump(mode="json"), sort_keys=False), end="",
                  highlight=False, markup=False)


@recipes_app.command("validate")
def recipes_validate(paths: Annotated[list[str], typer.Argument(help="recipe names or YAML paths")]) -> None:
    """Check recipes; exit 0 when all are valid, 2 otherwise."""
    bad = 0
    for p in paths:
        try:
            _recipe(p)
            console.print(f"[green]ok[/green] {p}")
        except UserError as e:
            bad += 1
            err.print(f"[red]invalid[/red] {escape(str(e))}")
    if bad:
        raise typer.Exit(2)


@app.command("rungs")
def rungs_list() -> None:
    """The rungs of the ladder, cheapest first: what each is made of and its default recipe."""
    from adapt import rungs

    table = Table("rung", "reads", "default recipe", "what it does")
    for r in rungs.all_rungs():
        table.add_row(r.name, ", ".join(r.reads), r.default_recipe or "-", r.description)
    console.print(table)


# --- ask -----------------------------------------------------------------------------------------

@app.command()
def ask(recipe: RecipeArg, question: str,
        index: Annotated[Optional[str], typer.Option(help="index folder (rungs that read one)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print answer, tokens and latency as JSON")] = False,
        overrides: Overrides = None) -> None:
    """Answer one question with a recipe."""
    from adapt.pipeline import Pipeline

    r = _recipe(recipe, overrides)
    ans = Pipeline(r, index_dir=index).answer([question])[0]
    g = ans.generation
    if as_json:
        print(json.dumps({"recipe": r.name, "rung": r.rung, "answer": ans.text,
                          "input_tokens": g.input_tokens, "output_tokens": g.output_tokens,
                          "latency_ms": round((g.latency_s + ans.retrieval_s) * 1000, 1),
                          "ttft_ms": round(((g.ttft_s or g.latency_s) + ans.retrieval_s) * 1000, 1),
                          "sources": [s.brief() for s in ans.sources],
                          **({"guard": ans.guard} if ans.guard else {}),
                          **({"raw_answer": ans.raw_text} if ans.raw_text is not None else {})}))
        return
    console.print(ans.text, markup=False)
    if ans.guard == "gated":
        console.print("  [dim](the guard's retrieval gate: no passage is close enough to the question)[/dim]")
    elif ans.raw_text is not None:
        console.print(f"  [dim](the guard's support check stopped: {escape(ans.raw_text)})[/dim]", highlight=False)
    for i, s in enumerate(ans.sources, 1):
        console.print(f"  [dim][{i}] {escape(s.citation())}[/dim]", highlight=False)


# --- rag -----------------------------------------------------------------------------------------

@rag_app.command("build")
def rag_build(
    docs: Annotated[Optional[Path], typer.Argument(
        help="folder of .md .txt .html .pdf .docx .pptx .xlsx .csv .jsonl files, walked recursively "
             "(default: the recipe's rag.docs)")] = None,
    recipe: Annotated[Optional[str], typer.Option(help="build the index this recipe reads (its rag section: "
                                                       "docs, index, embedder, chunking)")] = None,
    index: Annotated[Optional[str], typer.Option(help=f"index folder (default: the recipe's, else {DEFAULT_INDEX})")] = None,
    embedder: Annotated[Optional[str], typer.Option(
        help=f"sentence-transformers model: builtin alias, path or hub id (default: {DEFAULT_EMBEDDER})")] = None,
    chunk_size: Annotated[Optional[int], typer.Option(help=f"chunk length in embedder tokens (default: {CHUNK_SIZE})")] = None,
    chunk_overlap: Annotated[Optional[int], typer.Option(
        help=f"tokens shared by neighbouring chunks (default: {CHUNK_OVERLAP})")] = None,
    index_type: Annotated[str, typer.Option(help="auto (exact below 20k chunks, HNSW above), flat or hnsw")] = "auto",
    overrides: Overrides = None,
) -> None:
    """Index documents. Incremental (unchanged files are not re-embedded) and atomic (a killed build
    leaves the previous index answering)."""
    from adapt.rag.index import build_from

    if overrides and not recipe:
        raise UserError("overrides a recipe's fields: name the recipe with --recipe", param="set")
    rag = _recipe(recipe, overrides).rag if recipe else None
    if recipe and rag is None:
        raise UserError(f"recipe '{recipe}' reads no index (it has no rag section)")
    rep = build_from(rag, docs=docs, index=index, embedder=embedder, chunk_size=chunk_size,
                     chunk_overlap=chunk_overlap, index_type=index_type, warn=_warn)
    console.print(f"indexed {rep.files} file(s) into {rep.chunks} chunks ({rep.index_type}) at {rep.index} "
                  f"in {rep.seconds:.1f}s: {rep.embedded_files} embedded, {rep.unchanged} unchanged, "
                  f"{rep.deleted} removed, {len(rep.skipped)} skipped", highlight=False, markup=False)


@rag_app.command("query")
def rag_query(
    question: str,
    index: Annotated[str, typer.Option(help="index folder")] = DEFAULT_INDEX,
    k: Annotated[int, typer.Option("-k", help="number of chunks")] = TOP_K,
    mode: Annotated[str, typer.Option(help="dense, bm25 or hybrid (reciprocal-rank fusion)")] = MODE,
    embedder: Annotated[Optional[str], typer.Option(help="fail unless the index was built with this embedder")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of hits")] = False,
    filters: Annotated[Optional[list[str]], typer.Option(
        "--filter", help="search only chunks that pass (repeat it: all must pass): source=GLOB (path in the "
                         "documents folder), type=pdf, tag=NAME, modified>=YYYY-MM-DD (also >, <=, <, =)")] = None,
) -> None:
    """Retrieve the chunks that best match a question."""
    from adapt.rag.filters import parse_all
    from adapt.rag.index import Index

    try:
        where = parse_all(filters or [])
    except ValueError as e:
        raise UserError(str(e), param="filter") from None
    loaded = Index.load(index, expect_embedder=embedder, need_embedder=mode != "bm25")
    loaded.require(where)
    hits = loaded.search(question, k, mode, filters=where)
    if as_json:
        keys = ("source", "chunk_id", "score", "heading", "location", "type", "modified", "tags", "text")
        print(json.dumps([{key: getattr(h, key) for key in keys} for h in hits], ensure_ascii=False))
        return
    for h in hits:
        console.print(f"[bold][{h.rank}] {escape(h.citation())}[/bold] [dim]{h.score:.4f}[/dim]", highlight=False)
        console.print(h.text[:300].replace("\n", " ") + ("..." if len(h.text) > 300 else ""), highlight=False,
                      markup=False)


# --- data ----------------------------------------------------------------------------------------

@data_app.command("import-squad")
def data_import_squad(
    file: Annotated[Path, typer.Argument(help="SQuAD v2 JSON")],
    docs: Annotated[Path, typer.Option(help="folder for one Markdown document per article")],
    suite: Annotated[Path, typer.Option(help="eval suite JSONL to write")],
) -> None:
    """SQuAD v2 -> documents to index + an eval suite (unanswerable questions get answers: [])."""
    from adapt.data.squad import import_squad

    n_docs, n_items, n_unans = import_squad(file, docs, suite)
    console.print(f"wrote {n_docs} documents to {docs} and {n_items} items ({n_unans} unanswerable) to {suite}")


@data_app.command("synth")
def data_synth(
    docs: Annotated[Path, typer.Argument(help="folder of documents (the formats `adapt rag build` reads)")],
    out: Annotated[Path, typer.Option(help="folder to write: suite.jsonl, train.jsonl, docs/ (what to index) and "
                                           "synth.json (counts per filter and file, generator, seed, input hashes)")],
    generator: Annotated[str, typer.Option(help="recipe whose model writes the questions: local, prompt-api or a "
                                                "served model")] = "prompt-local",
    n: Annotated[int, typer.Option("--n", help="eval items to keep")] = 200,
    unanswerable: Annotated[float, typer.Option(
        help="share of the eval items (and training rows) that are unanswerable: asked of whole documents set "
             "aside from docs/ (about this share of the text, at most a third), and kept only when their answer, "
             "as written, occurs nowhere in docs/")] = UNANSWERABLE,
    train: Annotated[int, typer.Option(help="training rows to write to train.jsonl (chat format), from chunks "
                                            "no eval item comes from")] = 0,
    seed: Annotated[int, typer.Option(help="seed of the set-aside documents, the chunk split and the sampling")] = 0,
    overwrite: Annotated[bool, typer.Option(help="replace an earlier --out folder")] = False,
) -> None:
    """Make an eval suite (with unanswerable items) and a disjoint training set from documents alone.

    A generator model writes a question and a short answer for passages spread across the files; an item
    is kept when its answer is a verbatim span of its passage, the question does not contain the answer,
    the generator asked its own question answers with that span (round trip), and it is no near-duplicate.
    Answerable items whose question does not retrieve a passage of their file holding the answer (top 5)
    are kept and marked hard. Evaluate with `adapt eval RECIPE --suite OUT/suite.jsonl` on an index of
    OUT/docs."""
    from adapt.synth import synthesize

    res = synthesize(docs, out, _recipe(generator), n=n, unanswerable=unanswerable, train=train, seed=seed,
                     overwrite=overwrite, warn=_warn)
    st = res.stats
    rejected = ", ".join(f"{k} {v}" for k, v in st["rejected"].items() if v) or "none"
    console.print(f"kept {st['kept']} of {st['generated']} generated (rejected: {rejected})", highlight=False)
    console.print(f"wrote {out}/suite.jsonl: {st['suite']['items']} items ({st['suite']['unanswerable']} "
                  f"unanswerable, {st['suite']['hard']} hard)" + (f"; {out}/train.jsonl: {st['train']['rows']} rows"
                                                                   if train else "")
                  + f"; {out}/docs/ without the {len(st['set_aside'])} set-aside file(s)", highlight=False)


@data_app.command("check")
def data_check(
    file: Annotated[Path, typer.Argument(help="training data: JSONL, CSV or a datasets folder")],
    recipe: Annotated[Optional[str], typer.Option(help="recipe whose tokenizer and max_seq_len to use")] = None,
    suite: Annotated[Optional[Path], typer.Option(help="eval suite to check for leakage into the training data")] = None,
    max_seq_len: Annotated[Optional[int], typer.Option(help="overrides the recipe's train.max_seq_len")] = None,
) -> None:
    """Counts, empty and duplicate rows, token lengths vs max_seq_len, eval leakage, PII-like strings."""
    from adapt.train.check import check_file

    print_check(check_file(file, _recipe(recipe) if recipe else None, max_seq_len, suite))


def print_check(rep: dict) -> None:
    t = rep["tokens"]
    console.print(f"{rep['rows']} rows; tokens min/p50/p95/max {t['min']}/{t['p50']}/{t['p95']}/{t['max']}; "
                  f"{t['truncated']} longer than max_seq_len {t['max_seq_len']} (would be truncated)")
    for key, what in (("empty", "empty rows at lines"), ("duplicates", "duplicate rows (line, first seen)"),
                      ("leaks", "rows containing an eval question (line, item id)"),
                      ("pii_like", "rows with e-mail- or phone-like strings at lines")):
        if rep[key]:
            _warn(f"{len(rep[key])} {what}: {rep[key][:10]}")


# --- eval and ladder -----------------------------------------------------------------------------

@app.command("eval")
def eval_cmd(
    recipes: Annotated[list[str], typer.Argument(help="recipe names or paths")],
    suite: Annotated[Path, typer.Option(help="JSONL suite: id, question, answers ([] = unanswerable)")],
    index: Annotated[Optional[str], typer.Option(help="index folder for rungs that read one (default: the recipe's)")] = None,
    limit: Annotated[Optional[int], typer.Option(help="only N items, keeping the suite's share of unanswerable ones")] = None,
    out: Annotated[Path, typer.Option(help="run folder: items.jsonl, timings.jsonl, summary.json, report.md/html")] = Path("out/eval"),
    resume: Annotated[bool, typer.Option(help="continue an interrupted run in --out (same suite and recipes only)")] = False,
    judge: Annotated[Optional[str], typer.Option(help="grade with this recipe as a SimpleQA-style judge (correct / "
                                                      "incorrect / not attempted), and judge whether the passages "
                                                      "support each RAG answer; the report shows its agreement "
                                                      "with the lexical grader")] = None,
    latency_items: Annotated[int, typer.Option(help="items timed one request at a time per recipe")] = LATENCY_ITEMS,
    allow_train_items: Annotated[bool, typer.Option(help="keep items that a recipe's adapter was trained on")] = False,
    track: Annotated[Optional[str], typer.Option(help="'mlflow' logs parameters, metrics and the report")] = None,
    overrides: Overrides = None,
) -> None:
    """Evaluate recipes on a suite: quality, hallucination, latency and cost side by side, with 95 % intervals."""
    from adapt.eval.harness import evaluate_suite

    summary = evaluate_suite([_recipe(r, overrides) for r in recipes], suite, out, index=index, limit=limit,
                             resume=resume, judge=_recipe(judge) if judge else None, latency_items=latency_items,
                             allow_train_items=allow_train_items)
    for note in summary["notes"]:
        err.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    _finish(summary, out, track)


@app.command()
def calibrate(
    recipe: RecipeArg,
    suite: Annotated[Path, typer.Option(help="JSONL calibration suite; keep it apart from the items you evaluate on")],
    out: Annotated[Path, typer.Option(help="folder for calibration.json, recipe.yaml (the recipe with the chosen "
                                           "guard), observed.jsonl and report.html")] = Path("out/calibration"),
    index: Annotated[Optional[str], typer.Option(help="index folder (default: the recipe's)")] = None,
    limit: Annotated[Optional[int], typer.Option(help="only N items, keeping the suite's share of unanswerable ones")] = None,
    max_hallucination: Annotated[Optional[float], typer.Option(
        help="choose the most correct answers at or under this hallucination rate (0.1 = 10 %) instead of "
             "maximising correct minus hallucinated")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an earlier calibration in --out")] = False,
    overrides: Overrides = None,
) -> None:
    """Choose a RAG recipe's guard thresholds (rag.guard: the retrieval gate's min_score and the support
    check's threshold) on a calibration suite, and write the recipe with them."""
    from adapt.data.suite import load_suite, stratified_head
    from adapt.eval.calibrate import calibrate as run
    from adapt.eval.harness import check_counts

    check_counts(limit, None)
    items = load_suite(suite)
    res = run(_recipe(recipe, overrides), stratified_head(items, limit) if limit else items, out, index=index,
              max_hallucination=max_hallucination, suite_name=suite.name, overwrite=overwrite)
    console.print(f"guard for {res.recipe} on {res.n} items: {res.guard.model_dump()}", highlight=False)
    for name, o in (("without a guard", res.before), ("with it", res.after)):
        console.print(f"  {name}: correct {o.correct:.1%}, hallucinated {o.hallucinated:.1%}, "
                      f"abstained {o.abstained:.1%}", highlight=False)
    if res.target_reached is False:
        err.print(f"[yellow]note:[/yellow] no threshold reaches hallucination <= {max_hallucination:g} on this "
                  f"suite; chose the lowest, {res.after.hallucinated:.1%}", highlight=False)
    console.print(f"wrote {out}/recipe.yaml: evaluate it with `adapt eval {out}/recipe.yaml --suite ...` on "
                  "other items", highlight=False)


@app.command()
def score(
    suite: Annotated[Path, typer.Option(help="JSONL suite: id, question, answers ([] = unanswerable)")],
    predictions: Annotated[Path, typer.Option(help="JSONL of {\"id\", \"answer\"}: one answer per suite item")],
    as_json: Annotated[bool, typer.Option("--json", help="print {\"summary\": {...}, \"items\": [...]}")] = False,
    out: Annotated[Optional[Path], typer.Option(help="also write the report files of `adapt eval` here")] = None,
    name: Annotated[Optional[str], typer.Option(help="name of the system in the report (default: the file's name)")] = None,
) -> None:
    """Grade answers produced by any system with adapt's grader: the same rates, intervals and
    official SQuAD 2.0 scores as `adapt eval`."""
    from adapt.eval.score import score as run

    res = run(suite, predictions, out, name)
    if as_json:
        print(json.dumps(res, ensure_ascii=False))
        return
    _finish({"recipes": [res["summary"]]}, out, None)


@app.command()
def ladder(
    docs: Annotated[Path, typer.Option(help="documents folder the rungs that read an index are given")],
    suite: Annotated[Optional[Path], typer.Option(help="JSONL suite (or --synth)")] = None,
    synth: Annotated[Optional[int], typer.Option(
        help="no suite yet: synthesise one of N items from --docs (`adapt data synth`, into OUT/synth), and as "
             "many training rows from other chunks when a rung trains or calibrates; the rungs then index "
             "OUT/synth/docs, which leaves out the documents the unanswerable items were asked of")] = None,
    generator: Annotated[Optional[str], typer.Option(
        help="with --synth: the recipe whose model writes the questions (default: prompt-local)")] = None,
    rungs: Annotated[str, typer.Option(help="comma-separated rungs (`adapt rungs` lists them); run cheapest first")]
        = ",".join(ladder_rungs.default_ladder()),
    bar: Annotated[str, typer.Option(help="what 'good enough' means; a rung meets it only when every 95 % interval "
                                          "is on the right side, e.g. correct>=0.6,hallucination<=0.1,p50_ms<=2000,"
                                          "usd_per_1k<=1 (shares as 0-1; a p95_ms condition needs >= 72 "
                                          "--latency-items to be decidable). Metrics: " + ", ".join(BY_BAR))]
        = DEFAULT_BAR,
    recipe: Annotated[Optional[list[str]], typer.Option(help="RUNG=RECIPE to replace a rung's default recipe")] = None,
    out: Annotated[Path, typer.Option(help="run folder")] = Path("out/ladder"),
    limit: Annotated[Optional[int], typer.Option(help="only N eval items, keeping the share of unanswerable ones")] = None,
    max_steps: Annotated[Optional[int], typer.Option(help="cap fine-tuning steps")] = None,
    latency_items: Annotated[int, typer.Option(help="items timed one request at a time per rung")] = LATENCY_ITEMS,
    resume: Annotated[bool, typer.Option(help="continue an interrupted ladder run in --out")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace an earlier ladder run in --out")] = False,
    track: Annotated[Optional[str], typer.Option(help="'mlflow' logs parameters, metrics and the report")] = None,
) -> None:
    """Climb the ladder: build what each rung needs, evaluate cheapest first, recommend the cheapest
    rung that meets the bar. Exits 1 when no rung meets it (so CI can gate on it), 2 on a user mistake."""
    from adapt.eval.ladder import parse_rung_recipes, run_ladder

    if generator and synth is None:
        raise UserError("writes a synthetic suite's questions: give it with --synth N", param="generator")
    summary = run_ladder(str(suite) if suite else None, str(docs), [r.strip() for r in rungs.split(",") if r.strip()],
                         bar, out, parse_rung_recipes(recipe or []), limit, max_steps, resume, overwrite,
                         latency_items=latency_items, synth=synth, generator=generator or "prompt-local", warn=_warn)
    _finish(summary, out, track)
    verdict = summary["ladder"]
    if verdict.get("warning"):
        _warn(verdict["warning"])
    console.print(f"\n[bold]{verdict['verdict']}[/bold]", highlight=False)
    if not verdict["meets"]:
        raise typer.Exit(1)


def _finish(summary: dict, out: Optional[Path], track: Optional[str]) -> None:
    """The key columns in the terminal (the report has them all); MLflow when asked."""
    from adapt.eval.report import table_rows

    head, rows = table_rows(summary, summary.get("ladder"), terminal=True)
    table = Table(*head)
    table.columns[0].no_wrap = True
    table.columns[0].min_width = max(len(r[0]) for r in rows) if rows else 6
    for r in rows:
        table.add_row(*r)
    Console(soft_wrap=True, width=max(console.width, 200)).print(table)
    if track == "mlflow":
        from adapt.eval.tracking import log_mlflow

        log_mlflow(summary, out)
    if out is not None:
        console.print(f"report: {out / 'report.html'} (and report.md, summary.json, items.jsonl)")


# --- fine-tuning ---------------------------------------------------------------------------------

@app.command()
def finetune(
    recipe: RecipeArg,
    max_steps: Annotated[Optional[int], typer.Option(help="stop after N optimizer steps")] = None,
    output: Annotated[Optional[Path], typer.Option(help="run folder (default runs/<recipe>)")] = None,
    resume: Annotated[bool, typer.Option(help="continue from the newest complete checkpoint after a kill")] = False,
    overwrite: Annotated[bool, typer.Option(
        help="replace a previous run in the output folder (its checkpoint-N folders, adapter and run.json "
             "only; other files stay)")] = False,
    num_processes: Annotated[int, typer.Option(help="data-parallel processes on this machine (DDP/FSDP; "
                                                    "accelerate on GPUs, torchrun on a CPU)")] = 1,
    track: Annotated[Optional[str], typer.Option(help="'mlflow' logs the run (local ./mlruns by default)")] = None,
    overrides: Overrides = None,
) -> None:
    """LoRA / QLoRA fine-tuning with trl + peft; writes the adapter, the resolved recipe and metrics."""
    from adapt.train.finetune import check_output, data_report, finetune as run, is_main_process, launch

    r = _recipe(recipe, overrides)
    if num_processes > 1:  # every process runs this command again, through `python -m adapt`
        check_output(Path(output or r.run_dir), resume, overwrite)  # refuse before starting N processes
        raise typer.Exit(launch(_argv_without("--num-processes", after="finetune"), num_processes))
    main_process = is_main_process()
    report = data_report(r) if main_process else None
    if report:
        print_check(report)
    m = run(r, output, max_steps, resume, track=track, overwrite=overwrite, progress=main_process)
    if main_process:
        console.print(f"trained {m['steps']} steps in {m['train_seconds']:.0f}s, loss {m['first_loss']} -> "
                      f"{m['final_loss']}, {m['tokens_per_s']} tokens/s; adapter in "
                      f"{(output or r.run_dir) / 'adapter'}", highlight=False)


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="fine-tuning run folder (runs/<recipe>)")],
    merge: Annotated[Path, typer.Option(help="write base + adapter merged into this folder (safetensors)")],
) -> None:
    """Merge an adapter into its base model for engines without LoRA support."""
    from adapt.train.export import merge as do_merge

    console.print(f"merged model written to {do_merge(run, merge)}")


def _argv_without(flag: str, after: str) -> list[str]:
    """The arguments that followed the subcommand `after` on this command line, less `flag` and its
    value: what a relaunch passes on, unchanged."""
    if after not in sys.argv[1:]:
        raise RuntimeError(f"cannot relaunch: `{after}` is not on the command line {sys.argv!r}")
    out, skip = [], False
    for arg in sys.argv[sys.argv.index(after, 1) + 1:]:
        if skip or arg == flag or arg.startswith(flag + "="):
            skip = arg == flag
            continue
        out.append(arg)
    return out


# --- serving -------------------------------------------------------------------------------------

@app.command()
def serve(
    recipe: RecipeArg,
    engine: Annotated[str, typer.Option(help="auto (vLLM when installed with a GPU), vllm or transformers")] = "auto",
    host: Annotated[str, typer.Option(help="address to bind; non-loopback needs an API key")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    api_key: Annotated[Optional[str], typer.Option(help="require this bearer token (default: $ADAPT_API_KEY)")] = None,
    merged: Annotated[Optional[str], typer.Option(help="vllm: serve this merged export instead of base + adapter")] = None,
    max_batch_size: Annotated[Optional[int], typer.Option(help="transformers: override serve.max_batch_size")] = None,
    overrides: Overrides = None,
) -> None:
    """Serve a recipe through an OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models),
    answering the way `adapt ask` and `adapt eval` do (same prompt, same retrieval)."""
    from adapt.serve import serve as run

    raise typer.Exit(run(_recipe(recipe, overrides), engine, host, port, api_key, merged, max_batch_size,
                         say=lambda m: err.print(m, highlight=False)))


def main() -> None:
    # Libraries read these when (and only if) a command imports them; setting them here keeps the
    # start-up free of torch and transformers.
    for var, value in (("HF_HUB_DISABLE_TELEMETRY", "1"), ("TOKENIZERS_PARALLELISM", "false"),
                       ("TRANSFORMERS_VERBOSITY", "error"), ("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")):
        os.environ.setdefault(var, value)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="(torch|transformers|trl|peft)")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # some libraries (bm25s) force their loggers to DEBUG
        handler.setLevel(logging.WARNING)
    for noisy in ("transformers", "sentence_transformers", "httpx", "bitsandbytes", "bm25s", "accelerate"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        app()
    except UserError as e:
        flag = f"--{e.param.replace('_', '-')}: " if e.param else ""
        err.print(f"[red]error:[/red] {flag}{escape(str(e))}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception:  # a bug, not a user mistake: keep 1 for "no rung meets the bar" unambiguous
        import traceback

        traceback.print_exc()
        sys.exit(3)


if __name__ == "__main__":
    main()
