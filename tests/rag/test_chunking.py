from adapt.rag.chunking import chunk_document, sections
from adapt.rag.loaders import Document

from .conftest import META


def _doc(text, md=True):
    return Document("d.md", "d.md", "T", text, md)


def test_heading_path_and_offsets(embedder_model):
    text = "# Handbook\n\nIntro line.\n\n## Leave\n\nYou get 27 days.\n\n### Sick\n\nCall before ten.\n\n## Pay\n\nPaid on the 25th.\n"
    doc = _doc(text)
    assert [h for h, *_ in sections(doc)] == ["Handbook", "Handbook > Leave", "Handbook > Leave > Sick", "Handbook > Pay"]
    chunks = chunk_document(doc, embedder_model.tokenizer, chunk_size=64, overlap=8, meta=META)
    assert [c.heading for c in chunks] == ["Handbook", "Handbook > Leave", "Handbook > Leave > Sick", "Handbook > Pay"]
    for c in chunks:
        assert text[c.start:c.end] == c.text and "#" not in c.text


def test_paragraphs_pack_and_long_ones_split_with_overlap(embedder_model):
    tok = embedder_model.tokenizer
    paras = [f"Paragraph {i} says word{i} " * 3 for i in range(6)]
    long = " ".join(f"token{i}" for i in range(300))
    text = "# S\n\n" + "\n\n".join(paras) + "\n\n" + long + "\n"
    chunks = chunk_document(_doc(text), tok, chunk_size=40, overlap=10, meta=META)
    for c in chunks:
        assert len(tok(c.text, add_special_tokens=False)["input_ids"]) <= 40
        assert text[c.start:c.end] == c.text
    # 15-token paragraphs: two fit a 40-token chunk, a third does not, and none fits the 10-token
    # overlap, so the six pack whole, two to a chunk, none repeated
    assert {len(tok(p.strip(), add_special_tokens=False)["input_ids"]) for p in paras} == {15}
    packed = [[p.strip() for p in c.text.split("\n\n")] for c in chunks if "Paragraph" in c.text]
    assert packed == [[paras[i].strip(), paras[i + 1].strip()] for i in (0, 2, 4)]
    windows = [c for c in chunks if "token" in c.text]
    assert len(windows) > 3
    a = set(windows[0].text.split())
    b = set(windows[1].text.split())
    assert a & b  # neighbouring windows of one long paragraph overlap
    covered = " ".join(w.text for w in windows)
    assert "token0" in covered and "token299" in covered
