"""`adapt eval`: every recipe on every item, batched, written as it goes, resumable.

Per recipe: one warm-up batch (discarded), then every item in batches of generation.batch_size
(quality, throughput and cost come from this pass), then a sample of items one request at a time
(latency at concurrency 1, the same way for every rung). items.jsonl and timings.jsonl get their
records after each batch (flushed and fsynced), so a crash loses at most the batch in flight.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from adapt import rungs
from adapt.artifacts import adapter_run, jsonl_text, read_jsonl, sha256_file, versions, write_json, write_text
from adapt.data.suite import Item, load_suite, stratified_head
from adapt.errors import UserError
from adapt.eval import LATENCY_ITEMS
from adapt.eval.metrics import JUDGE_PROMPT, grade, judge_gold, parse_judge, retrieval_hit
from adapt.eval.records import ItemRecord, Timing
from adapt.eval.registry import ABSTAINED
from adapt.eval.summary import summarize
from adapt.rag import support
from adapt.rag.guard import best_similarity
from adapt.recipe import Recipe

WARM_UP = "What is this collection of documents about?"


def read_records(path: Path) -> list[ItemRecord]:
    """The graded answers of a (possibly interrupted) run's items.jsonl; a torn last line is dropped."""
    return [ItemRecord.from_dict(row) for row in _read_rows(path)]


def read_timings(path: Path) -> list[Timing]:
    """The timed requests of a (possibly interrupted) run's timings.jsonl; a torn last line is dropped."""
    return [Timing.from_dict(row) for row in _read_rows(path)]


def _read_rows(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in read_jsonl(path, torn_tail_ok=True)] if path.is_file() else []


def trained_ids(recipe: Recipe) -> set[str]:
    """Item ids the recipe's adapter was trained on, as its run.json recorded them."""
    return set(adapter_run(recipe.adapter_dir).get("data", {}).get("train_ids", []))


