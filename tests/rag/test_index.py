import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from adapt.errors import UserError
from adapt.rag.index import Index, build_index

from ..conftest import ROOT

DEMO = ROOT / "eval" / "demo"


def test_build_and_query_from_cli(cli, mixed_docs, tmp_path):
    idx = tmp_path / "idx"
    code, out, err = cli("rag", "build", mixed_docs, "--index", idx)
    assert code == 0, err
    assert "skipped broken.pdf" in err and "skipped blob.txt" in err and "5 file(s)" in out
    manifest = json.loads((idx / "manifest.json").read_text())
    assert manifest["embedder"] == "all-minilm-l6-v2" and manifest["dim"] == 384
    assert set(manifest["files"]) == {"guide.md", "notes.txt", "page.html", "sub/report.pdf", "rows.jsonl"}
    assert "transformers" in manifest["versions"] and manifest["counts"]["skipped"] == 4
    code, out, _ = cli("rag", "query", "what is the garage code", "--index", idx, "-k", "2", "--json")
    hits = json.loads(out)
    assert code == 0 and hits[0]["source"] == "guide.md" and hits[0]["heading"] == "Guide > Parking"
    assert set(hits[0]) == {"source", "chunk_id", "score", "heading", "location", "type", "modified", "tags",
                            "text"} and "4711" in hits[0]["text"]
    assert hits[0]["location"] is None  # Markdown has no pages
    assert hits[0]["type"] == "md" and hits[0]["tags"] == [] and hits[0]["modified"].endswith("Z")


def test_missing_index_and_folder_exit_2(cli, tmp_path):
    code, _, err = cli("rag", "query", "x", "--index", tmp_path / "none")
    assert code == 2 and "adapt rag build" in err
    code, _, err = cli("rag", "build", tmp_path / "nodocs", "--index", tmp_path / "i")
    assert code == 2 and "not found" in err
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.bin").write_bytes(b"\x00\x01")
    code, _, err = cli("rag", "build", tmp_path / "junk", "--index", tmp_path / "i")
    assert code == 2 and "nothing indexable" in err


def test_incremental_rebuild_reembeds_only_changes(mixed_docs, tmp_path, embedder_model):
    idx = tmp_path / "idx"
    first = build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
    assert first.embedded_files == 5 and first.unchanged == 0
    (mixed_docs / "notes.txt").write_text("Plain notes: the ferry now leaves at 7 pm.\n")
    (mixed_docs / "page.html").unlink()
    second = build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
    assert (second.embedded_files, second.unchanged, second.deleted) == (1, 3, 1)
    assert second.embedded_chunks == 1
    index = Index.load(idx, embedder_model=embedder_model)
    assert not any(c.source == "page.html" for c in index.chunks)
    assert "7 pm" in index.search("when does the ferry leave", k=1)[0].text
    assert len(list(tmp_path.glob("idx.build-*"))) == 1  # the old build was collected


def test_embedder_mismatch_is_a_clear_error(mixed_docs, tmp_path, embedder_model, cli):
    idx = tmp_path / "idx"
    build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
    with pytest.raises(UserError, match="built with embedder 'all-minilm-l6-v2'"):
        Index.load(idx, expect_embedder="bge-small")
    code, _, err = cli("rag", "query", "x", "--index", idx, "--embedder", "bge-small")
    assert code == 2 and "rebuild" in err


