from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))  # docgen: the documents' writer

# the file metadata every chunk carries, for tests that chunk a Document directly
META = {"type": "md", "modified": "2026-01-01T00:00:00Z", "tags": []}


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (scripts/docgen.py writes it, as it writes the demo's PDF)."""
    from docgen import Page, pdf_bytes

    return pdf_bytes([Page("", [text])])


@pytest.fixture(scope="session")
def embedder_model():
    from adapt.models import load_embedder

    return load_embedder("all-minilm-l6-v2", dev="cpu")


@pytest.fixture
def mixed_docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    (d / "sub").mkdir(parents=True)
    (d / "guide.md").write_text("# Guide\n\n## Parking\n\nThe garage code is 4711.\n\n## Lunch\n\nLunch is at noon.\n")
    (d / "notes.txt").write_text("Plain notes: the ferry leaves at 6 pm.\n")
    (d / "page.html").write_text("<html><head><title>Page</title><style>p{color:red}</style>"
                                 "<script>var secret='tracking';</script></head><body><h1>Welcome</h1>"
                                 "<p>The library closes at eight.</p></body></html>")
    (d / "sub" / "report.pdf").write_bytes(tiny_pdf("Quarterly revenue grew by nine percent."))
    (d / "rows.jsonl").write_text('{"id": "a1", "title": "Alpha", "text": "Alpha team owns billing."}\n'
                                  '{"text": "Beta team owns search."}\n')
    (d / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    (d / "blob.txt").write_bytes(bytes(range(256)) * 4)
    (d / "empty.md").write_text("  \n")
    (d / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (d / ".hidden.md").write_text("# Secret\n\nnever index me")
    return d