def evaluate(recipes: list[Recipe], items: list[Item], out: str | Path, index: str | None = None,
             resume: bool = False, judge: Recipe | None = None, suite_name: str = "suite",
             suite_path: str | Path | None = None, one_off_s: dict[str, float] | None = None,
             progress: bool = True, latency_items: int = LATENCY_ITEMS, allow_train_items: bool = False,
             notes: list[str] | None = None, pipeline_factory: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Run, grade, summarize and report. Returns the summary (also written to out/summary.json)."""
    from adapt.eval.report import write_reports
    from adapt.pipeline import Pipeline

    out = Path(out)
    path, tpath = out / "items.jsonl", out / "timings.jsonl"
    notes = list(notes or [])
    if path.exists() and not resume:
        raise UserError(f"{out} already holds results: add --resume to continue that run, or choose another --out")
    if not allow_train_items:
        items, left_out = _without_trained(recipes, items)
        notes += left_out
    if not items:
        raise UserError("no items left to evaluate" + (f" ({'; '.join(notes)})" if notes else ""))
    run_info = {"suite": suite_name, "suite_sha256": sha256_file(Path(suite_path)) if suite_path else None,
                "item_ids": [i.id for i in items], "recipes": {r.name: r.model_dump(mode="json") for r in recipes}}
    _check_resume(out / "run.json", run_info)
    out.mkdir(parents=True, exist_ok=True)
    records, timings = read_records(path), read_timings(tpath)
    _rewrite(path, records)  # drop a torn tail before appending
    _rewrite(tpath, timings)
    done = {(r.recipe, r.id) for r in records}
    timed = {(t.recipe, t.id) for t in timings}
    write_json(out / "run.json", {**run_info, "index": index, "versions": versions(), "notes": notes,
                                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    judge_gen = _judge_generator(judge) if judge else None
    make = pipeline_factory or (lambda r: Pipeline(r, index_dir=index))
    sample = stratified_head(items, latency_items)
    with open(path, "a", encoding="utf-8") as f, open(tpath, "a", encoding="utf-8") as tf, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            disable=not progress) as bar:
        for recipe in recipes:
            todo = [i for i in items if (recipe.name, i.id) not in done]
            to_time = [i for i in sample if (recipe.name, i.id) not in timed]
            task = bar.add_task(f"{recipe.name} ({recipe.rung})", total=len(items) + len(sample),
                                completed=len(items) - len(todo) + len(sample) - len(to_time))
            if not todo and not to_time:
                continue
            pipe = make(recipe)
            bs = recipe.generation.batch_size
            # warm-up: first calls pay for lazy init; questions from outside the suite, so no timed item
            # is answered from a prompt cache (vLLM, APIs)
            pipe.answer([WARM_UP] * bs)
            for start in range(0, len(todo), bs):
                batch = todo[start:start + bs]
                t0 = time.perf_counter()
                answers = pipe.answer([i.question for i in batch])
                wall = time.perf_counter() - t0
                new = [_record(recipe, item, ans, wall / len(batch)) for item, ans in zip(batch, answers)]
                if judge_gen is not None:
                    _apply_judge(judge_gen, batch, new, answers)
                _append(f, new)
                records += new
                bar.advance(task, len(batch))
            for item in to_time:  # latency: one request at a time, after the warm-up
                ans = pipe.answer([item.question])[0]
                g = ans.generation
                t = Timing(recipe=recipe.name, id=item.id,
                           latency_ms=round((g.latency_s + ans.retrieval_s) * 1000, 2),
                           ttft_ms=round(((g.ttft_s or g.latency_s) + ans.retrieval_s) * 1000, 2),
                           retrieval_ms=round(ans.retrieval_s * 1000, 2) if rungs.get(recipe.rung).reads_index
                           else None)
                _append(tf, [t])
                timings.append(t)
                bar.advance(task, 1)
            del pipe
    if one_off_s is None:
        one_off_s = {r.name: rungs.get(r.rung).one_off_seconds(r, index) for r in recipes}
    unread = sum(1 for r in records if r.judge_raw is not None and r.lexical_grade is None)
    if unread:
        notes.append(f"the judge's reply could not be read for {unread} answer(s); they keep the lexical grade")
    judged = {r.grade for r in records if r.lexical_grade is not None}
    if len(judged) == 1 and sum(r.lexical_grade is not None for r in records) >= 10:
        notes.append(f"the judge gave every answer the same grade ({judged.pop()}): it is not telling answers "
                     "apart, so check the judge before trusting its grades")
    if len(items) < 100:
        notes.append(f"{len(items)} items: fewer than 100, so intervals are wide and small differences between "
                     "rungs are not significant")
    ids = {i.id for i in items}
    records = [r for r in records if r.id in ids]
    summary = summarize(records, recipes, suite_name, one_off_s, [t for t in timings if t.id in ids], notes)
    write_json(out / "summary.json", summary)
    write_reports(out, summary, records, timings)
    return summary


def check_counts(limit: int | None, latency_items: int | None) -> None:
    if limit is not None and limit < 1:
        raise UserError(f"must be at least 1, not {limit}", param="limit")
    if latency_items is not None and latency_items < 0:
        raise UserError(f"must be 0 or more, not {latency_items}", param="latency_items")


def evaluate_suite(recipes: list[Recipe], suite: str | Path, out: str | Path, index: str | None = None,
                   limit: int | None = None, **kwargs: Any) -> dict[str, Any]:
    """`adapt eval`: the suite file's items (the first `limit`, stratified) through evaluate()."""
    check_counts(limit, kwargs.get("latency_items"))
    suite = Path(suite)
    items = load_suite(suite)
    return evaluate(recipes, stratified_head(items, limit) if limit else items, out, index=index,
                    suite_name=suite.name, suite_path=suite, **kwargs)


def _without_trained(recipes: list[Recipe], items: list[Item]) -> tuple[list[Item], list[str]]:
    notes, drop = [], set()
    for r in recipes:
        seen = trained_ids(r) & {i.id for i in items}
        if seen:
            notes.append(f"left out {len(seen)} item(s) that the adapter of {r.name} was trained on "
                         "(--allow-train-items keeps them)")
            drop |= seen
    return [i for i in items if i.id not in drop], notes


def _check_resume(run_json: Path, new: dict[str, Any]) -> None:
    """A resumed run must be the same run: same suite file, same items, same recipe per name."""
    if not run_json.is_file():
        return
    old = json.loads(run_json.read_text())
    if old.get("suite_sha256") and new["suite_sha256"] and old["suite_sha256"] != new["suite_sha256"]:
        raise UserError(f"{run_json.parent} was run on a different suite (sha256 {old['suite_sha256'][:12]}, now "
                        f"{new['suite_sha256'][:12]}): choose another --out")
    if old.get("item_ids") is not None and old["item_ids"] != new["item_ids"]:
        raise UserError(f"{run_json.parent} was run on other items ({len(old['item_ids'])} then, "
                        f"{len(new['item_ids'])} now; --limit or the suite changed): choose another --out")
    for name, dump in new["recipes"].items():
        before = (old.get("recipes") or {}).get(name)
        if isinstance(before, dict) and before != dump:
            raise UserError(f"recipe '{name}' changed since {run_json.parent} was started: choose another --out")


def _append(f: Any, rows: list[ItemRecord] | list[Timing]) -> None:
    f.write(jsonl_text(r.to_dict() for r in rows))
    f.flush()
    os.fsync(f.fileno())


def _rewrite(path: Path, rows: list[ItemRecord] | list[Timing]) -> None:
    if path.exists():
        write_text(path, jsonl_text(r.to_dict() for r in rows))


def _record(recipe: Recipe, item: Item, ans: Any, wall_s: float) -> ItemRecord:
    g = ans.generation
    abstain = recipe.generation.abstain_phrase
    graded = grade(ans.text, item.answers, item.question, abstain)
    retrieves = rungs.get(recipe.rung).retrieves
    rec = ItemRecord(
        recipe=recipe.name, rung=recipe.rung, id=item.id, question=item.question,
        gold=item.answers, answer=ans.text, grade=graded.label, reason=graded.reason,
        em=graded.em, f1=graded.f1, input_tokens=g.input_tokens, output_tokens=g.output_tokens,
        usage_estimated=g.usage_estimated, wall_ms=round(wall_s * 1000, 2),
        sources=[s.chunk_id for s in ans.sources],
        citations=[s.citation() for s in ans.sources],
        gold_source=item.source, ranked=retrieves,
        retrieval_rank=retrieval_hit(ans.sources, item.source, item.context) if retrieves else None,
        raw_answer=ans.raw_text, guard=ans.guard,
    )
    if retrieves:
        passages = [s.text for s in ans.sources]
        rec.similarity = best_similarity(ans.sources)
        found = support.check(ans.text, passages, item.question, abstain) if graded.label != ABSTAINED else None
        if found is not None:
            rec.supported, rec.support_reason = found.holds(), found.reason()
            rec.citations_supported = support.citations_hold(ans.text, passages, item.question, abstain)
        if ans.guard_reason is not None:  # what the guard stopped: its reason, not the abstain phrase's
            rec.support_reason = ans.guard_reason
        if rec.supported is False or ans.guard in ("gated", "unsupported"):
            rec.passages = passages
    return rec


def _judge_generator(judge: Recipe) -> Any:
    from adapt.backends import make_generator

    if judge.model is None:
        raise UserError(f"recipe '{judge.name}' has no model to grade with", param="judge")
    return make_generator(judge.model, judge.generation.batch_size)


def _apply_judge(gen: Any, batch: list[Item], records: list[ItemRecord], answers: list[Any]) -> None:
    """The judge's label becomes the grade; the lexical one stays beside it, so agreement is measurable.
    An unreadable verdict keeps the lexical grade. Where the lexical check judged an answer's support,
    the judge's support verdict replaces it too (the lexical reason stays, marked as such)."""
    from adapt.backends import chat

    prompts = [chat(JUDGE_PROMPT.format(question=i.question, gold=judge_gold(i.answers), answer=r.answer), None)
               for i, r in zip(batch, records)]
    for rec, gen_out in zip(records, gen.generate(prompts, 8, 0.0)):
        label = parse_judge(gen_out.text)
        rec.judge_raw = gen_out.text
        if label is not None:
            rec.lexical_grade = rec.grade
            rec.grade = label
    checked = [(i, r, a) for i, r, a in zip(batch, records, answers) if r.supported is not None]
    if not checked:
        return
    prompts = [chat(support.SUPPORT_PROMPT.format(
        passages="\n\n".join(f"[{n}] {h.text}" for n, h in enumerate(a.sources, 1)), question=i.question,
        answer=r.answer), None) for i, r, a in checked]
    for (_, rec, ans), gen_out in zip(checked, gen.generate(prompts, 8, 0.0)):
        verdict = support.parse_support(gen_out.text)
        rec.support_judge_raw = gen_out.text
        if verdict is not None and verdict != rec.supported:
            rec.support_reason = f"the judge says {'supported' if verdict else 'unsupported'} (lexical check: " \
                                 f"{rec.support_reason})"
            rec.supported = verdict
            rec.passages = [h.text for h in ans.sources] if not verdict else rec.passages
