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
    for bad in ("policies", "tag=", "owner=ana", "source>=x", "tag<hr", "modified>=yesterday", "=pdf", "tag==hr"):
        with pytest.raises(ValueError, match="source=policies/\\*.*modified>=2026-01-01"):
            parse(bad)


def test_a_bare_date_compares_whole_days_and_a_date_time_compares_instants():
    chunk = SimpleNamespace(file="a.md", type="md", tags=["HR"], modified="2026-01-31T18:00:00Z")
    assert parse("modified<=2026-01-31").test(chunk) and parse("modified=2026-01-31").test(chunk)
    assert not parse("modified>2026-01-31").test(chunk) and parse("modified>=2026-01-31").test(chunk)
    assert not parse("modified<=2026-01-31T12:00:00").test(chunk)
    assert parse("modified<2026-01-31T19:00:00+00:00").test(chunk)
    assert parse("modified<2026-01-31T20:00:00+02:00").test(chunk) is False  # 18:00Z is not before 18:00Z
    assert parse("modified<=20260131").test(chunk) and parse("modified>2026-01-31T17:59:59Z").test(chunk)
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
    assert {c.type for c in index.chunks} == {"md"}


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


def test_type_filters_and_markdown_spelt_long_is_md(tagged_docs, tmp_path, embedder_model):
    (tagged_docs / "long.markdown").write_text("# Long\n\nThe meal allowance is written here too.\n")
    (tagged_docs / "plain.txt").write_text("The meal allowance, in plain text.\n")
    build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    index = Index.load(tmp_path / "idx", embedder_model=embedder_model)
    assert {h.file for h in index.search("meal allowance", k=20, filters=parse_all(["type=txt"]))} == {"plain.txt"}
    assert "long.markdown" in {h.file for h in index.search("meal allowance", k=20, filters=parse_all(["type=.MD"]))}


def test_filtered_hnsw_search_that_comes_back_short_is_done_exactly(tmp_path, embedder_model, monkeypatch):
    import numpy as np

    from adapt.rag import index as index_module
    from adapt.rag.chunking import Chunk
    from adapt.rag.index import FORMAT, _write_build

    n = 5000
    chunks = [Chunk(f"c{i}", f"f{i}.md", f"f{i}.md", "", "", f"text {i}", 0, 0, None, "md",
                    "2026-01-01T00:00:00Z", ["rare"] if i % 100 == 0 else []) for i in range(n)]
    vecs = np.random.default_rng(0).standard_normal((n, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    manifest = {"format": FORMAT, "embedder": "all-minilm-l6-v2", "dim": 384, "chunk_size": 200, "chunk_overlap": 32,
                "index_type": "hnsw", "files": {}, "counts": {"chunks": n}}
    _write_build(tmp_path / "big", manifest, chunks, vecs, "hnsw")
    monkeypatch.setattr(index_module, "HNSW_THRESHOLD", 0)  # as if the 50 passing chunks were a large subset
    index = Index.load(tmp_path / "big", embedder_model=embedder_model)
    where = parse_all(["tag=rare"])
    rare = set(range(0, n, 100))
    got = index.dense("a question", 10, index.subset(where))
    assert len(got) == 10 and {i for i, _ in got} <= rare  # the graph search, through the selector

    class Short:  # an HNSW search that comes back with half of what it was asked for, as it may
        def __init__(self, inner):
            self.inner = inner

        def search(self, q, k, params=None):
            scores, ids = self.inner.search(q, k, params=params)
            ids[0][k // 2:] = -1
            return scores, ids

        def reconstruct_batch(self, ids):
            return self.inner.reconstruct_batch(ids)

    index.faiss_cpu = Short(index.faiss_cpu)
    subset = index.subset(where)
    assert subset.exact is None  # the graph search came back full above: nothing exact was needed
    got = index.dense("a question", 10, subset)
    q = index.embedder.encode_query("a question")
    best = sorted(rare, key=lambda i: -float(vecs[i] @ q[0]))[:10]
    assert subset.exact is not None and [i for i, _ in got] == best  # all 10, searched exactly


def test_a_recipe_filter_that_no_chunk_passes_is_a_clear_error(tagged_docs, tmp_path, embedder_model):
    from adapt.pipeline import Pipeline
    from adapt.recipe import parse_recipe
    from adapt.rungs.baseline import SentenceAnswerer
    from tests.fakes import FakeGenerator

    build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    rag = {"index": str(tmp_path / "idx"), "filter": ["tag=nope"]}
    with pytest.raises(UserError, match="rag.filter: no chunk of the index passes tag=nope"):
        Pipeline(parse_recipe({"name": "t", "rung": "rag", "model": "m", "rag": rag}), generator=FakeGenerator("x"))
    with pytest.raises(UserError, match="rag.filter: no chunk"):
        SentenceAnswerer(parse_recipe({"name": "b", "rung": "baseline", "rag": rag}), None)


def test_a_sidecar_names_only_files_of_its_own_folder_and_none_from_outside(tagged_docs, tmp_path, embedder_model):
    (tagged_docs / "notes" / "metadata.yaml").write_text("files:\n  sub/a.md: {tags: [x]}\n")
    with pytest.raises(UserError, match="names a file of another folder"):
        build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
    (tagged_docs / "notes" / "metadata.yaml").unlink()
    (tmp_path / "outside.yaml").write_text("tags: [leaked]\n")
    (tagged_docs / "notes" / "metadata.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(UserError, match="links outside the documents folder"):
        build_index(tagged_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model)
