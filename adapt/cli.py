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
console = Console()
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


def main() -> None:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("transformers", "sentence_transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

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
