"""Metadata (type, modified, tags from front matter and metadata.yaml) and the filters that select on it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from adapt.errors import UserError
from adapt.rag.filters import parse, parse_all
from adapt.rag.index import Index, build_index

JAN_2024 = 1_704_067_200  # 2024-01-01T00:00:00Z


@pytest.fixture
def tagged_docs(tmp_path: Path) -> Path:
    """Every file talks about allowances, so unfiltered retrieval mixes them all up."""
    d = tmp_path / "docs"
    (d / "policies" / "old").mkdir(parents=True)
    (d / "notes").mkdir()
    (d / "policies" / "leave.md").write_text(
        "---\ntitle: Leave policy\ntags: [HR, leave]\nauthor: Ana\n---\n# Leave\n\nThe leave allowance is 27 days.\n")
    (d / "policies" / "travel-japan.md").write_text("# Japan\n\nThe meal allowance in Japan is 80 euros a day.\n")
    (d / "policies" / "old" / "travel-2019.md").write_text("# Old\n\nThe meal allowance used to be 30 euros.\n")
    (d / "policies" / "metadata.yaml").write_text("tags: [policy]\nfiles:\n  travel-*.md: {tags: [travel]}\n")
    for i in range(6):
        (d / "notes" / f"n{i}.md").write_text(f"# Note {i}\n\nSomeone asked about the meal allowance, note {i}.\n")
    os.utime(d / "policies" / "old" / "travel-2019.md", (JAN_2024, JAN_2024))
    return d


def test_filters_parse_and_malformed_ones_show_the_syntax():
    assert parse("source=policies/*") == parse(" source = policies/* ")
    assert parse("type=.PDF").value == "pdf" and parse("tag=HR").value == "hr"
    assert parse("modified>=2026-01-01").op == ">="
    for bad in ("policies", "tag=", "owner=ana", "source>=x", "tag<hr", "modified>=yesterday", "=pdf"):
        with pytest.raises(ValueError, match="source=policies/\\*.*modified>=2026-01-01"):
            parse(bad)


def test_a_bare_date_compares_whole_days_and_a_date_time_compares_instants():
    chunk = SimpleNamespace(file="a.md", type="md", tags=["HR"], modified="2026-01-31T18:00:00Z")
    assert parse("modified<=2026-01-31").test(chunk) and parse("modified=2026-01-31").test(chunk)
    assert not parse("modified>2026-01-31").test(chunk) and parse("modified>=2026-01-31").test(chunk)
    assert not parse("modified<=2026-01-31T12:00:00").test(chunk)
    assert parse("modified<2026-01-31T19:00:00+00:00").test(chunk)
    assert parse("modified<2026-01-31T20:00:00+02:00").test(chunk) is False  # 18:00Z is not before 18:00Z
    assert parse("tag=hr").test(chunk) and not parse("tag=h").test(chunk)
    assert parse("source=*.md").test(chunk) and not parse("source=b*").test(chunk)


def test_chunks_carry_type_modified_and_tags_from_front_matter_and_sidecars(tagged_docs, tmp_path, embedder_model):
    build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    index = Index.load(tmp_path / "idx", embedder_model=embedder_model)
    by_file = {c.file: c for c in index.chunks}
    assert "metadata.yaml" not in " ".join(by_file)  # a sidecar is not a document
    leave = by_file["policies/leave.md"]
    assert leave.tags == ["policy", "HR", "leave"] and leave.type == "md" and leave.title == "Leave policy"
    assert "author" not in leave.text and leave.text == "The leave allowance is 27 days."  # front matter stripped
    assert by_file["policies/travel-japan.md"].tags == ["policy", "travel"]
    assert by_file["policies/old/travel-2019.md"].tags == ["policy"]  # files: globs name the sidecar's own folder
    assert by_file["policies/old/travel-2019.md"].modified == "2024-01-01T00:00:00Z"
    assert by_file["notes/n0.md"].tags == []


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_filters_restrict_every_retriever_before_fusion_so_k_results_still_come_back(
        tagged_docs, tmp_path, embedder_model, mode):
    build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    index = Index.load(tmp_path / "idx", embedder_model=embedder_model)
    question = "what is the meal allowance"
    assert sum(h.file.startswith("notes/") for h in index.search(question, k=3, mode=mode)) >= 1  # crowded out
    hits = index.search(question, k=3, mode=mode, filters=parse_all(["source=policies/*"]))
    assert len(hits) == 3 and all(h.file.startswith("policies/") for h in hits)
    travel = index.search(question, k=3, mode=mode, filters=parse_all(["tag=travel", "source=policies/*"]))
    assert [h.file for h in travel] == ["policies/travel-japan.md"]  # the one chunk that passes
    recent = index.search(question, k=10, mode=mode, filters=parse_all(["source=policies/*", "modified>=2025-01-01"]))
    assert "policies/old/travel-2019.md" not in {h.file for h in recent} and len(recent) == 2
    assert index.search(question, k=3, mode=mode, filters=parse_all(["tag=nothing"])) == []


def test_filtered_hnsw_search_finds_what_an_exact_one_finds(tagged_docs, tmp_path, embedder_model):
    build_index(tagged_docs, tmp_path / "flat", progress=False, embedder_model=embedder_model, index_type="flat")
    build_index(tagged_docs, tmp_path / "hnsw", progress=False, embedder_model=embedder_model, index_type="hnsw")
    flat, hnsw = (Index.load(tmp_path / n, embedder_model=embedder_model) for n in ("flat", "hnsw"))
    where = parse_all(["tag=policy"])
    got = [(h.chunk_id, round(h.score, 4)) for h in hnsw.search("meal allowance", k=5, mode="dense", filters=where)]
    assert got == [(h.chunk_id, round(h.score, 4)) for h in flat.search("meal allowance", k=5, mode="dense",
                                                                         filters=where)]
    assert len(got) == 3


def test_a_rebuild_picks_up_new_tags_and_mtimes_without_embedding_again(tagged_docs, tmp_path, embedder_model):
    build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    (tagged_docs / "policies" / "metadata.yaml").write_text("tags: [rules]\n")
    os.utime(tagged_docs / "notes" / "n0.md", (JAN_2024, JAN_2024))
    again = build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    assert again.embedded_files == 0 and again.unchanged == 9
    by_file = {c.file: c for c in Index.load(tmp_path / "idx", embedder_model=embedder_model).chunks}
    assert by_file["policies/travel-japan.md"].tags == ["rules"]
    assert by_file["policies/leave.md"].tags == ["rules", "HR", "leave"]
    assert by_file["notes/n0.md"].modified == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize("sidecar, field", [("tags: hr: x\n", "not readable YAML"), ("tag: [hr]\n", "unknown field(s) tag"),
                                            ("tags: [[a]]\n", "field 'tags'"),
                                            ("files:\n  a.md: [hr]\n", "field 'files.a.md'"),
                                            ("files: [a.md]\n", "field 'files'")])
def test_a_malformed_sidecar_stops_the_build_naming_file_and_field_and_keeps_the_old_index(
        tagged_docs, tmp_path, embedder_model, sidecar, field):
    build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    before = os.readlink(tmp_path / "idx")
    (tagged_docs / "notes" / "metadata.yaml").write_text(sidecar)
    with pytest.raises(UserError, match=f"notes/metadata.yaml: .*{re.escape(field)}"):
        build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    assert os.readlink(tmp_path / "idx") == before


def test_a_file_with_broken_front_matter_is_skipped_with_its_reason(tagged_docs, tmp_path, embedder_model):
    (tagged_docs / "bad.md").write_text("---\ntags: [unclosed\n---\n# Bad\n\nText.\n")
    (tagged_docs / "badtags.md").write_text("---\ntags: {a: 1}\n---\n# Bad\n\nText.\n")
    report = build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    skipped = dict(report.skipped)
    assert "front matter is not YAML" in skipped["bad.md"]
    assert "front matter field 'tags' must be a list" in skipped["badtags.md"]


def test_rag_query_filters_and_a_malformed_or_empty_filter_exits_2(cli, tagged_docs, tmp_path):
    idx = tmp_path / "idx"
    assert cli("rag", "build", tagged_docs, "--index", idx)[0] == 0
    code, out, _ = cli("rag", "query", "meal allowance", "--index", idx, "--json", "-k", "5",
                       "--filter", "tag=travel", "--filter", "modified>=2025-01-01")
    assert code == 0 and [h["source"] for h in json.loads(out)] == ["policies/travel-japan.md"]
    assert json.loads(out)[0]["tags"] == ["policy", "travel"]
    code, _, err = cli("rag", "query", "x", "--index", idx, "--filter", "owner=ana")
    assert code == 2 and "--filter" in err and "unknown key 'owner'" in err and "modified>=" in err
    code, _, err = cli("rag", "query", "x", "--index", idx, "--filter", "tag=nope")
    assert code == 2 and "no chunk of the index passes tag=nope" in err


def test_a_recipes_rag_filter_is_validated_and_applied_by_the_rag_and_baseline_rungs(tagged_docs, tmp_path,
                                                                                      embedder_model):
    from adapt.pipeline import Pipeline
    from adapt.recipe import parse_recipe
    from adapt.rungs.baseline import SentenceAnswerer
    from tests.fakes import FakeGenerator

    build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    rag = {"index": str(tmp_path / "idx"), "k": 4, "filter": ["source=policies/*.md", "tag=travel"]}
    pipe = Pipeline(parse_recipe({"name": "t", "rung": "rag", "model": "m", "rag": rag}), generator=FakeGenerator("x"))
    hits, _ = pipe.retrieve("what is the meal allowance")
    assert [h.file for h in hits] == ["policies/travel-japan.md"]  # k=4, but only one chunk passes
    baseline = SentenceAnswerer(parse_recipe({"name": "b", "rung": "baseline", "rag": rag}), None)
    text, hit = baseline.picker.answer("what did someone ask about the meal allowance")
    assert hit.file.startswith("policies/") and "note" not in text
    with pytest.raises(UserError, match=r"rag\.filter.*'tag~hr' is not a filter"):
        parse_recipe({"name": "t", "rung": "rag", "model": "m", "rag": {"filter": ["tag~hr"]}})