def test_sigkill_during_rebuild_leaves_old_index_answering(tmp_path, embedder_model):
    docs = tmp_path / "docs"
    shutil.copytree(DEMO / "docs", docs)
    idx = tmp_path / "idx"
    build_index(docs, idx, progress=False, embedder_model=embedder_model)
    before = os.readlink(idx)
    # a rebuild with much more to embed, killed while it works
    for i in range(150):
        (docs / f"extra{i}.md").write_text(f"# Extra {i}\n\n" + "Filler sentence about sensors. " * 60)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "adapt.cli", "rag", "build", str(docs), "--index", str(idx)]
    # 1) killed while embedding (its progress bar is on stderr)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = b""
    while b"Batches" not in seen:
        chunk = proc.stderr.read1(256)
        assert chunk, "the build ended before it embedded anything"
        seen += chunk
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.readlink(idx) == before
    hits = Index.load(idx, embedder_model=embedder_model).search("How many vacation days do employees get?", k=3)
    assert any("27 days" in h.text for h in hits)
    assert not any(h.source.startswith("extra") for h in hits)
    # 2) killed while writing the new build: the link names the old build or a complete new one
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not list(tmp_path.glob("idx.build-*.partial")) and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    index = Index.load(idx, embedder_model=embedder_model)
    assert any("27 days" in h.text for h in index.search("How many vacation days do employees get?", k=3))
    # the next build finishes and clears the leftovers
    (docs / "02-leave.md").write_text((docs / "02-leave.md").read_text().replace("27 days", "28 days"))
    for i in range(150):
        (docs / f"extra{i}.md").unlink()
    build_index(docs, idx, progress=False, embedder_model=embedder_model)
    assert [p.name for p in tmp_path.glob("idx.build-*")] == [os.readlink(idx)]


def test_hybrid_finds_what_each_single_method_misses(tmp_path, embedder_model):
    """On three real SQuAD articles: a hit is a chunk overlapping the gold paragraph."""
    from adapt.data.squad import import_squad
    from adapt.data.suite import load_suite
    from adapt.eval.metrics import retrieval_hit

    from ..conftest import SQUAD, need_squad

    need_squad()
    data = json.loads(SQUAD.read_text())
    small = tmp_path / "three.json"
    small.write_text(json.dumps({"version": "v2.0", "data": data["data"][:3]}))
    import_squad(small, tmp_path / "docs", tmp_path / "suite.jsonl")
    build_index(tmp_path / "docs", tmp_path / "idx", progress=False, embedder_model=embedder_model)
    index = Index.load(tmp_path / "idx", embedder_model=embedder_model)
    items = [i for i in load_suite(tmp_path / "suite.jsonl") if i.answers][:300]
    k = 3
    hit = {m: {i.id for i in items if retrieval_hit(index.search(i.question, k, m), i.source, i.context)}
           for m in ("dense", "bm25", "hybrid")}
    assert len(hit["hybrid"]) >= max(len(hit["dense"]), len(hit["bm25"]))
    assert hit["hybrid"] - hit["dense"], "hybrid should find something dense misses"
    assert hit["hybrid"] - hit["bm25"], "hybrid should find something BM25 misses"


def test_hnsw_index_type_answers_like_exact(mixed_docs, tmp_path, embedder_model, cli):
    assert cli("rag", "build", mixed_docs, "--index", tmp_path / "h", "--index-type", "hnsw")[0] == 0
    assert json.loads((tmp_path / "h" / "manifest.json").read_text())["index_type"] == "hnsw"
    hnsw = Index.load(tmp_path / "h", embedder_model=embedder_model).search("garage code", 2, "dense")
    build_index(mixed_docs, tmp_path / "f", index_type="flat", progress=False, embedder_model=embedder_model)
    flat = Index.load(tmp_path / "f", embedder_model=embedder_model).search("garage code", 2, "dense")
    assert [h.chunk_id for h in hnsw] == [h.chunk_id for h in flat]


