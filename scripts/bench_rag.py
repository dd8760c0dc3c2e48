"""RAG benchmark: ingest speed vs raw encode, retrieval quality on SQuAD, query latency at 100k chunks.

    python scripts/bench_rag.py [--squad ../shared/data/squad2/squad2-dev-a.json] [--n-large 100000]

Last line: one JSON object with the figures (see the RAG issue for the targets).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def latency(model, words: list[str], questions: list[str], n: int, tmp: Path) -> dict[str, tuple[float, float]]:
    """p50/p95 ms of Index.search at n synthetic chunks (SQuAD words, random unit vectors, HNSW),
    the query embedding included."""
    from adapt.rag.chunking import Chunk
    from adapt.rag.index import FORMAT, Index, _write_build

    rng = random.Random(0)
    chunks = [Chunk(f"s{i}", f"synthetic/{i // 100}.md", f"synthetic/{i // 100}.md", "", "",
                    " ".join(rng.choices(words, k=60)), 0, 0, None, "md",
                    "2026-01-01T00:00:00Z", []) for i in range(n)]
    vecs = np.random.default_rng(0).standard_normal((n, model.get_embedding_dimension())).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    manifest = {"format": FORMAT, "embedder": "all-minilm-l6-v2", "dim": int(vecs.shape[1]), "chunk_size": 200,
                "chunk_overlap": 32, "index_type": "hnsw", "files": {}, "counts": {"chunks": n}}
    _write_build(tmp / "big", manifest, chunks, vecs, "hnsw")
    large = Index.load(tmp / "big", embedder_model=model)
    out = {}
    for mode in ("dense", "hybrid"):
        for q in questions[:10]:
            large.search(q, 5, mode)
        ts = []
        for q in questions:
            t = time.perf_counter()
            large.search(q, 5, mode)
            ts.append((time.perf_counter() - t) * 1000)
        out[mode] = (float(np.percentile(ts, 50)), float(np.percentile(ts, 95)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad", default=str(ROOT.parent / "shared/data/squad2/squad2-dev-a.json"))
    ap.add_argument("--n-large", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--latency-only", action="store_true", help="skip ingest and recall (sections 1 and 2)")
    args = ap.parse_args()
    if not Path(args.squad).is_file():
        sys.exit(f"SQuAD file not found: {args.squad} (pass --squad)")

    from adapt.data.squad import import_squad
    from adapt.data.suite import load_suite
    from adapt.eval.metrics import retrieval_hit
    from adapt.models import load_embedder
    from adapt.rag.index import Index, build_index

    tmp = Path(tempfile.mkdtemp(prefix="bench-rag-"))
    import_squad(args.squad, tmp / "docs", tmp / "suite.jsonl")
    model = load_embedder("all-minilm-l6-v2", dev="cpu")
    model.encode(["warm up"] * 8)

    items = [i for i in load_suite(tmp / "suite.jsonl") if i.answers]
    if args.latency_only:
        words = " ".join(p.read_text() for p in sorted((tmp / "docs").glob("*.md"))).split()
        lat = latency(model, words, [i.question for i in items[: args.queries]], args.n_large, tmp)
        print(json.dumps({"p50_ms_100k": round(lat["hybrid"][0], 2), "p95_ms_100k": round(lat["hybrid"][1], 2),
                          "dense_p50_ms_100k": round(lat["dense"][0], 2), "dense_p95_ms_100k": round(lat["dense"][1], 2),
                          "n_large": args.n_large}))
        return

    # 1. ingest: the whole `adapt rag build` against raw encode of the very same chunk texts
    rep = build_index(tmp / "docs", tmp / "idx", progress=False, embedder_model=model)
    index = Index.load(tmp / "idx", embedder_model=model)
    texts = [c.embed_text() for c in index.chunks]
    t0 = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True)
    raw_s = time.perf_counter() - t0
    build_cps, raw_cps = rep.chunks / rep.seconds, len(texts) / raw_s

    # 2. retrieval quality: a hit is a chunk from the gold article overlapping the gold paragraph
    recall: dict[str, dict[str, float]] = {}
    mrr: dict[str, float] = {}
    for mode in ("bm25", "dense", "hybrid"):
        ranks = [retrieval_hit(index.search(i.question, 10, mode), i.source, i.context) for i in items]
        recall[mode] = {f"@{k}": float(np.mean([r is not None and r <= k for r in ranks])) for k in (1, 5, 10)}
        mrr[mode] = float(np.mean([1.0 / r if r else 0.0 for r in ranks]))

    # 3. latency at scale
    n = args.n_large
    t0 = time.perf_counter()
    lat = latency(model, " ".join(c.text for c in index.chunks).split(), [i.question for i in items[: args.queries]],
                  n, tmp)
    big_build_s = time.perf_counter() - t0
    questions = items[: args.queries]

    print(f"{'':24}{'bm25':>10}{'dense':>10}{'hybrid':>10}")
    for k in ("@1", "@5", "@10"):
        print(f"{'recall' + k:24}" + "".join(f"{recall[m][k]:>10.3f}" for m in ("bm25", "dense", "hybrid")))
    print(f"{'MRR@10':24}" + "".join(f"{mrr[m]:>10.3f}" for m in ("bm25", "dense", "hybrid")))
    print(f"ingest: {rep.chunks} chunks, adapt rag build {build_cps:.1f} chunks/s ({rep.seconds:.1f}s), "
          f"raw encode {raw_cps:.1f} chunks/s ({raw_s:.1f}s), ratio {build_cps / raw_cps:.2f}")
    print(f"{n} chunks (built and measured in {big_build_s:.0f}s): dense p50/p95 {lat['dense'][0]:.1f}/"
          f"{lat['dense'][1]:.1f} ms, hybrid p50/p95 {lat['hybrid'][0]:.1f}/{lat['hybrid'][1]:.1f} ms "
          f"(query embedding included, {len(questions)} queries)")
    print(json.dumps({
        "ingest_ratio": round(build_cps / raw_cps, 3), "chunks_per_s": round(build_cps, 2),
        "raw_encode_chunks_per_s": round(raw_cps, 2), "chunks": rep.chunks,
        "recall@5": {m: round(recall[m]["@5"], 4) for m in recall},
        "recall@1": {m: round(recall[m]["@1"], 4) for m in recall},
        "recall@10": {m: round(recall[m]["@10"], 4) for m in recall},
        "mrr": {m: round(v, 4) for m, v in mrr.items()}, "n_questions": len(items),
        "p50_ms_100k": round(lat["hybrid"][0], 2), "p95_ms_100k": round(lat["hybrid"][1], 2),
        "dense_p50_ms_100k": round(lat["dense"][0], 2), "dense_p95_ms_100k": round(lat["dense"][1], 2),
        "n_large": n,
    }))


if __name__ == "__main__":
    main()
