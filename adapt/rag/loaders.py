"""Turn a folder of files into documents. A bad file is skipped with a reason; the build goes on.

Office files, spreadsheets and PDFs keep their structure as Markdown, which the heading-aware chunker
and BM25 both see: Word headings become headings, each slide, sheet and PDF page its own section
(so a citation names it), and tables become Markdown tables. A long table is cut into blocks of rows
that each repeat the header row, so a chunk holding a row still says what its columns are.

Every file also gets metadata that filters select on (adapt.rag.filters): its type, its modification
time, and tags, from Markdown front matter (`tags: [hr]`) or from a `metadata.yaml` in its folder or a
folder above it:

    tags: [hr]                  # every document in this folder and below it
    files:
      leave-*.md: {tags: [leave]}   # documents of this folder matching a glob
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from adapt.artifacts import JsonlError, parse_jsonl
from adapt.errors import UserError

SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".jsonl", ".docx", ".pptx", ".xlsx", ".csv"}
BINARY = {".pdf", ".docx", ".pptx", ".xlsx"}
TABLE_BLOCK_ROWS = 10  # rows per table block at most; each block repeats the header row
# ... and characters: a block must fit one chunk (200 embedder tokens; a table's pipes and numbers
# take a token every 2-3 characters), or the chunker would cut it and the pieces lose the header
TABLE_BLOCK_CHARS = 450
# A build reads each file whole into memory; one stray disk image or log dump must not take the
# machine down, and no document meant for retrieval is anywhere near this size.
MAX_FILE_BYTES = 50 * 1024 * 1024
METADATA_FILE = "metadata.yaml"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)


@dataclass
class Document:
    source: str        # path relative to the docs folder (jsonl rows: path#id)
    file: str          # the file it came from, relative to the docs folder
    title: str
    text: str
    markdown: bool     # headings ("# ...") structure the text
    units: str | None = None  # "page", "slide" or "sheet": each top-level heading names one


@dataclass
class SourceFile:
    path: str
    sha256: str
    documents: list[Document]


def walk(root: Path) -> list[Path]:
    """Files under root, recursively, skipping hidden files and folders and the metadata sidecars."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file() or p.name == METADATA_FILE:
            continue
        out.append(p)
    return out


def _tags(value: Any, where: str) -> list[str]:
    """A tag list as written (`[hr, policy]`, or one tag as a string); a ValueError naming `where`."""
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(t, (str, int)) and str(t).strip() for t in value):
        raise ValueError(f"{where} must be a list of tags, e.g. [hr, policy], not {value!r}")
    return [str(t).strip() for t in value]


