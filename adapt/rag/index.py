"""The index: FAISS over normalized embeddings + BM25 (bm25s) over the same chunks, fused by RRF.

On disk an index is a symlink (`.adapt/index`) to one immutable build folder beside it. A build
writes a new folder and swaps the link with one atomic rename, so a build killed at any moment
leaves the previous index intact and answering. Rebuilds are incremental: chunks and vectors of
files whose sha256 did not change are reused, deleted files drop out.

One build at a time per index: a build holds an exclusive flock on `<index>.lock` beside the link
from before it reads the previous build until it has collected the garbage, and a second build
fails at once (a UserError naming the lock) rather than waiting. Two builds interleaving would each
lend from, swap and garbage-collect the same builds, which destroyed indexes. flock, unlike an
O_EXCL lock file, is released by the kernel when its holder dies, so a SIGKILLed build leaves no
stale lock to remove by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from adapt.artifacts import read_jsonl, versions, write_json, write_jsonl
from adapt.errors import UserError
from adapt.rag import CHUNK_OVERLAP, CHUNK_SIZE, DEFAULT_EMBEDDER, DEFAULT_INDEX, MODE, TOP_K
from adapt.rag.bm25 import tokenize
from adapt.rag.chunking import Chunk, chunk_document
from adapt.rag.filters import Filter
from adapt.rag.loaders import Sidecars, check_file, load_file, metadata, sha256, walk

log = logging.getLogger(__name__)
HNSW_THRESHOLD = 20_000  # below this an exact search is fast enough and perfect
# BM25 scoring in numpy takes ~18 ms a query at 100k chunks, numba ~0.3 ms; but numba compiles for
# ~6 s in every new process, so it is used only where an index is large enough to need it.
NUMBA_THRESHOLD = 20_000
RRF_K = 60
FORMAT = 3  # 2: chunks carry their location (page, slide, sheet); 3: and their file's type, mtime and tags


@dataclass
class BuildReport:
    index: str
    files: int = 0
    unchanged: int = 0
    embedded_files: int = 0
    deleted: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    index_type: str = ""


@dataclass
class Hit(Chunk):
    """A retrieved chunk: its fields, the score the last ranking stage gave it, its rank (from 1), and
    its cosine similarity to the question where the dense search scored it (what the guard's retrieval
    gate reads: unlike a fused or BM25 score, it means the same for every question)."""

    score: float
    rank: int
    similarity: float | None = None

    @classmethod
    def of(cls, chunk: Chunk, score: float, rank: int, similarity: float | None = None) -> Hit:
        """`chunk` scored and ranked; a Hit given here is re-ranked (its old score and rank are replaced,
        its similarity kept unless one is given)."""
        sim = similarity if similarity is not None else getattr(chunk, "similarity", None)
        return cls(**{**vars(chunk), "score": score, "rank": rank, "similarity": sim})

    def brief(self) -> dict[str, Any]:
        """Where the passage is and how it scored, without its text: what `ask --json` and the server report."""
        return {"source": self.source, "chunk_id": self.chunk_id, "heading": self.heading,
                "location": self.location, "score": self.score}

    def citation(self) -> str:
        """`policy.pdf p. 12 › Warranty`, `benefits.docx › Meals`, `allowances.xlsx › Japan`: what a
        reader needs to find the passage."""
        path = self.heading.split(" > ") if self.heading else []
        numbered = self.location and not self.location.startswith("sheet ")  # a sheet's heading is its name
        if numbered:  # the top-level heading is the page or slide itself
            path = path[1:]
        where = f"{self.source} {self.location}" if numbered else self.source
        return " › ".join([where, *path])


class Embedder:
    """sentence-transformers, normalized; keeps its name so indexes can check who embedded them."""

    def __init__(self, name: str, model: Any = None) -> None:
        from adapt.models import load_embedder

        self.name = name
        self.model = model or load_embedder(name)
        self.tokenizer = self.model.tokenizer
        self.max_seq_length = int(self.model.max_seq_length)
        self.dim = int(self.model.get_embedding_dimension())

    def encode_query(self, text: str) -> np.ndarray:
        """One query, straight through the modules: encode()'s batching machinery costs ~1.5 ms a call,
        a tenth of a query's budget at 100k chunks."""
        import torch
        from sentence_transformers.util import batch_to_device

        with torch.inference_mode():
            features = batch_to_device(self.model.preprocess([text]), self.model.device)
            vec = self.model(features)["sentence_embedding"]
            vec = torch.nn.functional.normalize(vec, dim=-1)
        return vec.cpu().numpy().astype(np.float32)

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        # encode() sorts by length internally, which cuts padding; vectors come back in input order
        return self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=progress).astype(np.float32)


