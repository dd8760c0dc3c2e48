"""Turn a folder of files into documents. A bad file is skipped with a reason; the build goes on."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from adapt.artifacts import JsonlError, parse_jsonl

SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".jsonl"}
# A build reads each file whole into memory; one stray disk image or log dump must not take the
# machine down, and no document meant for retrieval is anywhere near this size.
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class Document:
    source: str        # path relative to the docs folder (jsonl rows: path#id)
    file: str          # the file it came from, relative to the docs folder
    title: str
    text: str
    markdown: bool     # headings ("# ...") structure the text


@dataclass
class SourceFile:
    path: str
    sha256: str
    documents: list[Document]


def walk(root: Path) -> list[Path]:
    """Files under root, recursively, skipping hidden files and folders."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        out.append(p)
    return out


def check_file(path: Path, root: Path) -> None:
    """Raises ValueError with a one-line reason when `path` must not be read at all: a symlink
    leading out of the documents folder (it would put e.g. /etc/passwd into the index and hand it to
    anyone querying it), or a file over MAX_FILE_BYTES. Checked before the file is read."""
    real, base = path.resolve(), root.resolve()
    if not real.is_relative_to(base):
        raise ValueError(f"links outside the documents folder (to {real})")
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"too large ({size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES / 2**20:.0f} MB)")


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def load_file(path: Path, rel: str, raw: bytes | None = None) -> SourceFile:
    """Raises ValueError with a one-line reason when the file cannot be indexed. `raw`: the file's
    bytes when the caller has already read them."""
    raw = path.read_bytes() if raw is None else raw
    sha = sha256(raw)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"unsupported file type '{suffix or path.name}'")
    if not raw.strip():
        raise ValueError("empty file")
    if suffix == ".pdf":
        docs = [_pdf(path, rel)]
    else:
        if b"\x00" in raw[:8192]:
            raise ValueError("binary content in a text file")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"not UTF-8 text ({e.reason} at byte {e.start})") from None
        if suffix in (".html", ".htm"):
            docs = [_html(text, rel)]
        elif suffix == ".jsonl":
            docs = _jsonl(text, rel)
        else:
            md = suffix in (".md", ".markdown")
            docs = [Document(rel, rel, _md_title(text) if md else Path(rel).stem, text, md)]
    docs = [d for d in docs if d.text.strip()]
    if not docs:
        raise ValueError("no text in it")
    return SourceFile(rel, sha, docs)


def _md_title(text: str) -> str:
    m = re.search(r"^#\s+(.+)$", text, re.M)
    return m.group(1).strip() if m else ""


def _html(text: str, rel: str) -> Document:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else Path(rel).stem
    if soup.head:
        soup.head.decompose()
    # headings become Markdown headings so the chunker keeps sections together
    for h in soup.find_all(re.compile(r"^h[1-6]$")):
        h.replace_with(f"\n\n{'#' * int(h.name[1])} {h.get_text(' ', strip=True)}\n\n")
    for block in soup.find_all(["p", "li", "tr", "div", "br", "pre", "blockquote"]):
        block.insert_after("\n\n")
    body = re.sub(r"\n\s*\n+", "\n\n", soup.get_text())
    body = "\n".join(line.strip() for line in body.splitlines())
    return Document(rel, rel, title, body.strip(), True)


def _pdf(path: Path, rel: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        pages = [p.extract_text() or "" for p in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise ValueError(f"unreadable PDF ({type(e).__name__}: {e})") from None
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else None) or Path(rel).stem
    return Document(rel, rel, title, "\n\n".join(p.strip() for p in pages if p.strip()), False)


def _jsonl(text: str, rel: str) -> list[Document]:
    try:
        rows = parse_jsonl(text, rel)
    except JsonlError as e:
        raise ValueError(f"line {e.line}: expected a JSON object with a 'text' string ({e.reason})") from None
    docs = []
    for n, row in rows:
        body = row.get("text") if isinstance(row, dict) else None
        if not isinstance(body, str):
            got = (f"a {type(row).__name__}" if not isinstance(row, dict) else "no 'text'" if "text" not in row
                   else f"'text' is a {type(body).__name__}")
            raise ValueError(f"line {n}: expected a JSON object with a 'text' string (got {got})")
        doc_id = str(row.get("id", n))
        docs.append(Document(f"{rel}#{doc_id}", rel, str(row.get("title") or doc_id), body, False))
    return docs
