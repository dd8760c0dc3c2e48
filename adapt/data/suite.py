"""Eval suites: JSONL rows of id, question, answers (empty = unanswerable), optional source/context.

Synthetic suites (`adapt data synth`) add kind, plausible_answers (what the set-aside document says,
SQuAD 2.0's name), hard (the question does not retrieve its own chunk) and chunk_id."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path

from adapt.errors import UserError

SPLIT_SEED = 0  # one seed for every train/eval split of a suite: the ladder's and `adapt finetune`'s
TRAIN_FRACTION = 0.5  # the share of a suite that trains an adapter; the rest is held out for eval


@dataclass
class Item:
    id: str
    question: str
    answers: list[str]
    source: str | None = None
    context: str | None = None
    kind: str | None = None  # "answerable" | "unanswerable"
    plausible_answers: list[str] | None = None
    hard: bool | None = None
    chunk_id: str | None = None

OPTIONAL = {"source": str, "context": str, "kind": str, "plausible_answers": list, "hard": bool, "chunk_id": str}


def load_suite(path: str | Path) -> list[Item]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"suite not found: {path}")
    from adapt.artifacts import read_jsonl

    items, seen = [], set()
    for n, row in read_jsonl(path):
        where = f"{path}:{n}"
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a JSON object")
        for key, typ in (("id", (str, int)), ("question", str), ("answers", list)):
            if key not in row:
                raise UserError(f"{where}: field '{key}' is missing")
            if not isinstance(row[key], typ):
                raise UserError(f"{where}: field '{key}' has the wrong type ({type(row[key]).__name__})")
        if not all(isinstance(a, str) for a in row["answers"]):
            raise UserError(f"{where}: field 'answers' must be a list of strings")
        extra = set(row) - {"id", "question", "answers", *OPTIONAL}
        if extra:
            raise UserError(f"{where}: unknown field(s) {sorted(extra)}")
        for key, typ in OPTIONAL.items():
            if row.get(key) is not None and not isinstance(row[key], typ):
                raise UserError(f"{where}: field '{key}' has the wrong type ({type(row[key]).__name__})")
        if row.get("kind") not in (None, "answerable", "unanswerable"):
            raise UserError(f"{where}: field 'kind' must be 'answerable' or 'unanswerable', not {row['kind']!r}")
        if str(row["id"]) in seen:
            raise UserError(f"{where}: duplicate id '{row['id']}'")
        seen.add(str(row["id"]))
        items.append(Item(str(row["id"]), row["question"], row["answers"], **{k: row.get(k) for k in OPTIONAL}))
    if not items:
        raise UserError(f"{path}: no items")
    return items


def write_suite(items: list[Item], path: str | Path) -> None:
    """Write a suite atomically; unset optional fields are left out of each row."""
    from adapt.artifacts import write_jsonl

    write_jsonl(Path(path), [{k: v for k, v in asdict(i).items() if v is not None} for i in items])


def split_items(items: list[Item], train_fraction: float, seed: int = SPLIT_SEED) -> tuple[list[Item], list[Item]]:
    """A split by id, stratified so both halves keep answerable and unanswerable items."""
    rng = random.Random(seed)
    train, held = [], []
    for group in ([i for i in items if i.answers], [i for i in items if not i.answers]):
        group = sorted(group, key=lambda i: i.id)
        rng.shuffle(group)
        n = round(len(group) * train_fraction)
        train += group[:n]
        held += group[n:]
    return train, held


def stratified_head(items: list[Item], n: int) -> list[Item]:
    """The first n items, keeping the suite's share of unanswerable items (in suite order)."""
    if n >= len(items):
        return list(items)
    unans = [i for i in items if not i.answers]
    k = round(n * len(unans) / len(items))
    keep = {id(i) for i in [i for i in items if i.answers][:n - k] + unans[:k]}
    return [i for i in items if id(i) in keep]