class Sidecars:
    """The tags that the `metadata.yaml` files under a documents folder give its files. A malformed
    sidecar fails the build (a UserError naming the file and field): skipping it would silently drop
    tags, and a filter on them would then quietly return the wrong passages."""

    def __init__(self, root: Path) -> None:
        self.folders: dict[str, tuple[list[str], dict[str, list[str]]]] = {}
        for p in sorted(root.rglob(METADATA_FILE)):
            rel = p.relative_to(root)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if not p.resolve().is_relative_to(root.resolve()):  # as documents are: nothing from outside
                raise UserError(f"{p}: links outside the documents folder (to {p.resolve()})")
            self.folders[rel.parent.as_posix()] = self._read(p)

    @staticmethod
    def _read(path: Path) -> tuple[list[str], dict[str, list[str]]]:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as e:
            raise UserError(f"{path}: not readable YAML ({' '.join(str(e).split())})") from None
        if not isinstance(data, dict) or set(data) - {"tags", "files"}:
            extra = sorted(set(data) - {"tags", "files"}) if isinstance(data, dict) else None
            raise UserError(f"{path}: " + (f"unknown field(s) {', '.join(map(str, extra))}" if extra else
                                           "expected a mapping") + "; a metadata.yaml holds `tags: [...]` "
                            "and `files: {GLOB: {tags: [...]}}`")
        files = data.get("files") or {}
        if not isinstance(files, dict):
            raise UserError(f"{path}: field 'files' must map file names (globs) to {{tags: [...]}}")
        try:
            own = _tags(data.get("tags") or [], "field 'tags'")
            per_file = {}
            for pattern, entry in files.items():
                if "/" in str(pattern):
                    raise ValueError(f"field 'files.{pattern}' names a file of another folder: a metadata.yaml "
                                     "tags the files of its own folder (put one in that folder)")
                if not isinstance(entry, dict) or set(entry) - {"tags"}:
                    raise ValueError(f"field 'files.{pattern}' must be {{tags: [...]}}, not {entry!r}")
                per_file[str(pattern)] = _tags(entry.get("tags") or [], f"field 'files.{pattern}.tags'")
        except ValueError as e:
            raise UserError(f"{path}: {e}") from None
        return own, per_file

    def tags(self, rel: str) -> list[str]:
        """The tags of the file at `rel`: from every sidecar on its way down, then its own entries."""
        parts = rel.split("/")
        out: list[str] = []
        for depth in range(len(parts)):
            folder = "/".join(parts[:depth]) or "."
            own, per_file = self.folders.get(folder, ([], {}))
            out += own
            if depth == len(parts) - 1:
                out += [t for pattern, tags in per_file.items() if fnmatch.fnmatchcase(parts[-1], pattern)
                        for t in tags]
        return out


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (between `---` lines at the top of a Markdown file) and the text after it."""
    m = _FRONT_MATTER.match(text)
    if m is None:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as e:
        raise ValueError(f"front matter is not YAML ({' '.join(str(e).split())})") from None
    if meta is None:  # empty front matter, as static-site generators write it
        return {}, text[m.end():]
    if not isinstance(meta, dict):  # two horizontal rules around prose, not front matter
        return {}, text
    return meta, text[m.end():]


def metadata(path: Path, rel: str, raw: bytes, sidecars: Sidecars) -> dict[str, Any]:
    """What filters select on: `type`, `modified` (the file's mtime, UTC) and `tags` (its sidecars',
    then its front matter's, each once). Recomputed at every build, so a file whose text did not change
    still picks up a new mtime or new sidecar tags without being embedded again."""
    suffix = path.suffix.lower()
    kind = {".markdown": "md", ".htm": "html"}.get(suffix, suffix.lstrip("."))  # one name per type, for type=
    tags = sidecars.tags(rel)
    if suffix in (".md", ".markdown"):
        meta, _ = front_matter(raw.decode("utf-8-sig", errors="replace"))
        tags += _tags(meta.get("tags") or [], "front matter field 'tags'")
    modified = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime))
    return {"type": kind, "modified": modified, "tags": list(dict.fromkeys(tags))}


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
    if suffix in BINARY:
        try:
            docs = [BINARY_LOADERS[suffix](path, rel)]
        except ValueError:
            raise
        except Exception as e:  # noqa: BLE001 - the parsers raise anything on a damaged file, lazily too
            raise ValueError(f"unreadable {suffix[1:].upper()} file ({type(e).__name__}: {e})") from None
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
        elif suffix == ".csv":
            docs = [_csv(text, rel)]
        else:
            md = suffix in (".md", ".markdown")
            meta, text = front_matter(text) if md else ({}, text)
            title = str(meta.get("title") or "").strip() or (_md_title(text) if md else Path(rel).stem)
            docs = [Document(rel, rel, title, text, md)]
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
    for table in soup.find_all("table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
        table.replace_with(f"\n\n{markdown_table(rows)}\n\n")
    for block in soup.find_all(["p", "li", "tr", "div", "br", "pre", "blockquote"]):
        block.insert_after("\n\n")
    body = re.sub(r"\n\s*\n+", "\n\n", soup.get_text())
    body = "\n".join(line.strip() for line in body.splitlines())
    return Document(rel, rel, title, body.strip(), True)


def _literal(text: str) -> str:
    """Text that is not Markdown (a PDF page, a slide's body): a line starting with '#' ("# of units
    sold") is escaped, or the chunker would read it as a heading and lose the page or slide."""
    return re.sub(r"^(\s*)#", r"\1\\#", text, flags=re.M)


def markdown_table(rows: list[list[str]]) -> str:
    """Rows (the first one the header) as Markdown tables of at most TABLE_BLOCK_ROWS rows and
    TABLE_BLOCK_CHARS characters each (a row longer than that alone makes its own block), every block
    under its own copy of the header. Columns empty in every row (a spreadsheet's formatted but
    unused cells) are dropped."""
    cell = lambda c: " ".join(str(c).split()).replace("|", "\\|")  # noqa: E731 - one line per cell
    rows = [[cell(c) for c in r] for r in rows if any(str(c).strip() for c in r)]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = [j for j in range(width) if any(r[j] for r in rows)]
    rows = [[r[j] for j in keep] for r in rows]
    line = lambda r: "| " + " | ".join(r) + " |"  # noqa: E731
    head = line(rows[0]) + "\n|" + " --- |" * len(keep)
    blocks: list[list[str]] = [[]]
    for r in rows[1:]:
        size = len(head) + sum(len(x) + 1 for x in blocks[-1])
        if blocks[-1] and (len(blocks[-1]) >= TABLE_BLOCK_ROWS or size + len(line(r)) > TABLE_BLOCK_CHARS):
            blocks.append([])
        blocks[-1].append(line(r))
    return "\n\n".join("\n".join([head, *block]) for block in blocks)


def _pdf(path: Path, rel: str) -> Document:
    """One section per page, headed by its number, so a chunk (and its citation) names its page."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        # a PDF that only restricts permissions opens with the empty password; one that needs a password is refused
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError("encrypted PDF: it needs a password")
        pages = [_literal(p.extract_text() or "") for p in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise ValueError(f"unreadable PDF ({type(e).__name__}: {e})") from None
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else None) or Path(rel).stem
    text = "\n\n".join(f"# Page {n}\n\n{p.strip()}" for n, p in enumerate(pages, 1) if p.strip())
    return Document(rel, rel, title, text, True, units="page")


def _office(kind: str, path: Path, read: Any) -> Any:
    """Open an Office file; a corrupt or encrypted one is a ValueError naming why."""
    try:
        return read(path)
    except Exception as e:  # noqa: BLE001 - the libraries raise anything from KeyError to BadZipFile
        raise ValueError(f"unreadable {kind} file ({type(e).__name__}: {e})") from None


def _docx(path: Path, rel: str) -> Document:
    """Paragraphs and tables in document order; Heading N styles become Markdown headings."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = _office("Word", path, docx.Document)
    parts = []
    for block in d.iter_inner_content():
        if isinstance(block, Table):
            parts.append(markdown_table([[_cell_text(c) for c in row.cells] for row in block.rows]))
        elif isinstance(block, Paragraph) and block.text.strip():
            style = (block.style.name if block.style is not None else "") or ""
            level = style.removeprefix("Heading ").strip()
            if style == "Title":  # the document's title, above its Heading 1 sections
                parts.append(f"# {block.text.strip()}")
            elif style.startswith("Heading ") and level.isdigit():
                parts.append(f"{'#' * min(int(level) + 1, 6)} {block.text.strip()}")
            else:
                parts.append(_literal(block.text.strip()))
    title = (d.core_properties.title or "").strip() or Path(rel).stem
    return Document(rel, rel, title, "\n\n".join(p for p in parts if p), True)


def _cell_text(cell: Any) -> str:
    """A Word table cell's text, with the text of any table nested in it (cell.text leaves those out)."""
    nested = [_cell_text(c) for table in cell.tables for row in table.rows for c in row.cells]
    return " ".join([cell.text, *nested]).strip()


def _pptx(path: Path, rel: str) -> Document:
    """One section per slide, titled with its number and title; text, tables and speaker notes."""
    from pptx import Presentation

    deck = _office("PowerPoint", path, Presentation)
    parts = []
    for n, slide in enumerate(deck.slides, 1):
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text.strip() if title_shape is not None and title_shape.has_text_frame else ""
        body = []
        for shape in _flat(slide.shapes):
            # python-pptx makes a new wrapper on every access, so the title is found by its id, not `is`
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            if shape.has_table:
                body.append(markdown_table([[c.text for c in row.cells] for row in shape.table.rows]))
            elif shape.has_text_frame and shape.text_frame.text.strip():
                body.append(_literal(shape.text_frame.text.strip()))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip():
            body.append("Speaker notes: " + _literal(slide.notes_slide.notes_text_frame.text.strip()))
        if title or body:
            parts.append(f"# Slide {n}" + (f": {title}" if title else "") + "\n\n" + "\n\n".join(body))
    title = (deck.core_properties.title or "").strip() or Path(rel).stem
    return Document(rel, rel, title, "\n\n".join(parts), True, units="slide")


def _flat(shapes: Any) -> list[Any]:
    """A slide's shapes with the members of groups in place of the groups, in reading order."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out = []
    for shape in shapes:
        out += _flat(shape.shapes) if shape.shape_type == MSO_SHAPE_TYPE.GROUP else [shape]
    return out


def _xlsx(path: Path, rel: str) -> Document:
    """Each sheet a section holding its table (cell values as last computed, not formulas)."""
    import openpyxl

    book = _office("Excel", path, lambda p: openpyxl.load_workbook(p, read_only=True, data_only=True))
    parts = []
    for sheet in book.worksheets:
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        table = markdown_table(rows)
        if table:
            parts.append(f"# {sheet.title}\n\n{table}")
    title = (book.properties.title or "").strip() or Path(rel).stem
    book.close()
    return Document(rel, rel, title, "\n\n".join(parts), True, units="sheet")


def _csv(text: str, rel: str) -> Document:
    import csv

    try:
        try:  # a semicolon or tab separates the columns in many locales' exports
            dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))  # quoted fields may hold line breaks
    except csv.Error as e:
        raise ValueError(f"not CSV ({e})") from None
    return Document(rel, rel, Path(rel).stem, f"# {Path(rel).stem}\n\n{markdown_table(rows)}", True)


BINARY_LOADERS = {".pdf": _pdf, ".docx": _docx, ".pptx": _pptx, ".xlsx": _xlsx}


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
