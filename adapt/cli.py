"""The `adapt` command: each subcommand maps to a plain function in the package."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from adapt.errors import UserError

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


def main() -> None:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("transformers", "sentence_transformers", "httpx", "bitsandbytes", "bm25s", "accelerate"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # per-tensor "Loading weights" bars; our own bars stay
    try:
        app()
    except UserError as e:
        err.print(f"[red]error:[/red] {e}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
