from adapt.rag.chunking import chunk_document, sections
from adapt.rag.loaders import Document


def _doc(text, md=True):
    return Document("d.md", "d.md", "T", text, md)


def test_heading_path_and_offsets(embedder_model):
    text = "# Handbook\n\nIntro line.\n\n## Leave\n\nYou get 27 days.\n\n### Sick\n\nCall before ten.\n\n## Pay\n\nPaid on the 25th.\n"
    doc = _doc(text)
    assert [h for h, *_ in sections(doc)] == ["Handbook", "Handbook > Leave", "Handbook > Leave > Sick", "Handbook > Pay"]
    chunks = chunk_document(doc, embedder_model.tokenizer, chunk_size=64, overlap=8)
    assert [c.heading for c in chunks] == ["Handbook", "Handbook > Leave", "Handbook > Leave > Sick", "Handbook > Pay"]
    for c in chunks:
        assert text[c.start:c.end] == c.text and "#" not in c.text


def test_paragraphs_pack_and_long_ones_split_with_overlap(embedder_model):
    tok = embedder_model.tokenizer
    paras = [f"Paragraph {i} says word{i} " * 3 for i in range(6)]
    long = " ".join(f"token{i}" for i in range(300))
    text = "# S\n\n" + "\n\n".join(paras) + "\n\n" + long + "\n"
    chunks = chunk_document(_doc(text), tok, chunk_size=40, overlap=10)
    for c in chunks:
        assert len(tok(c.text, add_special_tokens=False)["input_ids"]) <= 40
        assert text[c.start:c.end] == c.text
    short = [c for c in chunks if "Paragraph" in c.text]
    assert all(c.text.count("Paragraph") >= 1 for c in short)
    assert not any(c.text.startswith("says") for c in short)  # paragraphs are never cut
    windows = [c for c in chunks if "token" in c.text]
    assert len(windows) > 3
    a = set(windows[0].text.split())
    b = set(windows[1].text.split())
    assert a & b  # neighbouring windows of one long paragraph overlap
    covered = " ".join(w.text for w in windows)
    assert "token0" in covered and "token299" in covered
