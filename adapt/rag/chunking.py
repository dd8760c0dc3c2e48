"""Structure-aware chunking, sized in the embedder's tokens.

Markdown sections stay together under their heading path; within a section whole paragraphs are
packed up to the chunk size, and only a paragraph longer than a chunk is cut (by token offsets, with
overlap). Every chunk keeps character offsets into its document, so a citation points at real text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from adapt.rag.loaders import Document

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
_PARA_BREAK = re.compile(r"\n\s*\n")


@dataclass
class Chunk:
    chunk_id: str
    source: str
    file: str
    title: str
    heading: str
    text: str
    start: int
    end: int
    location: str | None  # "p. 12", "slide 3", "sheet Japan": where in its file, when the file has such units
    type: str  # the file's type: pdf, docx, md...
    modified: str  # the file's mtime, ISO 8601 UTC
    tags: list[str]  # from front matter and metadata.yaml sidecars

    def embed_text(self) -> str:
        """What gets embedded and BM25-indexed: the heading path gives a short chunk its topic."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sections(doc: Document) -> list[tuple[str, int, int]]:
    """(heading path, start, end) spans; the heading line itself is left out of the body."""
    if not doc.markdown:
        return [(doc.title if doc.title != doc.source else "", 0, len(doc.text))]
    out, stack, pos, heading = [], [], 0, ""
    for m in _HEADING.finditer(doc.text):
        out.append((heading, pos, m.start()))
        level, title = len(m.group(1)), m.group(2).strip()
        stack = [(lv, t) for lv, t in stack if lv < level] + [(level, title)]
        heading = " > ".join(t for _, t in stack)
        pos = m.end()
    out.append((heading, pos, len(doc.text)))
    return [(h, s, e) for h, s, e in out if doc.text[s:e].strip()]


def paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, pos = [], start
    for m in _PARA_BREAK.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    out = []
    for s, e in spans:  # trim whitespace so offsets point at text
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def chunk_document(doc: Document, tokenizer: Any, chunk_size: int, overlap: int, meta: dict[str, Any]) -> list[Chunk]:
    """`meta`: the file's type, modified and tags (loaders.metadata), which every chunk carries."""
    text = doc.text
    spans: list[tuple[str, int, int]] = []  # (heading, start, end) of each chunk
    for heading, s0, e0 in sections(doc):
        paras = paragraphs(text, s0, e0)
        if not paras:
            continue
        enc = tokenizer([text[s:e] for s, e in paras], add_special_tokens=False, return_offsets_mapping=True)
        cur: list[tuple[int, int, int]] = []  # (start, end, tokens)
        for (s, e), offs in zip(paras, enc["offset_mapping"]):
            n = len(offs)
            if n > chunk_size:  # a paragraph longer than a chunk: token windows with overlap
                if cur:
                    spans.append((heading, cur[0][0], cur[-1][1]))
                    cur = []
                step = chunk_size - overlap
                for i in range(0, n, step):
                    w = offs[i:i + chunk_size]
                    spans.append((heading, s + w[0][0], s + w[-1][1]))
                    if i + chunk_size >= n:
                        break
                continue
            if cur and sum(t for *_, t in cur) + n > chunk_size:
                spans.append((heading, cur[0][0], cur[-1][1]))
                keep: list[tuple[int, int, int]] = []  # trailing paragraphs that fit in the overlap
                for p in reversed(cur):
                    if sum(t for *_, t in keep) + p[2] > overlap or sum(t for *_, t in keep) + p[2] + n > chunk_size:
                        break
                    keep.insert(0, p)
                cur = keep
            cur.append((s, e, n))
        if cur:
            spans.append((heading, cur[0][0], cur[-1][1]))
    return [Chunk(f"{doc.source}#{i}", doc.source, doc.file, doc.title, h, text[s:e], s, e, location(doc.units, h),
                  **meta) for i, (h, s, e) in enumerate(spans)]


_UNIT = {"page": (re.compile(r"Page (\d+)$"), "p. {}"), "slide": (re.compile(r"Slide (\d+)\b"), "slide {}"),
         "sheet": (re.compile(r"(.+)"), "sheet {}")}


def location(units: str | None, heading: str) -> str | None:
    """The page, slide or sheet a chunk is on: its top-level heading, where the loader made one per unit."""
    if units not in _UNIT or not heading:
        return None
    pattern, label = _UNIT[units]
    m = pattern.match(heading.split(" > ")[0])
    return label.format(m.group(1)) if m else None
