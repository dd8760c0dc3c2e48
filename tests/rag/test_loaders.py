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


ALLOWANCES = [["Country", "Daily meal allowance"]] + [[f"Country {i}", f"€ {20 + i}"] for i in range(24)] \
    + [["Japan", "€ 80"]]


def _chunk_with(doc, needle, embedder_model):
    from adapt.rag.chunking import chunk_document

    from .conftest import META

    chunks = chunk_document(doc, embedder_model.tokenizer, 64, 8, META)
    return next(c for c in chunks if needle in c.text)


def test_office_files_keep_headings_and_tables_whose_rows_keep_their_header(tmp_path, embedder_model):
    import docx
    import openpyxl
    from pptx import Presentation
    from pptx.util import Inches

    d = docx.Document()
    d.add_heading("Travel policy", 0)
    d.add_heading("Meals", 1)
    d.add_paragraph("Meals abroad are paid per day.")
    table = d.add_table(rows=0, cols=2)
    for row in ALLOWANCES:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = row
    d.save(tmp_path / "travel.docx")

    book = openpyxl.Workbook()
    book.active.title = "Allowances"
    for row in ALLOWANCES:
        book.active.append(row)
    book.create_sheet("Mileage").append(["Vehicle", "Rate"])
    book.save(tmp_path / "travel.xlsx")

    (tmp_path / "travel.csv").write_text("\n".join(",".join(r) for r in ALLOWANCES) + "\n")
    (tmp_path / "travel.html").write_text("<html><body><h1>Allowances</h1><table>" + "".join(
        f"<tr>{''.join(f'<td>{c}</td>' for c in row)}</tr>" for row in ALLOWANCES) + "</table></body></html>")

    deck = Presentation()
    for title, body, notes in (("Agenda", "Travel rules", ""), ("Pricing", "Seats cost 12 euros", "Say it twice")):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.slides[1].shapes.add_table(2, 2, Inches(1), Inches(4), Inches(4), Inches(1)).table.cell(0, 0).text = "Tier"
    deck.save(tmp_path / "deck.pptx")

    for name in ("travel.docx", "travel.xlsx", "travel.csv", "travel.html"):
        doc = load_file(tmp_path / name, name).documents[0]
        assert doc.markdown and "| Country | Daily meal allowance |" in doc.text, name
        row = _chunk_with(doc, "Japan", embedder_model)  # 25 rows: the Japan row is in the third block
        assert "Daily meal allowance" in row.text and "€ 80" in row.text, (name, row.text)
    docx_text = load_file(tmp_path / "travel.docx", "travel.docx").documents[0].text
    assert docx_text.startswith("# Travel policy") and "\n## Meals\n" in docx_text
    assert _chunk_with(load_file(tmp_path / "travel.docx", "t").documents[0], "Japan", embedder_model).heading \
        == "Travel policy > Meals"
    xlsx = load_file(tmp_path / "travel.xlsx", "travel.xlsx").documents[0]
    assert "# Allowances\n" in xlsx.text and "# Mileage\n" in xlsx.text
    assert _chunk_with(xlsx, "Japan", embedder_model).location == "sheet Allowances"
    deck = load_file(tmp_path / "deck.pptx", "deck.pptx").documents[0]
    assert _chunk_with(deck, "Seats cost", embedder_model).location == "slide 2"
    assert _chunk_with(load_file(tmp_path / "travel.csv", "travel.csv").documents[0], "Japan",
                       embedder_model).location is None  # one table, no units to name
    deck_text = load_file(tmp_path / "deck.pptx", "deck.pptx").documents[0].text
    assert "# Slide 1: Agenda" in deck_text and "# Slide 2: Pricing" in deck_text
    assert deck_text.count("Pricing") == 1  # the title heads its slide once, not again in the body
    assert "Seats cost 12 euros" in deck_text and "Speaker notes: Say it twice" in deck_text and "| Tier |" in deck_text


def test_a_pdf_is_cut_by_page_so_citations_name_the_page(tmp_path, embedder_model):
    import io

    from pypdf import PdfReader, PdfWriter

    from .conftest import tiny_pdf

    writer = PdfWriter()
    for text in ("Chapter one is about parking.", "The warranty lasts two years."):
        writer.append(PdfReader(io.BytesIO(tiny_pdf(text))))
    writer.write(tmp_path / "policy.pdf")
    doc = load_file(tmp_path / "policy.pdf", "policy.pdf").documents[0]
    assert doc.text.startswith("# Page 1\n") and "# Page 2\n" in doc.text
    chunk = _chunk_with(doc, "warranty", embedder_model)
    assert chunk.heading == "Page 2" and chunk.location == "p. 2"
    assert _chunk_with(doc, "parking", embedder_model).location == "p. 1"

    from adapt.rag.index import Hit

    assert Hit.of(chunk, 1.0, 1).citation() == "policy.pdf p. 2"


