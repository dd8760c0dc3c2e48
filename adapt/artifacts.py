"""What every artifact (index, adapter, eval run) records about how it was made, and atomic writes."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

import adapt
from adapt.errors import UserError

_LIBS = ("torch", "transformers", "peft", "trl", "accelerate", "datasets", "sentence-transformers",
         "faiss-cpu", "bm25s", "bitsandbytes", "vllm")


def versions() -> dict[str, str]:
    """Versions of adapt, Python and the libraries that shape results."""
    out = {"adapt": adapt.__version__, "python": platform.python_version()}
    for name in _LIBS:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def adapter_run(adapter: str | Path | None) -> dict[str, Any]:
    """The run.json `adapt finetune` wrote beside an adapter; {} when there is none."""
    run = Path(adapter).parent / "run.json" if adapter else None
    return json.loads(run.read_text()) if run is not None and run.is_file() else {}


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half of it."""
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically: into a temporary sibling, synced, then renamed over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def jsonl_text(rows: Iterable[Any]) -> str:
    """The project's one JSON Lines serialiser: one '\\n'-terminated line per row, ensure_ascii=False
    (read back with read_jsonl / parse_jsonl, which split on '\\n' only)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    """Write JSON Lines atomically."""
    write_text(path, jsonl_text(rows))


@contextlib.contextmanager
def atomic_dir(target: Path, replace: bool = False) -> Iterator[Path]:
    """A temporary sibling folder to fill; renamed to `target` when the block succeeds, removed when it
    fails, so `target` is never half-written. Without `replace`, an existing `target` (even an empty
    folder) is refused with FileExistsError, before the block runs and again just before the rename (an
    empty folder made in the microseconds between that check and the rename would still be replaced). With
    `replace`, an existing `target` is swapped out (renamed aside, then deleted) after the new folder is
    complete; if the swap fails, the old folder is put back."""
    target = Path(target)
    if not replace:
        _refuse_existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        yield tmp
        if replace and target.exists():
            _swap(tmp, target)
        else:
            _refuse_existing(target)  # os.rename would silently replace an empty folder
            os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _refuse_existing(target: Path) -> None:
    if target.exists() or target.is_symlink():
        raise FileExistsError(f"{target} already exists: not replacing it (remove it or choose another folder)")


def _swap(tmp: Path, target: Path) -> None:
    """Rename `target` aside, `tmp` into its place, then delete the old one; on any failure after the
    old folder was moved aside, move it back before re-raising."""
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
    aside = old / target.name
    try:
        os.rename(target, aside)
    except BaseException:
        shutil.rmtree(old, ignore_errors=True)
        raise
    try:
        os.rename(tmp, target)
    except BaseException:
        try:
            os.rename(aside, target)
        except OSError as e:  # cannot put it back: leave it where it is, and say where
            raise OSError(e.errno, f"could not replace {target}, nor put the old folder back; it is in {aside}") from e
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def sha256_file(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class JsonlError(UserError):
    """A line of JSON Lines that does not parse; `line` is its number, `reason` what json said."""

    def __init__(self, where: str, line: int, reason: str) -> None:
        super().__init__(f"{where}:{line}: not valid JSON ({reason})")
        self.where, self.line, self.reason = where, line, reason


def parse_jsonl(text: str, where: str, torn_tail_ok: bool = False) -> list[tuple[int, Any]]:
    """(line number, value) for each non-blank line of JSON Lines text; `where` (a path) names the text in
    errors. Splits on '\\n' only, as JSON Lines does: str.splitlines() would also break inside strings at
    U+2028, U+0085 and friends, which json.dumps leaves raw. With torn_tail_ok, an unparsable last line
    (a write cut short by a kill) is dropped; any other bad line raises JsonlError naming it."""
    lines = text.split("\n")
    out = []
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append((i + 1, json.loads(line)))
        except json.JSONDecodeError as e:
            if torn_tail_ok and i == last:
                break
            raise JsonlError(where, i + 1, e.msg) from None
    return out


def read_jsonl(path: Path, torn_tail_ok: bool = False) -> list[tuple[int, Any]]:
    """parse_jsonl over a UTF-8 file; errors name the file and line."""
    path = Path(path)
    return parse_jsonl(path.read_text(encoding="utf-8"), str(path), torn_tail_ok)
