import pytest

from adapt.rag.loaders import load_file, walk


def test_every_type_loads_and_bad_files_say_why(mixed_docs):
    loaded, skipped = {}, {}
    for p in walk(mixed_docs):
        rel = p.relative_to(mixed_docs).as_posix()
        try:
            loaded[rel] = load_file(p, rel)
        except ValueError as e:
            skipped[rel] = str(e)
    assert ".hidden.md" not in loaded | skipped
    assert set(loaded) == {"guide.md", "notes.txt", "page.html", "sub/report.pdf", "rows.jsonl"}
    assert "PDF" in skipped["broken.pdf"] or "no text" in skipped["broken.pdf"]
    assert "binary" in skipped["blob.txt"]
    assert "empty" in skipped["empty.md"]
    assert "UTF-8" in skipped["latin1.txt"]

    html = loaded["page.html"].documents[0]
    assert html.title == "Page" and "library closes at eight" in html.text and "# Welcome" in html.text
    assert "tracking" not in html.text and "color" not in html.text
    assert "nine percent" in loaded["sub/report.pdf"].documents[0].text
    rows = loaded["rows.jsonl"].documents
    assert [d.source for d in rows] == ["rows.jsonl#a1", "rows.jsonl#2"] and rows[0].title == "Alpha"
    assert loaded["guide.md"].documents[0].markdown and len(loaded["guide.md"].sha256) == 64


def test_bad_jsonl_row_names_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"text": "ok"}\n{"title": "no text"}\n')
    with pytest.raises(ValueError, match="line 2"):
        load_file(p, "x.jsonl")


def test_jsonl_documents_are_read_by_the_one_jsonl_parser(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"text": "one\u2028two", "id": "a"}\n\n{"text": "ok"}\n', encoding="utf-8")  # U+2028 stays inside row a
    assert [(d.source, d.text) for d in load_file(p, "x.jsonl").documents] == [("x.jsonl#a", "one\u2028two"),
                                                                               ("x.jsonl#3", "ok")]
    for body, reason in (('{"text": "ok"}\n{"text": \n', r"line 2: .*\(Expecting value\)"),
                         ('{"text": "ok"}\n{"text": 5}\n', r"line 2: .*'text' is a int"),
                         ('["text"]\n', r"line 1: .*a list"),
                         ('{"text": "ok"}\n{"tex": "x"}\n{"text": "ok"}\n', r"line 2: .*no 'text'")):
        p.write_text(body)
        with pytest.raises(ValueError, match=reason):
            load_file(p, "x.jsonl")
