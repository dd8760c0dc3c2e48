"""SQuAD v2 JSON -> one Markdown document per article + an eval suite."""

from __future__ import annotations

import json
import re
from pathlib import Path

from adapt.artifacts import write_text
from adapt.data.suite import Item, write_suite
from adapt.errors import UserError


def article_filename(title: str) -> str:
    return re.sub(r"[^\w.-]+", "_", title).strip("_") + ".md"


def import_squad(squad_json: str | Path, docs_dir: str | Path, suite_path: str | Path) -> tuple[int, int, int]:
    """Returns (documents, items, unanswerable items)."""
    try:
        data = json.loads(Path(squad_json).read_text(encoding="utf-8"))["data"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise UserError(f"{squad_json}: not a SQuAD v2 JSON file ({e})") from None
    docs_dir = Path(docs_dir)
    items: list[Item] = []
    for article in data:
        title = article["title"].replace("_", " ")
        name = article_filename(article["title"])
        paras = [p["context"].strip() for p in article["paragraphs"]]
        write_text(docs_dir / name, f"# {title}\n\n" + "\n\n".join(paras) + "\n")
        for p, ctx in zip(article["paragraphs"], paras):
            for qa in p["qas"]:
                answers = [] if qa.get("is_impossible") else list(dict.fromkeys(a["text"] for a in qa["answers"]))
                items.append(Item(qa["id"], qa["question"].strip(), answers, name, ctx))
    write_suite(items, suite_path)
    return len(data), len(items), sum(not i.answers for i in items)
