"""Fine-tuning data: JSONL, CSV or a datasets folder in chat, instruction or prompt/completion form.

Every row becomes a conversational prompt/completion pair, which trl renders with the model's chat
template and trains on the completion only.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from adapt.artifacts import read_jsonl
from adapt.errors import UserError
from adapt.rag import MODE

Example = dict[str, list[dict[str, str]]]  # {"prompt": [...messages], "completion": [assistant message]}


def read_rows(path: str | Path) -> list[tuple[int, Any]]:
    """(line number, row) pairs; a row that is not valid JSON is reported with its line."""
    path = Path(path)
    if path.is_dir():
        from datasets import load_from_disk

        try:
            ds = load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as e:
            raise UserError(f"{path}: not a datasets folder saved with save_to_disk ({e})") from None
        if hasattr(ds, "keys"):  # a DatasetDict: train split
            if "train" not in ds:
                raise UserError(f"{path}: a DatasetDict needs a 'train' split")
            ds = ds["train"]
        return [(i + 1, row) for i, row in enumerate(ds)]
    if not path.is_file():
        raise UserError(f"training data not found: {path}")
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            return [(i + 2, row) for i, row in enumerate(csv.DictReader(f))]  # line 1 is the header
    # The project's one JSONL reader: it splits on "\n" only, so a row whose text holds U+2028 and
    # friends (raw under json.dumps(ensure_ascii=False)) stays one row; bad lines are named file:line.
    return read_jsonl(path)


def to_example(row: Any, where: str) -> Example:
    """One row in any supported form -> a conversational prompt/completion pair."""
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected an object, got {type(row).__name__}")
    if "messages" in row:
        msgs = row["messages"]
        if (not isinstance(msgs, list) or not msgs or not all(isinstance(m, dict) and isinstance(m.get("content"), str)
                                                             and m.get("role") in ("system", "user", "assistant")
                                                             for m in msgs)):
            raise UserError(f"{where}: 'messages' must be a list of {{role: system|user|assistant, content: str}}")
        if msgs[-1]["role"] != "assistant" or len(msgs) < 2:
            raise UserError(f"{where}: 'messages' must end with an assistant message after a user message")
        return {"prompt": [dict(role=m["role"], content=m["content"]) for m in msgs[:-1]],
                "completion": [{"role": "assistant", "content": msgs[-1]["content"]}]}
    if "instruction" in row:
        out = row.get("output")
        if not isinstance(row["instruction"], str) or not isinstance(out, str) or not out.strip():
            raise UserError(f"{where}: an instruction row needs string 'instruction' and non-empty 'output'")
        user = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
        return {"prompt": [{"role": "user", "content": user}], "completion": [{"role": "assistant", "content": out}]}
    if "prompt" in row and "completion" in row:
        p, c = row["prompt"], row["completion"]
        if not isinstance(p, str) or not isinstance(c, str) or not c.strip():
            raise UserError(f"{where}: 'prompt' and 'completion' must be strings (completion non-empty)")
        return {"prompt": [{"role": "user", "content": p}], "completion": [{"role": "assistant", "content": c}]}
    raise UserError(f"{where}: unknown row form (keys {sorted(row)}): use 'messages', "
                    "'instruction'/'input'/'output', or 'prompt'/'completion'")


def load_examples(path: str | Path) -> list[Example]:
    return [to_example(row, f"{path}:{n}") for n, row in read_rows(path)]


def fingerprint(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps(e, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def knowledge_examples(items: list[Any], index: Any, k: int, abstain: str, mode: str = MODE) -> list[Example]:
    """Knowledge mode: question + retrieved passages -> the gold answer (cited), or the abstain phrase.

    Teaches a small model to answer from context and to decline when the passages lack the answer,
    which is what the RAG-on-a-fine-tuned-model rung needs.
    """
    from adapt.prompts import grounded_messages

    out = []
    for item in items:
        passages = index.search(item.question, k=k, mode=mode)
        if item.answers:
            gold = item.answers[0]
            cite = next((i for i, p in enumerate(passages, 1) if gold.lower() in p.text.lower()), None)
            answer = f"{gold} [{cite}]" if cite else gold
        else:
            answer = abstain
        prompt = grounded_messages(item.question, passages, abstain)
        out.append({"prompt": prompt, "completion": [{"role": "assistant", "content": answer}]})
    return out
