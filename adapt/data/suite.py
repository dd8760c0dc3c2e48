"""Eval suites: JSONL rows of id, question, answers (empty = unanswerable), optional source/context."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from adapt.errors import UserError


@dataclass
class Item:
    id: str
    question: str
    answers: list[str]
    source: str | None = None
    context: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_suite(path: str | Path) -> list[Item]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"suite not found: {path}")
    items, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise UserError(f"{where}: not valid JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a JSON object")
        for key, typ in (("id", (str, int)), ("question", str), ("answers", list)):
            if key not in row:
                raise UserError(f"{where}: field '{key}' is missing")
            if not isinstance(row[key], typ):
                raise UserError(f"{where}: field '{key}' has the wrong type ({type(row[key]).__name__})")
        if not all(isinstance(a, str) for a in row["answers"]):
            raise UserError(f"{where}: field 'answers' must be a list of strings")
        extra = set(row) - {"id", "question", "answers", "source", "context"}
        if extra:
            raise UserError(f"{where}: unknown field(s) {sorted(extra)}")
        if str(row["id"]) in seen:
            raise UserError(f"{where}: duplicate id '{row['id']}'")
        seen.add(str(row["id"]))
        items.append(Item(str(row["id"]), row["question"], row["answers"], row.get("source"), row.get("context")))
    if not items:
        raise UserError(f"{path}: no items")
    return items


def write_suite(items: list[Item], path: str | Path) -> None:
    from adapt.artifacts import write_text

    write_text(Path(path), "".join(json.dumps({k: v for k, v in asdict(i).items() if v is not None},
                                              ensure_ascii=False) + "\n" for i in items))