def _faiss_index(vectors: np.ndarray, kind: str) -> Any:
    import faiss

    d = vectors.shape[1]
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        index = faiss.IndexFlatIP(d)
    index.add(vectors)
    return index


def _to_gpu(index: Any) -> Any:
    """faiss-gpu, when installed and a GPU is present, for exact indexes."""
    import faiss

    if hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0 and isinstance(index, faiss.IndexFlat):
        return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    return index


def build_index(docs: str | Path, index: str | Path = DEFAULT_INDEX, embedder: str = DEFAULT_EMBEDDER,
                chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP, index_type: str = "auto",
                progress: bool = True, embedder_model: Any = None, warn: Any = None) -> BuildReport:
    """Index every readable file under `docs`; see the module docstring for the guarantees."""
    t0 = time.perf_counter()
    docs, link = Path(docs), Path(index)
    warn = warn or (lambda msg: log.warning(msg))
    if not docs.is_dir():
        raise UserError(f"documents folder not found: {docs}")
    if link.exists() and not link.is_symlink():
        raise UserError(f"{link} exists and is not an adapt index (an adapt index is a symlink to a build folder)")
    if chunk_overlap >= chunk_size:
        raise UserError(f"must be smaller than the chunk size ({chunk_size})", param="chunk_overlap")
    sidecars = Sidecars(docs)  # a malformed metadata.yaml stops the build before anything is written
    link.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(link) as locked_at:
        report = BuildReport(index=str(link))
        emb = Embedder(embedder, embedder_model)
        size = min(chunk_size, emb.max_seq_length - 16)  # room for special tokens and the heading line
        if size < chunk_size:
            warn(f"chunk size {chunk_size} exceeds what {embedder} reads ({emb.max_seq_length} tokens); using {size}")

        # what the previous build can lend us: same embedder and chunking, same file hash
        prev: dict[str, tuple[str, list[Chunk], np.ndarray]] = {}
        old = _load_previous(link)
        if old is not None:
            m = old["manifest"]
            if (m["embedder"], m["chunk_size"], m["chunk_overlap"]) == (embedder, size, chunk_overlap):
                by_file: dict[str, list[int]] = {}
                for i, c in enumerate(old["chunks"]):
                    by_file.setdefault(c.file, []).append(i)
                for f, sha in m["files"].items():
                    rows = by_file.get(f, [])
                    prev[f] = (sha, [old["chunks"][i] for i in rows], old["vectors"][rows])
            else:
                warn("embedder or chunking changed since the last build: re-embedding everything")

        files: dict[str, str] = {}
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        new_chunks: list[Chunk] = []
        for path in walk(docs):
            rel = path.relative_to(docs).as_posix()
            try:
                check_file(path, docs)  # before reading: a link out of docs, or a huge file
                raw = path.read_bytes()  # read once: hashed here, parsed below if it changed
                meta = metadata(path, rel, raw, sidecars)
                if rel in prev and prev[rel][0] == sha256(raw):
                    files[rel] = prev[rel][0]
                    chunks.extend(replace(c, **meta) for c in prev[rel][1])
                    vectors.append(prev[rel][2])
                    report.unchanged += 1
                    continue
                src = load_file(path, rel, raw)
            except (ValueError, OSError) as e:
                report.skipped.append((rel, str(e)))
                warn(f"skipped {rel}: {e}")
                continue
            files[rel] = src.sha256
            report.embedded_files += 1
            for d in src.documents:
                new_chunks.extend(chunk_document(d, emb.tokenizer, size, chunk_overlap, meta))
        report.deleted = len(set(prev) - set(files))
        report.files = len(files)
        if not files:
            raise UserError(f"nothing indexable in {docs} ({len(report.skipped)} file(s) skipped)")

        if new_chunks:
            vectors.append(emb.encode([c.embed_text() for c in new_chunks], progress=progress))
            chunks.extend(new_chunks)
        report.embedded_chunks = len(new_chunks)
        vecs = np.concatenate(vectors) if vectors else np.zeros((0, emb.dim), np.float32)
        if len(chunks) == 0:
            raise UserError(f"no text to index in {docs}")
        kind = index_type if index_type != "auto" else ("hnsw" if len(chunks) >= HNSW_THRESHOLD else "flat")
        report.chunks, report.index_type = len(chunks), kind

        manifest = {
            "format": FORMAT, "embedder": embedder, "dim": emb.dim, "chunk_size": size, "chunk_overlap": chunk_overlap,
            "index_type": kind, "docs": str(docs.resolve()), "files": files, "counts": {
                "files": len(files), "chunks": len(chunks), "skipped": len(report.skipped)},
            "skipped": dict(report.skipped), "versions": versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

        def stamp(m: dict) -> None:
            """Timings go into the manifest inside the build folder before the swap: once the link
            points at a build, that build is never written again (another build may be reading it)."""
            report.seconds = time.perf_counter() - t0
            m["build_seconds"] = round(report.seconds, 3)
            # What building from scratch costs (the one-off cost every rung reading the index carries): an
            # incremental build that reused files is cheaper than that, so it keeps the earlier figure.
            prev_m = (old or {}).get("manifest", {})
            before = prev_m.get("full_build_seconds", prev_m.get("build_seconds", 0.0)) if report.unchanged else 0.0
            m["full_build_seconds"] = round(max(before, report.seconds), 3)

        _write_build(link, manifest, chunks, vecs, kind, stamp=stamp, locked_at=locked_at)
        return report


def build_seconds(index: str | Path) -> float:
    """What building the index from scratch took, as its manifest recorded it (0 with no index)."""
    manifest = Path(index) / "manifest.json"
    if not manifest.is_file():
        return 0.0
    m = json.loads(manifest.read_text())
    return m.get("full_build_seconds", m.get("build_seconds", 0.0))


def build_from(rag: Any = None, docs: str | Path | None = None, index: str | None = None,
               embedder: str | None = None, chunk_size: int | None = None, chunk_overlap: int | None = None,
               index_type: str = "auto", warn: Any = None) -> BuildReport:
    """`adapt rag build`: an explicit argument wins, then the recipe's rag section (`rag`), then the default."""
    if index_type not in ("auto", "flat", "hnsw"):
        raise UserError(f"must be auto, flat or hnsw, not '{index_type}'", param="index_type")
    docs = docs or (rag.docs if rag is not None else None)
    if docs is None:
        raise UserError("name the documents folder: `adapt rag build DOCS`, or a --recipe whose rag.docs names it")

    def pick(given: Any, field: str, default: Any) -> Any:
        return given if given is not None else getattr(rag, field) if rag is not None else default

    return build_index(docs, pick(index, "index", DEFAULT_INDEX), pick(embedder, "embedder", DEFAULT_EMBEDDER),
                       pick(chunk_size, "chunk_size", CHUNK_SIZE), pick(chunk_overlap, "chunk_overlap", CHUNK_OVERLAP),
                       index_type, warn=warn)


@contextlib.contextmanager
def _build_lock(link: Path) -> Iterator[float]:
    """Hold the index's build lock; yields the time it was taken. The lock file stays: removing it
    would let a third build lock a new file while the second still holds the old one."""
    lock = link.parent / f"{link.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another `adapt rag build` is writing {link} (it holds {lock}): wait for it to "
                            f"finish. The lock is released when that build exits, even if it is killed, so "
                            f"it is never stale; `fuser {lock}` shows the process holding it") from None
        yield time.time()
    finally:
        os.close(fd)  # closing releases the flock