def test_large_index_uses_numba_bm25_with_the_same_ranking(tmp_path, embedder_model):
    """Above NUMBA_THRESHOLD chunks BM25 scoring switches backend; the ranking must not change."""
    import random

    import bm25s
    import numpy as np

    from adapt.rag.bm25 import tokenize
    from adapt.rag.chunking import Chunk
    from adapt.rag.index import FORMAT, NUMBA_THRESHOLD, _write_build

    pytest.importorskip("numba")
    rng = random.Random(0)
    words = [f"w{i}" for i in range(3000)]
    n = NUMBA_THRESHOLD
    chunks = [Chunk(f"c{i}", "s.md", "s.md", "", "", " ".join(rng.choices(words, k=20)), 0, 0, None,
                    "md", "2026-01-01T00:00:00Z", []) for i in range(n)]
    vecs = np.random.default_rng(0).standard_normal((n, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    manifest = {"format": FORMAT, "embedder": "all-minilm-l6-v2", "dim": 384, "chunk_size": 200, "chunk_overlap": 32,
                "index_type": "hnsw", "files": {}, "counts": {"chunks": n}}
    _write_build(tmp_path / "big", manifest, chunks, vecs, "hnsw")
    index = Index.load(tmp_path / "big", embedder_model=embedder_model)
    assert index.bm25.backend == "numba"
    plain = bm25s.BM25.load(str(tmp_path / "big" / "bm25"), override_params={"backend": "numpy"})
    for q in ("w1 w2 w3", "w42 w2999", "w7"):
        _, scores = plain.retrieve(tokenize([q]), k=10, show_progress=False)
        got = index.lexical(q, 10)
        # random words tie often, and ties may come in another order: compare the scores
        assert np.allclose([s for _, s in got], scores[0], rtol=1e-4)


def test_second_build_fails_at_once_while_the_lock_is_held(mixed_docs, tmp_path, embedder_model, cli):
    """Two builds on one index used to interleave and could leave the link naming a deleted folder."""
    import fcntl

    idx = tmp_path / "idx"
    build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
    before = os.readlink(idx)
    with open(tmp_path / "idx.lock", "a") as held:  # what a running build holds
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(UserError, match=r"another `adapt rag build` is writing .*idx\.lock"):
            build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
        code, _, err = cli("rag", "build", mixed_docs, "--index", idx)
        assert code == 2 and "idx.lock" in err
    assert os.readlink(idx) == before and [p.name for p in tmp_path.glob("idx.build-*")] == [before]
    # released: the next build goes ahead
    build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
    assert os.readlink(idx) != before


def test_manifest_is_complete_before_the_swap_and_gc_spares_fresh_folders(mixed_docs, tmp_path, embedder_model,
                                                                         monkeypatch):
    idx = tmp_path / "idx"
    build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
    old = os.readlink(idx)
    # a folder some other writer is filling right now (touched after this build took the lock)
    fresh = tmp_path / "idx.build-other.partial"
    fresh.mkdir()
    os.utime(fresh, (time.time() + 3600, time.time() + 3600))
    stale = tmp_path / "idx.build-killed.partial"  # a killed build's leftover, older than the lock
    stale.mkdir()
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    seen = {}
    real_replace = os.replace

    def spy(src, dst):
        if os.fspath(dst) == os.fspath(idx):  # the swap: what will readers find behind the new link?
            seen.update(json.loads((tmp_path / os.readlink(src) / "manifest.json").read_text()))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    (mixed_docs / "notes.txt").write_text("Plain notes: the ferry now leaves at 7 pm.\n")
    build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
    assert seen["build_seconds"] > 0 and seen["full_build_seconds"] >= seen["build_seconds"]
    assert json.loads((idx / "manifest.json").read_text()) == seen
    assert fresh.is_dir() and not stale.exists() and not (tmp_path / old).exists()


def test_unknown_format_or_mismatched_counts_fail_at_load(mixed_docs, tmp_path, embedder_model, cli):
    idx = tmp_path / "idx"
    build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model)
    manifest = json.loads((idx / "manifest.json").read_text())
    (idx / "manifest.json").write_text(json.dumps({**manifest, "format": 99}))
    with pytest.raises(UserError, match="format 99"):
        Index.load(idx, embedder_model=embedder_model)
    code, _, err = cli("rag", "query", "garage", "--index", idx)
    assert code == 2 and "rebuild" in err
    (idx / "manifest.json").write_text(json.dumps(manifest))
    lines = (idx / "chunks.jsonl").read_text().splitlines(keepends=True)
    (idx / "chunks.jsonl").write_text(lines[0].replace('"chunk_id"', '"id"') + "".join(lines[1:]))
    with pytest.raises(UserError, match=r"chunks\.jsonl:1: not a chunk"):
        Index.load(idx, embedder_model=embedder_model)
    (idx / "chunks.jsonl").write_text("".join(lines[:-1]))
    with pytest.raises(UserError, match=f"{len(lines) - 1} chunks but {len(lines)} vectors"):
        Index.load(idx, embedder_model=embedder_model)
    # and a rebuild does not lend rows from the damaged build: every file is embedded again
    assert build_index(mixed_docs, idx, progress=False, embedder_model=embedder_model).unchanged == 0
    assert len(Index.load(idx, embedder_model=embedder_model).chunks) == len(lines)


def test_links_out_of_docs_and_oversized_files_are_skipped_and_named(mixed_docs, tmp_path, embedder_model,
                                                                  monkeypatch):
    from adapt.rag import loaders

    secret = tmp_path / "outside.md"
    secret.write_text("# Secret\n\nThe root password is hunter2.\n")
    (mixed_docs / "passwd.md").symlink_to(secret)
    (mixed_docs / "alias.md").symlink_to(mixed_docs / "guide.md")  # inside docs: fine
    monkeypatch.setattr(loaders, "MAX_FILE_BYTES", 1000, raising=False)
    (mixed_docs / "huge.md").write_text("# Huge\n\n" + "many words here " * 100)
    warned: list[str] = []
    report = build_index(mixed_docs, tmp_path / "idx", progress=False, embedder_model=embedder_model,
                         warn=warned.append)
    skipped = dict(report.skipped)
    assert "links outside the documents folder" in skipped["passwd.md"]
    assert "too large" in skipped["huge.md"] and "alias.md" not in skipped
    assert any(w.startswith("skipped passwd.md") for w in warned) and any(w.startswith("skipped huge.md")
                                                                          for w in warned)
    index = Index.load(tmp_path / "idx", embedder_model=embedder_model)
    assert not any("hunter2" in c.text or "many words" in c.text for c in index.chunks)
    assert any(c.file == "alias.md" for c in index.chunks)


def test_build_the_index_a_recipe_reads(cli, mixed_docs, tmp_path):
    """`adapt rag build --recipe R`: docs, index and chunking from the recipe; a flag given wins."""
    import json

    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\nrung: rag\nmodel: m\nrag:\n  docs: {mixed_docs}\n  index: {tmp_path / 'idx'}\n"
                      "  chunk_size: 64\n  chunk_overlap: 8\n")
    code, out, err = cli("rag", "build", "--recipe", recipe)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert code == 0, err
    assert (manifest["chunk_size"], manifest["chunk_overlap"]) == (64, 8)
    assert manifest["docs"] == str(mixed_docs.resolve()) and f"indexed {manifest['counts']['files']} file(s)" in out
    code, _, err = cli("rag", "build", "--recipe", recipe, "--index", tmp_path / "other", "-o", "rag.chunk_size=48")
    assert code == 0, err
    assert json.loads((tmp_path / "other" / "manifest.json").read_text())["chunk_size"] == 48
    code, _, err = cli("rag", "build", "--recipe", "prompt-local")
    assert code == 2 and "reads no index" in err


