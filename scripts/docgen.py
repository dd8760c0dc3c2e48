"""Small writers for Word, PowerPoint, Excel and PDF files, for demo corpora and benchmarks.

    from docgen import write_docx, write_pptx, write_xlsx, write_pdf

The same content gives the same bytes (with the same library versions): core properties carry a
fixed date, the zip-based formats are re-packed with fixed entry timestamps, and the PDF writer puts
no date in at all. So a generated corpus can be committed and checked for drift by regenerating it.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXED_DATE = dt.datetime(2025, 1, 6, 9, 0, 0)  # written into every core-properties block
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest timestamp a zip entry can carry
AUTHOR = "Kestrel Labs"

# A docx block: ("title", text), ("h1"|"h2"|"h3", text), ("p", text) or ("table", rows), the first row the header.
Block = tuple[str, str] | tuple[str, Sequence[Sequence[str]]]
# A PDF line: a string, or a table row whose cells go into aligned columns.
Line = str | Sequence[str]


@dataclass
class Slide:
    """A title-and-content slide; `table` (first row the header) goes below the bullets."""

    title: str
    bullets: Sequence[str] = ()
    table: Sequence[Sequence[str]] | None = None
    notes: str = ""


@dataclass
class Page:
    """A PDF page: a bold heading, then lines of 11 pt Helvetica."""

    heading: str
    lines: Sequence[Line] = field(default_factory=list)


def _repack(data: bytes, path: Path, replace: dict[str, bytes] | None = None) -> None:
    """Write the zip `data` to `path` with every entry's timestamp fixed (the libraries stamp the
    current time), keeping entry order, so equal content gives equal bytes. `replace`: entries whose
    content is swapped on the way."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, replace.get(info.filename) or src.read(info))
    path.write_bytes(out.getvalue())


def _core(props: Any, title: str) -> None:
    """Fixed core properties: python-docx and python-pptx stamp the save time otherwise."""
    props.title = title
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    props.last_printed = FIXED_DATE
    props.revision = 1


def write_docx(path: str | Path, blocks: Sequence[Block], title: str = "") -> None:
    """A Word document of headings (Title, Heading 1-3), paragraphs and tables, in order."""
    import docx

    d = docx.Document()
    _core(d.core_properties, title)
    for kind, payload in blocks:
        if kind == "title":
            d.add_heading(payload, 0)
        elif kind in ("h1", "h2", "h3"):
            d.add_heading(payload, int(kind[1]))
        elif kind == "p":
            d.add_paragraph(payload)
        elif kind == "table":
            table = d.add_table(rows=0, cols=len(payload[0]))
            table.style = "Table Grid"
            for row in payload:
                for cell, text in zip(table.add_row().cells, row):
                    cell.text = str(text)
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    buf = io.BytesIO()
    d.save(buf)
    _repack(buf.getvalue(), Path(path))


def write_pptx(path: str | Path, slides: Sequence[Slide], title: str = "") -> None:
    """A deck of title-and-content slides; a slide's table sits under its bullets."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    deck = Presentation()
    _core(deck.core_properties, title)
    for s in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])  # "Title and Content"
        slide.shapes.title.text = s.title
        body = slide.placeholders[1]
        if s.bullets:
            body.text_frame.text = s.bullets[0]
            for bullet in s.bullets[1:]:
                body.text_frame.add_paragraph().text = bullet
        else:  # an empty placeholder shows "Click to add text" in PowerPoint
            body.element.getparent().remove(body.element)
        if s.table:
            top = Inches(3.2) if s.bullets else Inches(1.6)
            shape = slide.shapes.add_table(len(s.table), len(s.table[0]), Inches(0.6), top, Inches(8.8),
                                           Inches(0.4) * len(s.table))
            for r, row in enumerate(s.table):
                for c, text in enumerate(row):
                    cell = shape.table.cell(r, c)
                    cell.text = str(text)
                    cell.text_frame.paragraphs[0].font.size = Pt(14)
        if s.notes:
            slide.notes_slide.notes_text_frame.text = s.notes
    buf = io.BytesIO()
    deck.save(buf)
    _repack(buf.getvalue(), Path(path))


def write_xlsx(path: str | Path, sheets: dict[str, Sequence[Sequence[object]]], title: str = "") -> None:
    """A workbook with one sheet per entry (name -> rows, the first the header), header in bold."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.xml.constants import ARC_CORE
    from openpyxl.xml.functions import tostring

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for col in sheet.columns:  # wide enough to read, computed so it stays deterministic
            sheet.column_dimensions[col[0].column_letter].width = max(len(str(c.value or "")) for c in col) + 2
    book.properties.title = title
    book.properties.creator = AUTHOR
    book.properties.lastModifiedBy = AUTHOR
    book.properties.created = FIXED_DATE
    buf = io.BytesIO()
    book.save(buf)
    book.properties.modified = FIXED_DATE  # save() stamps the current time; put the fixed date back
    _repack(buf.getvalue(), Path(path), {ARC_CORE: tostring(book.properties.to_tree())})


def _pdf_text(s: str) -> bytes:
    """A PDF string literal's body: WinAnsi bytes with the three special characters escaped."""
    raw = s.encode("cp1252")  # the fonts below use WinAnsiEncoding; anything else is an error
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_page(page: Page) -> bytes:
    """The content stream of one page: heading in 14 pt bold, lines in 11 pt, table rows in columns."""
    left, top, leading = 72, 720, 16
    rows = [ln for ln in page.lines if not isinstance(ln, str)]
    # column starts from the widest cell per column (Helvetica averages about 0.55 em per character)
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(max(map(len, rows), default=0))]
    starts = [left + int(sum(w * 11 * 0.55 + 24 for w in widths[:i])) for i in range(len(widths))]
    ops = [b"BT /F2 14 Tf %d %d Td (%s) Tj ET" % (left, top, _pdf_text(page.heading))]
    y = top - 2 * leading
    for line in page.lines:
        if y < 72:  # the bottom margin
            raise ValueError(f"page {page.heading!r} has more lines than fit on it")
        if isinstance(line, str):
            if line:  # an empty line is a gap between paragraphs
                ops.append(b"BT /F1 11 Tf %d %d Td (%s) Tj ET" % (left, y, _pdf_text(line)))
        else:
            ops += [b"BT /F1 11 Tf %d %d Td (%s) Tj ET" % (x, y, _pdf_text(cell)) for x, cell in zip(starts, line)]
        y -= leading
    return b"\n".join(ops)


def write_pdf(path: str | Path, pages: Sequence[Page], title: str = "") -> None:
    Path(path).write_bytes(pdf_bytes(pages, title))


def pdf_bytes(pages: Sequence[Page], title: str = "") -> bytes:
    """A PDF with one US Letter page per `Page`, in the standard Helvetica fonts, with a correct xref
    table. Long lines are not wrapped: keep them under about 90 characters."""
    n = len(pages)
    # objects: 1 catalog, 2 page tree, 3-4 fonts, 5 info, then a page and its content stream per page
    kids = b" ".join(b"%d 0 R" % (6 + 2 * i) for i in range(n))
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
            font % b"Helvetica", font % b"Helvetica-Bold",
            b"<< /Title (%s) /Author (%s) /Producer (scripts/docgen.py) >>" % (_pdf_text(title), _pdf_text(AUTHOR))]
    for i, page in enumerate(pages):
        stream = _pdf_page(page)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
                    b"/F2 4 0 R >> >> /Contents %d 0 R >>" % (7 + 2 * i))
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)