def _write_build(link: Path, manifest: dict, chunks: list[Chunk], vectors: np.ndarray, kind: str,
                 stamp: Callable[[dict], None] | None = None, locked_at: float | None = None) -> None:
    """Write a complete build folder, swap the link to it, collect garbage. `stamp` completes the
    manifest (timings) just before it is written, last, into the still-private folder; `locked_at`:
    when the caller took the build lock (see _collect_garbage)."""
    import bm25s
    import faiss

    link.parent.mkdir(parents=True, exist_ok=True)
    build = link.parent / f"{link.name}.build-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    tmp = build.with_name(build.name + ".partial")
    tmp.mkdir()
    try:
        write_jsonl(tmp / "chunks.jsonl", [c.to_dict() for c in chunks])
        np.save(tmp / "vectors.npy", vectors)
        faiss.write_index(_faiss_index(vectors, kind), str(tmp / "faiss.index"))
        bm25 = bm25s.BM25()
        bm25.index(tokenize([c.embed_text() for c in chunks]), show_progress=False)
        bm25.save(str(tmp / "bm25"))
        if stamp is not None:
            stamp(manifest)
        write_json(tmp / "manifest.json", manifest)
        for p in tmp.rglob("*"):
            if p.is_file():
                with open(p, "rb") as fh:
                    os.fsync(fh.fileno())
        os.rename(tmp, build)
        replaced = os.readlink(link) if link.is_symlink() else None
        # swap the link atomically: readers see the old build or the new one
        new_link = link.parent / f".{link.name}.link-{uuid.uuid4().hex[:6]}"
        os.symlink(build.name, new_link)
        os.replace(new_link, link)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _collect_garbage(link, replaced, locked_at)


