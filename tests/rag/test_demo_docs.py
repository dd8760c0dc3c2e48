"""The demo corpus's generated Word, PowerPoint, Excel and PDF files: in step with the script that
writes them, retrievable by a table row, a slide and a page, and backing their suite questions."""

import importlib
import json
import shutil
import sys
import zipfile

import pytest

from adapt.rag.index import Index, build_index
from adapt.rag.loaders import load_file

from ..conftest import ROOT

DEMO = ROOT / "eval" / "demo"
GENERATED = ["16-allowances.docx", "17-roadmap.pptx", "18-price-list.xlsx", "19-warranty.pdf"]
NEW_ITEMS = {f"q{n}" for n in range(154, 169)}  # the suite rows about the generated files

# An HTML table in a tmp file (the demo's HTML files have none), long enough that the row asked
# about sits in the second block of rows.
VARIETIES = ["Touriga Nacional", "Tinta Roriz", "Touriga Franca", "Tinta Barroca", "Tinto Cão", "Sousão",
             "Alvarinho", "Loureiro", "Arinto", "Viosinho", "Rabigato", "Gouveio"]
PLOTS_HTML = ("<html><head><title>Test vineyard plots</title></head><body><h1>Test vineyard plots</h1>"
              "<p>Each plot of the test vineyard is planted with one grape variety.</p><table>"
              "<tr><th>Plot</th><th>Grape variety</th><th>Stations</th></tr>"
              + "".join(f"<tr><td>B{i}</td><td>{v}</td><td>{i + 2}</td></tr>" for i, v in enumerate(VARIETIES, 1))
              + "</table></body></html>")

# (file, question, what a top-3 chunk must hold: the row's key, its column header and its value)
TABLE_ROWS = [
    ("16-allowances.docx", "What is the daily field allowance for a working day on a vineyard in Switzerland?",
     ["Switzerland", "Daily field allowance", "48 euros"]),
    ("17-roadmap.pptx", "In which quarter is the Canopy app for Android and iOS planned?",
     ["Canopy app for Android and iOS", "Quarter", "Q1"]),
    ("18-price-list.xlsx", "What is the part number of the gateway mounting kit?",
     ["Gateway mounting kit", "Part number", "KL-2014"]),
    ("19-warranty.pdf", "How many working days does a warranty repair take for growers in Australia?",
     ["Australia and New Zealand", "Turnaround", "6 working days"]),
    ("plots.html", "Which grape variety is planted on plot B11?", ["B11", "Grape variety", "Rabigato"]),
]


def _text(path) -> str:
    return "\n\n".join(d.text for d in load_file(path, path.name).documents)


def _squash(s: str) -> str:
    return " ".join(s.split()).lower()


@pytest.fixture(scope="module")
def make_demo_docs():
    sys.path.insert(0, str(ROOT / "scripts"))  # the script imports its sibling, docgen
    try:
        return importlib.import_module("make_demo_docs")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.fixture(scope="module")
def index(tmp_path_factory, embedder_model) -> Index:
    tmp = tmp_path_factory.mktemp("demo-binary")
    docs = tmp / "docs"
    docs.mkdir()
    for name in GENERATED:
        shutil.copy(DEMO / "docs" / name, docs / name)
    (docs / "plots.html").write_text(PLOTS_HTML, encoding="utf-8")
    build_index(docs, tmp / "idx", progress=False, embedder_model=embedder_model)
    return Index.load(tmp / "idx", embedder_model=embedder_model)


def test_regenerating_gives_the_committed_files(make_demo_docs, tmp_path):
    assert sorted(make_demo_docs.FILES) == GENERATED
    for new in make_demo_docs.write_all(tmp_path):
        old = DEMO / "docs" / new.name
        assert _text(new) == _text(old), f"{new.name} is stale: run python scripts/make_demo_docs.py"
        if new.suffix == ".pdf":
            assert new.read_bytes() == old.read_bytes(), new.name
            continue
        # entry by entry rather than the raw bytes: the same entries deflate to other bytes under
        # another zlib build, and that is no reason to regenerate
        with zipfile.ZipFile(new) as a, zipfile.ZipFile(old) as b:
            assert [(i.filename, i.date_time) for i in a.infolist()] == \
                [(i.filename, i.date_time) for i in b.infolist()], new.name
            for name in a.namelist():
                assert a.read(name) == b.read(name), (new.name, name)


def test_generation_is_deterministic(make_demo_docs, tmp_path):
    first = {p.name: p.read_bytes() for p in make_demo_docs.write_all(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in make_demo_docs.write_all(tmp_path / "b")}
    assert first == second


@pytest.mark.parametrize(("name", "question", "needles"), TABLE_ROWS, ids=[r[0] for r in TABLE_ROWS])
def test_a_table_row_is_retrieved_with_its_header(index, name, question, needles):
    hits = index.search(question, 3, "hybrid")
    assert any(h.source == name and all(n in h.text for n in needles) for h in hits), \
        [(h.source, h.location, h.text) for h in hits]


def test_hits_name_their_page_slide_and_sheet(index):
    top = index.search("How many working days does a warranty repair take for growers in Australia?", 3)[0]
    assert (top.source, top.location, top.citation()) == ("19-warranty.pdf", "p. 2", "19-warranty.pdf p. 2")
    top = index.search("Which partner recycles the batteries of stations sent back at the end of their life?",
                       3)[0]
    assert top.citation() == "19-warranty.pdf p. 3" and "EcoCell" in top.text
    top = index.search("Besides Canopy, how will growers receive frost alerts?", 3)[0]
    assert top.citation() == "17-roadmap.pptx slide 2" and "SMS" in top.text
    top = index.search("What is the price of a 60 cm soil probe?", 3)[0]
    assert top.citation() == "18-price-list.xlsx › Spare parts" and "| 79 |" in top.text


def test_suite_items_about_the_generated_files_are_backed_by_them():
    rows = [json.loads(line) for line in (DEMO / "suite.jsonl").read_text().splitlines() if line.strip()]
    new = [r for r in rows if r["id"] in NEW_ITEMS]
    assert len(new) == len(NEW_ITEMS)
    answerable = [r for r in new if r["answers"]]
    assert {r["source"] for r in answerable} == set(GENERATED)
    texts = {name: _squash(_text(DEMO / "docs" / name)) for name in GENERATED}
    for r in answerable:
        for answer in r["answers"]:
            assert _squash(answer) in texts[r["source"]], (r["id"], answer)
    assert all("source" not in r for r in new if not r["answers"])
    assert len(answerable) == 12
