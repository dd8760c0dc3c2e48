"""`adapt eval`: every recipe on every item, batched, written as it goes, resumable.

items.jsonl gets one record per recipe x item after each batch (flushed and fsynced), so a crash
or Ctrl-C loses at most the batch in flight, and `--resume` skips what is already there.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from adapt.artifacts import versions, write_json
from adapt.data.suite import Item
from adapt.errors import UserError
from adapt.eval.metrics import grade, retrieval_hit
from adapt.eval.summary import summarize
from adapt.recipe import Recipe

JUDGE_PROMPT = ("You grade answers. Question: {q}\nReference answer(s): {gold}\nCandidate answer: {a}\n"
                "Does the candidate give the same answer as a reference? Reply with one word: yes or no.")


def read_records(path: Path) -> list[dict[str, Any]]:
    """Records of a (possibly interrupted) run; a torn last line is dropped."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return out


def evaluate(recipes: list[Recipe], items: list[Item], out: str | Path, index: str | None = None,
             resume: bool = False, judge: Recipe | None = None, suite_name: str = "suite",
             one_off_s: dict[str, float] | None = None, progress: bool = True,
             pipeline_factory: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Run, grade, summarize and report. Returns the summary (also written to out/summary.json)."""
    from adapt.eval.report import write_reports
    from adapt.pipeline import Pipeline

    out = Path(out)
    path = out / "items.jsonl"
    if path.exists() and not resume:
        raise UserError(f"{out} already holds results: add --resume to continue that run, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    records = read_records(path)
    if path.exists():  # rewrite without a torn tail before appending
        _rewrite(path, records)
    done = {(r["recipe"], r["id"]) for r in records}
    write_json(out / "run.json", {"suite": suite_name, "recipes": [r.model_dump() for r in recipes],
                                  "items": len(items), "index": index, "versions": versions(),
                                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    judge_pipe = Pipeline(judge) if judge else None
    make = pipeline_factory or (lambda r: Pipeline(r, index_dir=index))
    with open(path, "a", encoding="utf-8") as f, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            disable=not progress) as bar:
        for recipe in recipes:
            todo = [i for i in items if (recipe.name, i.id) not in done]
            task = bar.add_task(f"{recipe.name} ({recipe.label})", total=len(items), completed=len(items) - len(todo))
            if not todo:
                continue
            pipe = make(recipe)
            bs = recipe.generation.batch_size
            for start in range(0, len(todo), bs):
                batch = todo[start:start + bs]
                t0 = time.perf_counter()
                answers = pipe.answer([i.question for i in batch])
                wall = time.perf_counter() - t0
                verdicts = _judge(judge_pipe, batch, answers) if judge_pipe else [None] * len(batch)
                for item, ans, verdict in zip(batch, answers, verdicts):
                    rec = _record(recipe, item, ans, wall / len(batch))
                    if verdict is not None and item.answers and rec["grade"] != "abstained":
                        rec["judge"] = verdict
                        rec["grade"] = "correct" if verdict else "incorrect"
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                    records.append(rec)
                f.flush()
                os.fsync(f.fileno())
                bar.advance(task, len(batch))
            del pipe
    summary = summarize(records, recipes, suite_name, one_off_s or {})
    write_json(out / "summary.json", summary)
    write_reports(out, summary, records)
    return summary


def _rewrite(path: Path, records: list[dict[str, Any]]) -> None:
    from adapt.artifacts import write_text

    write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _record(recipe: Recipe, item: Item, ans: Any, wall_s: float) -> dict[str, Any]:
    g = ans.generation
    graded = grade(ans.text, item.answers, recipe.generation.abstain_phrase)
    rank = retrieval_hit(ans.sources, item.source, item.context) if recipe.rag and recipe.rung != "baseline" else None
    return {
        "recipe": recipe.name, "rung": recipe.label, "id": item.id, "question": item.question,
        "gold": item.answers, "answer": ans.text, **graded,
        "input_tokens": g.input_tokens, "output_tokens": g.output_tokens,
        "latency_ms": round((g.latency_s + ans.retrieval_s) * 1000, 2),
        "ttft_ms": round(((g.ttft_s or g.latency_s) + ans.retrieval_s) * 1000, 2),
        "retrieval_ms": round(ans.retrieval_s * 1000, 2) if recipe.rag else None,
        "wall_ms": round(wall_s * 1000, 2),
        "sources": [s.get("chunk_id") or s.get("source") for s in ans.sources],
        "gold_source": item.source, "retrieval_rank": rank,
    }


def _judge(pipe: Any, batch: list[Item], answers: list[Any]) -> list[bool | None]:
    prompts = [JUDGE_PROMPT.format(q=i.question, gold=" | ".join(i.answers) or "(none)", a=a.text)
               for i, a in zip(batch, answers)]
    verdicts = pipe.answer(prompts, max_new_tokens=3)
    return [v.text.strip().lower().startswith("yes") for v in verdicts]
