"""`adapt score`: grade answers that any system produced (a vendor chatbot's export, a colleague's
script) against a suite, with the same grader, metrics and report as `adapt eval`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapt.artifacts import read_jsonl, sha256_file, write_json, write_jsonl
from adapt.data.suite import load_suite
from adapt.errors import UserError
from adapt.eval import registry
from adapt.eval.metrics import grade
from adapt.eval.records import ItemRecord
from adapt.eval.summary import GRADING_POLICY, summary_row

RUNG = "external"


def read_predictions(path: Path) -> dict[str, str]:
    """{"id", "answer"} rows -> id -> answer; every problem names the file and line."""
    if not path.is_file():
        raise UserError(f"predictions not found: {path}")
    preds: dict[str, str] = {}
    for n, row in read_jsonl(path):
        where = f"{path}:{n}"
        if not isinstance(row, dict) or "id" not in row or "answer" not in row:
            raise UserError(f"{where}: expected an object with 'id' and 'answer'")
        if not isinstance(row["id"], (str, int)) or not isinstance(row["answer"], str):
            raise UserError(f"{where}: 'id' must be a string or integer and 'answer' a string")
        if str(row["id"]) in preds:
            raise UserError(f"{where}: duplicate id '{row['id']}'")
        preds[str(row["id"])] = row["answer"]
    return preds


def score(suite: Path, predictions: Path, out: Path | None = None, name: str | None = None) -> dict[str, Any]:
    """{"summary": a summary row (as summary.json holds it), "items": [{"id", "grade", "em", "f1"}, ...]};
    with `out`, the report files."""
    items = load_suite(suite)
    preds = read_predictions(predictions)
    known = {i.id for i in items}
    unknown = [p for p in preds if p not in known]
    if unknown:
        raise UserError(f"{predictions}: id '{unknown[0]}' is not in {suite}"
                        + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    missing = [i.id for i in items if i.id not in preds]
    if missing:
        raise UserError(f"{predictions}: no answer for id '{missing[0]}' of {suite}"
                        + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    name = name or predictions.stem
    records = []
    for item in items:
        g = grade(preds[item.id], item.answers, item.question)
        records.append(ItemRecord(recipe=name, rung=RUNG, id=item.id, question=item.question, gold=item.answers,
                                  answer=preds[item.id], grade=g.label, reason=g.reason, em=g.em, f1=g.f1,
                                  gold_source=item.source))
    row = summary_row(name, RUNG, records).to_dict()
    if out is not None:
        from adapt.eval.report import write_reports
        from adapt.eval.summary import compare

        summary = {"suite": suite.name, "recipes": [row], "comparisons": compare(records, [name]), "break_even": [],
                   "grading": GRADING_POLICY, "notes": [], "definitions": registry.definitions()}
        write_jsonl(out / "items.jsonl", [r.to_dict() for r in records])
        write_json(out / "run.json", {"suite": suite.name, "suite_sha256": sha256_file(suite),
                                      "predictions": str(predictions), "predictions_sha256": sha256_file(predictions)})
        write_json(out / "summary.json", summary)
        write_reports(out, summary, records, [])
    return {"summary": row, "items": [{"id": r.id, "grade": r.grade, "em": r.em, "f1": r.f1} for r in records]}