def _collect_garbage(link: Path, replaced: str | None, locked_at: float | None) -> None:
    """Remove the build this swap replaced, and leftovers of killed builds: build folders and temp
    links not named by the link and last touched before `locked_at`. Under the lock no other build
    runs, so those can only be leftovers; the age test also spares a folder some writer not taking
    the lock (an older adapt) is filling right now. Without `locked_at` only `replaced` goes."""
    current = os.readlink(link)
    if replaced and replaced != current and "/" not in replaced:
        shutil.rmtree(link.parent / replaced, ignore_errors=True)
    if locked_at is None:
        return
    for p in [*link.parent.glob(f"{link.name}.build-*"), *link.parent.glob(f".{link.name}.link-*")]:
        try:
            if p.name == current or p.lstat().st_mtime >= locked_at:
                continue
        except FileNotFoundError:
            continue
        if p.is_symlink() or not p.is_dir():
            p.unlink(missing_ok=True)
        else:
            shutil.rmtree(p, ignore_errors=True)


def _load_previous(link: Path) -> dict | None:
    if not (link / "manifest.json").is_file():
        return None
    try:
        old = {"manifest": json.loads((link / "manifest.json").read_text()),
               "chunks": _read_chunks(link), "vectors": np.load(link / "vectors.npy")}
    except (OSError, ValueError, KeyError, UserError):  # damaged: lend nothing, embed everything again
        return None
    # lend nothing from a build this code cannot read, or whose rows do not line up: rebuild all
    if old["manifest"].get("format") != FORMAT or len(old["chunks"]) != len(old["vectors"]):
        return None
    return old


_CHUNK_FIELDS = {f.name for f in fields(Chunk)}


def _read_chunks(path: Path) -> list[Chunk]:
    chunks = []
    for n, row in read_jsonl(path / "chunks.jsonl"):
        if not isinstance(row, dict) or set(row) != _CHUNK_FIELDS:
            raise UserError(f"{path / 'chunks.jsonl'}:{n}: not a chunk of this adapt's format: rebuild the index "
                            f"with `adapt rag build DOCS --index ...`")
        chunks.append(Chunk(**row))
    return chunks


@dataclass
class _Subset:
    mask: np.ndarray  # per chunk: passes the filters
    ids: np.ndarray  # the chunks that pass, int64
    exact: Any  # a flat index over just those (HNSW indexes: small subsets, or once a search came back short)


