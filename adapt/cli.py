"""The `adapt` command: each subcommand maps to a plain function in the package."""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from adapt.errors import UserError
from adapt.eval import LATENCY_ITEMS
from adapt.eval.registry import BY_BAR

BAR_METRICS = list(BY_BAR)

app = typer.Typer(
    help="Adapt an open-weight model to your data and measure which way is worth it.\n\n"
         "The ladder: baseline -> prompt -> rag -> lora/qlora -> rag on the tuned model. "
         "Start with the simplest rung; `adapt ladder` measures them all and picks the cheapest that meets your bar.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
recipes_app = typer.Typer(help="List and validate recipes (recipes/*.yaml).", no_args_is_help=True)
rag_app = typer.Typer(help="Build and query a document index.", no_args_is_help=True)
data_app = typer.Typer(help="Import and check data.", no_args_is_help=True)
app.add_typer(recipes_app, name="recipes")
app.add_typer(rag_app, name="rag")
app.add_typer(data_app, name="data")
console = Console(soft_wrap=True)
err = Console(stderr=True)

RecipeArg = Annotated[str, typer.Argument(help="recipe name (recipes/NAME.yaml) or path to a YAML file")]


# --- recipes -------------------------------------------------------------------------------------

@recipes_app.command("list")
def recipes_list() -> None:
    """Table of the shipped recipes."""
    from adapt.recipe import available, load_recipe

    table = Table("name", "rung", "model", "description")
    for path in available():
        try:
            r = load_recipe(path)
            model = "-" if r.model is None else (r.model.name or f"{r.model.model} @ {r.model.base_url}")
            table.add_row(path.stem, r.label, model, r.description)
        except UserError:
            table.add_row(path.stem, "[red]invalid[/red]", "", "run `adapt recipes validate`")
    console.print(table)


@recipes_app.command("validate")
def recipes_validate(paths: Annotated[list[str], typer.Argument(help="recipe names or YAML paths")]) -> None:
    """Check recipes; exit 0 when all are valid, 2 otherwise."""
    from adapt.recipe import load_recipe

    bad = 0
    for p in paths:
        try:
            load_recipe(p)
            console.print(f"[green]ok[/green] {p}")
        except UserError as e:
            bad += 1
            err.print(f"[red]invalid[/red] {e}")
    if bad:
        raise typer.Exit(2)


# --- ask -----------------------------------------------------------------------------------------

@app.command()
def ask(recipe: RecipeArg, question: str,
        index: Annotated[Optional[str], typer.Option(help="index folder (rag recipes)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print answer, tokens and latency as JSON")] = False,
        ) -> None:
    """Answer one question with a recipe."""
    from adapt.pipeline import Pipeline
    from adapt.recipe import load_recipe

    r = load_recipe(recipe)
    ans = Pipeline(r, index_dir=index).answer([question])[0]
    g = ans.generation
    if as_json:
        print(json.dumps({"recipe": r.name, "rung": r.label, "answer": ans.text,
                          "input_tokens": g.input_tokens, "output_tokens": g.output_tokens,
                          "latency_ms": round(g.latency_s * 1000, 1),
                          "ttft_ms": round((g.ttft_s or g.latency_s) * 1000, 1),
                          "sources": [{k: s.get(k) for k in ("source", "chunk_id", "heading", "score")}
                                      for s in ans.sources]}))
        return
    console.print(ans.text)
    for i, s in enumerate(ans.sources, 1):
        head = f" > {s['heading']}" if s.get("heading") else ""
        console.print(f"  [dim][{i}] {s['source']}{head}[/dim]")


# --- rag -----------------------------------------------------------------------------------------

@rag_app.command("build")
def rag_build(
    docs: Annotated[Path, typer.Argument(help="folder of .md .txt .html .pdf .jsonl files (walked recursively)")],
    index: Annotated[str, typer.Option(help="index folder (a symlink to the current build)")] = ".adapt/index",
    embedder: Annotated[str, typer.Option(help="sentence-transformers model: builtin alias, path or hub id")] = "all-minilm-l6-v2",
    chunk_size: Annotated[int, typer.Option(help="chunk length in embedder tokens")] = 200,
    chunk_overlap: Annotated[int, typer.Option(help="tokens shared by neighbouring chunks")] = 32,
    index_type: Annotated[str, typer.Option(help="auto (exact below 20k chunks, HNSW above), flat or hnsw")] = "auto",
) -> None:
    """Index documents. Incremental (unchanged files are not re-embedded) and atomic (a killed build
    leaves the previous index answering)."""
    from adapt.rag.index import build_index

    if index_type not in ("auto", "flat", "hnsw"):
        raise UserError(f"--index-type must be auto, flat or hnsw, not '{index_type}'")
    rep = build_index(docs, index, embedder, chunk_size, chunk_overlap, index_type,
                      warn=lambda m: err.print(f"[yellow]warning:[/yellow] {m}", highlight=False))
    console.print(f"indexed {rep.files} file(s) into {rep.chunks} chunks ({rep.index_type}) at {rep.index} "
                  f"in {rep.seconds:.1f}s: {rep.embedded_files} embedded, {rep.unchanged} unchanged, "
                  f"{rep.deleted} removed, {len(rep.skipped)} skipped", highlight=False)


@rag_app.command("query")
def rag_query(
    question: str,
    index: Annotated[str, typer.Option(help="index folder")] = ".adapt/index",
    k: Annotated[int, typer.Option("-k", help="number of chunks")] = 5,
    mode: Annotated[str, typer.Option(help="dense, bm25 or hybrid (reciprocal-rank fusion)")] = "hybrid",
    embedder: Annotated[Optional[str], typer.Option(help="fail unless the index was built with this embedder")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of hits")] = False,
) -> None:
    """Retrieve the chunks that best match a question."""
    from adapt.rag.index import Index

    hits = Index.load(index, expect_embedder=embedder, need_embedder=mode != "bm25").search(question, k, mode)
    if as_json:
        print(json.dumps([{key: h[key] for key in ("source", "chunk_id", "score", "heading", "text")} for h in hits],
                         ensure_ascii=False))
        return
    for h in hits:
        head = f" > {h['heading']}" if h["heading"] else ""
        console.print(f"[bold][{h['rank']}] {h['source']}{head}[/bold] [dim]{h['score']:.4f}[/dim]")
        console.print(h["text"][:300].replace("\n", " ") + ("..." if len(h["text"]) > 300 else ""), highlight=False)


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


@data_app.command("check")
def data_check(
    file: Annotated[Path, typer.Argument(help="training data: JSONL, CSV or a datasets folder")],
    recipe: Annotated[Optional[str], typer.Option(help="recipe whose tokenizer and max_seq_len to use")] = None,
    suite: Annotated[Optional[Path], typer.Option(help="eval suite to check for leakage into the training data")] = None,
    max_seq_len: Annotated[Optional[int], typer.Option(help="overrides the recipe's train.max_seq_len")] = None,
) -> None:
    """Counts, empty and duplicate rows, token lengths vs max_seq_len, eval leakage, PII-like strings."""
    from adapt.models import DEFAULT_GENERATOR, load_tokenizer
    from adapt.recipe import load_recipe
    from adapt.train.check import check_data

    r = load_recipe(recipe) if recipe else None
    model = r.model.name if r and r.model and r.model.name else DEFAULT_GENERATOR
    limit = max_seq_len or (r.train.max_seq_len if r and r.train else 512)
    rep = check_data(file, load_tokenizer(model), limit, suite)
    print_check(rep)


def print_check(rep: dict) -> None:
    t = rep["tokens"]
    console.print(f"{rep['rows']} rows; tokens min/p50/p95/max {t['min']}/{t['p50']}/{t['p95']}/{t['max']}; "
                  f"{t['truncated']} longer than max_seq_len {t['max_seq_len']} (would be truncated)")
    for key, what in (("empty", "empty rows at lines"), ("duplicates", "duplicate rows (line, first seen)"),
                      ("leaks", "rows containing an eval question (line, item id)"),
                      ("pii_like", "rows with e-mail- or phone-like strings at lines")):
        if rep[key]:
            err.print(f"[yellow]warning:[/yellow] {len(rep[key])} {what}: {rep[key][:10]}", highlight=False)


# --- eval and ladder -----------------------------------------------------------------------------

@app.command("eval")
def eval_cmd(
    recipes: Annotated[list[str], typer.Argument(help="recipe names or paths")],
    suite: Annotated[Path, typer.Option(help="JSONL suite: id, question, answers ([] = unanswerable)")],
    index: Annotated[Optional[str], typer.Option(help="index folder for rag recipes (default: the recipe's)")] = None,
    limit: Annotated[Optional[int], typer.Option(help="only N items, keeping the suite's share of unanswerable ones")] = None,
    out: Annotated[Path, typer.Option(help="run folder: items.jsonl, timings.jsonl, summary.json, report.md/html")] = Path("out/eval"),
    resume: Annotated[bool, typer.Option(help="continue an interrupted run in --out (same suite and recipes only)")] = False,
    judge: Annotated[Optional[str], typer.Option(help="grade with this recipe as a SimpleQA-style judge (correct / "
                                                      "incorrect / not attempted); the report shows its agreement "
                                                      "with the lexical grader")] = None,
    latency_items: Annotated[int, typer.Option(help="items timed one request at a time per recipe")] = LATENCY_ITEMS,
    allow_train_items: Annotated[bool, typer.Option(help="keep items that a recipe's adapter was trained on")] = False,
    track: Annotated[Optional[str], typer.Option(help="'mlflow' logs parameters, metrics and the report")] = None,
) -> None:
    """Evaluate recipes on a suite: quality, hallucination, latency and cost side by side, with 95 % intervals."""
    from adapt.data.suite import load_suite, stratified_head
    from adapt.eval.harness import evaluate
    from adapt.recipe import load_recipe

    _positive("--limit", limit)
    _positive("--latency-items", latency_items, zero_ok=True)
    rs = [load_recipe(r) for r in recipes]
    items = load_suite(suite)
    summary = evaluate(rs, stratified_head(items, limit) if limit else items, out, index=index, resume=resume,
                       judge=load_recipe(judge) if judge else None, suite_name=suite.name, suite_path=suite,
                       latency_items=latency_items, allow_train_items=allow_train_items)
    for note in summary["notes"]:
        err.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    _finish(summary, out, track)


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
    suite: Annotated[Path, typer.Option(help="JSONL suite")],
    docs: Annotated[Path, typer.Option(help="documents folder the rag rungs index")],
    rungs: Annotated[str, typer.Option(help="comma-separated rungs, cheapest first")] = "baseline,prompt,rag,lora,rag+lora",
    bar: Annotated[str, typer.Option(help="what 'good enough' means; a rung meets it only when every 95 % interval "
                                          "is on the right side, e.g. correct>=0.6,hallucination<=0.1,p50_ms<=2000,"
                                          "usd_per_1k<=1 (shares as 0-1; a p95_ms condition needs >= 72 "
                                          "--latency-items to be decidable). Metrics: " + ", ".join(BAR_METRICS))]
        = "correct>=0.5,hallucination<=0.2,p50_ms<=5000,usd_per_1k<=1",
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
    from adapt.eval.ladder import run_ladder

    _positive("--limit", limit)
    _positive("--latency-items", latency_items, zero_ok=True)
    mapping = {}
    for pair in recipe or []:
        if "=" not in pair:
            raise UserError(f"--recipe expects RUNG=RECIPE, got '{pair}'")
        k, v = pair.split("=", 1)
        mapping[k.strip()] = v.strip()
    summary = run_ladder(str(suite), str(docs), [r.strip() for r in rungs.split(",") if r.strip()], bar, out,
                         mapping, limit, max_steps, resume, overwrite, latency_items=latency_items)
    _finish(summary, out, track)
    verdict = summary["ladder"]
    if verdict.get("warning"):
        err.print(f"[yellow]warning:[/yellow] {verdict['warning']}", highlight=False)
    console.print(f"\n[bold]{verdict['verdict']}[/bold]", highlight=False)
    if not verdict["meets"]:
        raise typer.Exit(1)


def _positive(flag: str, value: Optional[int], zero_ok: bool = False) -> None:
    if value is not None and (value < 0 or (value == 0 and not zero_ok)):
        raise UserError(f"{flag} must be {'0 or more' if zero_ok else 'at least 1'}, not {value}")


def _finish(summary: dict, out: Optional[Path], track: Optional[str]) -> None:
    from adapt.eval.report import table_rows

    head, rows = table_rows(summary, summary.get("ladder"), terminal=True)
    table = Table(*head)  # the terminal gets the key columns; the report has them all
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
    num_processes: Annotated[int, typer.Option(help="data-parallel processes through accelerate (DDP/FSDP)")] = 1,
    track: Annotated[Optional[str], typer.Option(help="'mlflow' logs the run (local ./mlruns by default)")] = None,
) -> None:
    """LoRA / QLoRA fine-tuning with trl + peft; writes the adapter, the resolved recipe and metrics."""
    from adapt.recipe import load_recipe
    from adapt.train.finetune import check_output, finetune as run, launch

    r = load_recipe(recipe)
    if num_processes > 1:
        check_output(Path(output or r.run_dir), resume, overwrite)  # once here, not once per process
        extra = [*(["--max-steps", str(max_steps)] if max_steps else []),
                 *(["--output", str(output)] if output else []), *(["--resume"] if resume else []),
                 *(["--overwrite"] if overwrite else [])]
        raise typer.Exit(launch(recipe, num_processes, extra))
    if r.train and r.train.data:
        from adapt.models import load_tokenizer
        from adapt.train.check import check_data

        print_check(check_data(r.train.data, load_tokenizer(r.model.name), r.train.max_seq_len))
    m = run(r, output, max_steps, resume, track=track, overwrite=overwrite)
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
) -> None:
    """Serve a recipe through an OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models)."""
    import ipaddress

    from adapt.recipe import load_recipe

    key = api_key or os.environ.get("ADAPT_API_KEY") or None
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise UserError(f"--host must be an IP address or localhost, not '{host}'") from None
    if not loopback and not key:
        raise UserError(f"refusing to bind {host} without an API key: pass --api-key or set ADAPT_API_KEY")
    if engine not in ("auto", "vllm", "transformers"):
        raise UserError(f"--engine must be auto, vllm or transformers, not '{engine}'")
    r = load_recipe(recipe)
    if r.rung == "baseline" or r.model is None or r.model.backend == "openai":
        raise UserError(f"recipe '{r.name}' has no local model to serve")
    if engine == "auto":
        import importlib.util

        import torch

        engine = "vllm" if importlib.util.find_spec("vllm") and torch.cuda.is_available() and r.rag is None \
            else "transformers"
    if engine == "vllm":
        from adapt.serve.vllm import run_vllm, vllm_command

        if r.rag is not None:
            raise UserError("the vllm engine serves the model alone; use --engine transformers for a rag recipe")
        raise typer.Exit(run_vllm(vllm_command(r, host, port, key, merged), host, port))
    import uvicorn

    from adapt.pipeline import Pipeline
    from adapt.serve.app import create_app

    if max_batch_size:
        r = r.model_copy(update={"serve": r.serve.model_copy(update={"max_batch_size": max_batch_size})})
    err.print(f"serving {r.name} ({r.label}) on http://{host}:{port}/v1 with transformers"
              + (", API key required" if key else ""), highlight=False)
    uvicorn.run(create_app(r, Pipeline(r), key), host=host, port=port, log_level="warning",
                limit_concurrency=r.serve.max_queue * 2 + 8)


def main() -> None:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="(torch|transformers|trl|peft)")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # some libraries (bm25s) force their loggers to DEBUG
        handler.setLevel(logging.WARNING)
    for noisy in ("transformers", "sentence_transformers", "httpx", "bitsandbytes", "bm25s", "accelerate"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    import datasets

    datasets.disable_progress_bars()  # per-tensor "Loading weights" bars; our own bars stay
    try:
        app()
    except UserError as e:
        err.print(f"[red]error:[/red] {e}", highlight=False)
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