def test_a_query_names_the_page_and_sheet_it_found(cli, tmp_path):
    import io

    import openpyxl
    from pypdf import PdfReader, PdfWriter

    from .conftest import tiny_pdf

    docs = tmp_path / "docs"
    docs.mkdir()
    writer = PdfWriter()
    for text in ("Chapter one is about parking.", "The warranty lasts two years."):
        writer.append(PdfReader(io.BytesIO(tiny_pdf(text))))
    writer.write(docs / "policy.pdf")
    book = openpyxl.Workbook()
    book.active.title = "Allowances"
    for row in (["Country", "Daily meal allowance"], ["Japan", "80 euros"], ["Peru", "35 euros"]):
        book.active.append(row)
    book.save(docs / "travel.xlsx")
    assert cli("rag", "build", docs, "--index", tmp_path / "idx")[0] == 0
    code, out, _ = cli("rag", "query", "how long is the warranty", "--index", tmp_path / "idx", "-k", "1", "--json")
    assert code == 0 and json.loads(out)[0]["location"] == "p. 2"
    code, out, _ = cli("rag", "query", "daily meal allowance in Japan", "--index", tmp_path / "idx", "-k", "1")
    assert code == 0 and "travel.xlsx › Allowances" in out and "Country | Daily meal allowance" in out