class Index:
    """A loaded index: dense, BM25 and hybrid search over the same chunks."""

    def __init__(self, path: Path, manifest: dict, chunks: list[Chunk], embedder: Embedder | None) -> None:
        import bm25s
        import faiss

        self.path, self.manifest, self.chunks, self.embedder = path, manifest, chunks, embedder
        vectors = faiss.read_index(str(path / "faiss.index"))
        # a row count off by one would not fail, it would answer with the wrong chunk's text
        if vectors.ntotal != len(chunks):
            raise UserError(f"the index at {path} is damaged: {len(chunks)} chunks but {vectors.ntotal} vectors; "
                            f"rebuild it with `adapt rag build DOCS --index ...`")
        self.faiss_cpu = vectors  # filtered searches run here: a GPU index cannot take an ID selector
        self.flat = isinstance(vectors, faiss.IndexFlat)
        self.faiss = _to_gpu(vectors)
        self._subsets: dict[tuple[Filter, ...], _Subset] = {}
        large = len(chunks) >= NUMBA_THRESHOLD and importlib.util.find_spec("numba") is not None
        self.bm25 = bm25s.BM25.load(str(path / "bm25"), override_params={"backend": "numba" if large else "numpy"},
                                    show_progress=False)
        if large:  # compile now rather than on the first query
            self.bm25.retrieve([[next(iter(self.bm25.vocab_dict))]], k=1, show_progress=False)

    @classmethod
    def load(cls, index: str | Path = DEFAULT_INDEX, expect_embedder: str | None = None,
             need_embedder: bool = True, embedder_model: Any = None) -> Index:
        path = Path(index)
        if not (path / "manifest.json").is_file():
            raise UserError(f"no index at {path}: build one with `adapt rag build DOCS --index {path}`")
        # resolve once, so a concurrent rebuild swapping the link cannot mix two builds
        path = path.resolve()
        try:
            manifest = json.loads((path / "manifest.json").read_text())
        except ValueError as e:
            raise UserError(f"the index at {index} has an unreadable manifest ({e}): rebuild it") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else None
            raise UserError(f"the index at {index} has format {found!r}; this adapt reads format {FORMAT}: "
                            f"rebuild it with `adapt rag build DOCS --index {index}`")
        if expect_embedder and expect_embedder != manifest["embedder"]:
            raise UserError(f"the index at {index} was built with embedder '{manifest['embedder']}', not "
                            f"'{expect_embedder}': query with the same embedder, or rebuild with "
                            f"`adapt rag build DOCS --index {index} --embedder {expect_embedder}`")
        emb = Embedder(manifest["embedder"], embedder_model) if need_embedder else None
        if emb is not None and emb.dim != manifest["dim"]:
            raise UserError(f"embedder '{manifest['embedder']}' gives {emb.dim}-d vectors, the index holds "
                            f"{manifest['dim']}-d: rebuild the index")
        return cls(path, manifest, _read_chunks(path), emb)

    def subset(self, filters: Sequence[Filter]) -> _Subset:
        """The chunks that pass `filters`, and how each retriever searches only those; cached, since a
        recipe or a server asks with the same filters every time."""
        key = tuple(filters)
        if key not in self._subsets:
            passes: dict[str, bool] = {}  # metadata is per file: test each file once
            for c in self.chunks:
                if c.file not in passes:
                    passes[c.file] = all(f.test(c) for f in key)
            mask = np.array([passes[c.file] for c in self.chunks], bool)
            ids = np.flatnonzero(mask).astype(np.int64)
            exact = None
            if not self.flat and len(ids) <= HNSW_THRESHOLD:
                # HNSW with a selector can miss results when few vectors pass; a small subset is
                # searched exactly instead, and its row numbers mapped back
                exact = _faiss_index(self.faiss_cpu.reconstruct_batch(ids), "flat") if len(ids) else None
            self._subsets[key] = _Subset(mask, ids, exact)
        return self._subsets[key]

    def require(self, filters: Sequence[Filter], field: str | None = None) -> _Subset:
        """The subset, or a UserError when no chunk passes: most likely a misspelt tag or path, and
        retrieving nothing would let a model answer every question from no passage at all. `field`: the
        recipe field the filters came from (else they are --filter options)."""
        subset = self.subset(filters)
        if filters and not len(subset.ids):
            msg = f"no chunk of the index passes {' and '.join(map(str, filters))}"
            raise UserError(f"{field}: {msg}" if field else msg, param=None if field else "filter")
        return subset

    def dense(self, query: str, n: int, subset: _Subset | None = None) -> list[tuple[int, float]]:
        q = self.embedder.encode_query(query)
        if subset is None:
            scores, ids = self.faiss.search(q, min(n, len(self.chunks)))
        elif not len(subset.ids):
            return []
        elif subset.exact is not None:
            scores, rows = subset.exact.search(q, min(n, len(subset.ids)))
            ids = np.where(rows >= 0, subset.ids[rows], -1)
        else:
            import faiss

            selector = faiss.IDSelectorBatch(subset.ids)
            params = (faiss.SearchParameters(sel=selector) if self.flat
                      else faiss.SearchParametersHNSW(sel=selector, efSearch=max(64, n)))
            scores, ids = self.faiss_cpu.search(q, min(n, len(subset.ids)), params=params)
            if (ids[0] >= 0).sum() < min(n, len(subset.ids)):
                # HNSW walks its graph and drops what fails the selector: when the passing chunks lie away
                # from the question it comes back short. Search them exactly instead, from now on.
                subset.exact = _faiss_index(self.faiss_cpu.reconstruct_batch(subset.ids), "flat")
                return self.dense(query, n, subset)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def lexical(self, query: str, n: int, subset: _Subset | None = None) -> list[tuple[int, float]]:
        tokens = tokenize([query])
        if not tokens[0] or (subset is not None and not len(subset.ids)):
            return []
        # bm25s multiplies every score by the mask, and zero scores are dropped below
        mask = subset.mask.astype(np.float32) if subset is not None else None
        ids, scores = self.bm25.retrieve(tokens, k=min(n, len(self.chunks)), show_progress=False, n_threads=0,
                                         weight_mask=mask)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]

    def search(self, query: str, k: int = TOP_K, mode: str = MODE, filters: Sequence[Filter] = ()) -> list[Hit]:
        """The top-k chunks, best first; hybrid = reciprocal-rank fusion. With `filters`, only chunks
        that pass them all, in every retriever before fusion."""
        subset = self.subset(filters) if filters else None
        similarity: dict[int, float] = {}
        if mode == "dense":
            hits = self.dense(query, k, subset)
            similarity = dict(hits)
        elif mode == "bm25":
            hits = self.lexical(query, k, subset)
        elif mode == "hybrid":
            n = max(4 * k, 20)
            dense = self.dense(query, n, subset)
            similarity = dict(dense)
            fused: dict[int, float] = {}
            for ranked in (dense, self.lexical(query, n, subset)):
                for rank, (i, _) in enumerate(ranked):
                    fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
            hits = sorted(fused.items(), key=lambda x: -x[1])[:k]
        else:
            raise UserError(f"unknown retrieval mode '{mode}' (dense, bm25 or hybrid)")
        return [Hit.of(self.chunks[i], round(s, 6), r + 1,
                       round(similarity[i], 6) if i in similarity else None) for r, (i, s) in enumerate(hits)]


class Reranker:
    """A cross-encoder that reorders a wider first-stage candidate list."""

    def __init__(self, index: Index, model: str) -> None:
        from sentence_transformers import CrossEncoder

        from adapt.models import resolve_embedder

        self.index = index
        self.model = CrossEncoder(resolve_embedder(model))

    def search(self, query: str, k: int = TOP_K, mode: str = MODE, filters: Sequence[Filter] = ()) -> list[Hit]:
        cands = self.index.search(query, k=max(4 * k, 20), mode=mode, filters=filters)
        scores = self.model.predict([(query, c.text) for c in cands], show_progress_bar=False)
        order = np.argsort(-np.asarray(scores))[:k]
        return [Hit.of(cands[i], float(scores[i]), r + 1) for r, i in enumerate(order)]