@pytest.mark.parametrize("name", ["bad.docx", "bad.pptx", "bad.xlsx"])
def test_a_corrupt_office_file_is_skipped_with_its_reason(tmp_path, name):
    (tmp_path / name).write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(ValueError, match="unreadable (Word|PowerPoint|Excel) file"):
        load_file(tmp_path / name, name)


def test_a_wide_table_is_cut_into_blocks_that_each_fit_a_chunk_under_the_header(tmp_path, embedder_model):
    from adapt.rag.chunking import chunk_document

    from .conftest import META

    header = ["Employee ID", "Full name", "Department", "Office location", "Start date", "Manager", "Salary", "Notes"]
    rows = [[f"E{i}", f"Person {i} Surname", "Research and Development", "Porto, Portugal", "2021-01-15",
             f"Manager {i % 3}", str(50000 + i), "Remote two days per week"] for i in range(30)]
    (tmp_path / "wide.csv").write_text("\n".join(",".join(f'"{c}"' for c in r) for r in [header, *rows]) + "\n")
    doc = load_file(tmp_path / "wide.csv", "wide.csv").documents[0]
    chunks = chunk_document(doc, embedder_model.tokenizer, 200, 32, META)
    assert all(c.text.startswith("| Employee ID | Full name |") for c in chunks)  # no chunk starts mid-row
    assert all(f"| E{i} |" in doc.text for i in range(30))


def test_columns_empty_in_every_row_are_dropped(tmp_path):
    (tmp_path / "t.csv").write_text("Part;Price;;\nProbe;79;;\n")  # semicolons, and two unused columns
    assert "| Part | Price |\n| --- | --- |\n| Probe | 79 |" in load_file(tmp_path / "t.csv", "t.csv").documents[0].text


def test_a_csv_field_may_hold_a_line_break(tmp_path):
    (tmp_path / "t.csv").write_text('Part,Note\nProbe,"line one\nline two"\n')
    assert "| Probe | line one line two |" in load_file(tmp_path / "t.csv", "t.csv").documents[0].text


def test_a_pdf_line_starting_with_a_hash_is_text_not_a_heading(tmp_path, embedder_model):
    from .conftest import tiny_pdf

    (tmp_path / "p.pdf").write_bytes(tiny_pdf("# of units sold: 12"))
    doc = load_file(tmp_path / "p.pdf", "p.pdf").documents[0]
    assert _chunk_with(doc, "units sold", embedder_model).location == "p. 1"


def test_a_pdf_that_only_restricts_permissions_is_read_and_one_that_needs_a_password_is_skipped(tmp_path):
    import io

    from pypdf import PdfReader, PdfWriter

    from .conftest import tiny_pdf

    for name, user in (("owner.pdf", ""), ("locked.pdf", "secret")):
        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(tiny_pdf("The warranty lasts two years."))))
        writer.encrypt(user_password=user, owner_password="owner")
        writer.write(tmp_path / name)
    assert "warranty" in load_file(tmp_path / "owner.pdf", "owner.pdf").documents[0].text
    with pytest.raises(ValueError, match="needs a password"):
        load_file(tmp_path / "locked.pdf", "locked.pdf")


def test_a_damaged_spreadsheet_is_skipped_with_its_reason_not_a_crash(tmp_path):
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Part", "Price"])
    book.save(tmp_path / "ok.xlsx")
    with zipfile.ZipFile(tmp_path / "ok.xlsx") as src, zipfile.ZipFile(tmp_path / "bad.xlsx", "w") as dst:
        for item in src.infolist():  # the sheet's XML is cut short: openpyxl only notices while reading rows
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    with pytest.raises(ValueError, match="unreadable"):
        load_file(tmp_path / "bad.xlsx", "bad.xlsx")


@pytest.mark.parametrize("text", ["---\n---\n# T\n\nBody text.\n", "---\n# comment only\n---\n# T\n\nBody text.\n",
                                  "---\n\nA rule above, prose between.\n\n---\n\nBody text.\n"])
def test_empty_front_matter_and_horizontal_rules_keep_the_file(tmp_path, text):
    (tmp_path / "a.md").write_text(text)
    assert "Body text." in load_file(tmp_path / "a.md", "a.md").documents[0].text


def test_grouped_shapes_on_a_slide_are_read(tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Grouped"
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(1)).text_frame.text = "Inside the group: 42 kg"
    deck.core_properties.title = "Quarterly deck"
    deck.save(tmp_path / "g.pptx")
    doc = load_file(tmp_path / "g.pptx", "g.pptx").documents[0]
    assert "Inside the group: 42 kg" in doc.text and doc.title == "Quarterly deck"


def test_a_table_nested_in_a_word_table_cell_keeps_its_text(tmp_path):
    import docx

    d = docx.Document()
    outer = d.add_table(rows=2, cols=2)
    outer.cell(0, 0).text, outer.cell(0, 1).text = "Country", "Rates"
    outer.cell(1, 0).text = "Japan"
    inner = outer.cell(1, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "Meal", "80 euros"
    d.save(tmp_path / "n.docx")
    assert "| Japan | Meal 80 euros |" in load_file(tmp_path / "n.docx", "n.docx").documents[0].text
