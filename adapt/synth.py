"""`adapt data synth`: an eval suite with unanswerable items, and a disjoint training set, from documents alone.

A generator model writes a question and a short answer for a passage (a short chunk, PASSAGE_TOKENS
long); checks decide what is kept: the answer is a verbatim span of the passage, the question does not
give it away, the generator, asked its own question with the passage, answers it with that span (round
trip), and no kept item is a near-duplicate. Every rejection is counted in synth.json, so a weak
generator shows as a short suite, never as a silently bad one.

Unanswerable items come from documents set aside (left out of `DIR/docs`, the folder to index): a
question about them is kept only when its answer, as written, occurs nowhere in what is indexed (text,
titles, file names). That is what can be checked without a person: an indexed document may still
answer such a question with another value, so read a sample before trusting the no-answer rates.
"""

from __future__ import annotations

import math
import random
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from adapt.data.suite import Item, write_suite
from adapt.data.text import normalize
from adapt.errors import UserError

if TYPE_CHECKING:
    from adapt.backends import Generator
    from adapt.rag.chunking import Chunk
    from adapt.recipe import Recipe

UNANSWERABLE = 0.25     # default share of unanswerable items, about SQuAD 2.0's one in three
RETRIEVAL_K = 5         # an answerable question must retrieve its passage in this many hits, else it is `hard`
MAX_ASIDE = 1 / 3       # most of the text set aside for unanswerable items: the index keeps the rest
MAX_FILE_SHARE = 0.2    # no file gives more than this share of a split's items (unless there are too few files)
MAX_ANSWER_WORDS = 8    # "a short answer": longer ones are sentences, which no grader compares fairly
NEAR_DUPLICATE = 0.8    # token Jaccard of two normalized questions at which the later one is dropped
PASSES = 3              # questions asked of each passage at most: two greedy (one per prompt), then sampled
TEMPERATURE = 0.3       # of the sampled pass: hotter, and a small model's answers stop being spans
# Questions are written about passages shorter than the index's chunks: a small model keeps to a short
# text, and more passages give more questions. (SmolLM2-135M keeps 7 % of its questions on the demo
# handbook and 2 % on Wikipedia articles: most of its answers are whole sentences.)
PASSAGE_TOKENS = 96
MAX_NEW_TOKENS = 64
ROUNDTRIP_TOKENS = 24
# Why each candidate was rejected: the first check it failed, in this order.
FILTERS = ("unparsed", "too_long", "not_span", "answer_in_question", "answer_in_docs", "roundtrip",
           "near_duplicate", "eval_answer")

SYSTEM = ("Write one quiz question about the passage, and its answer: a short phrase (a name, number, date or "
          "place, at most five words) copied word for word from the passage.")
# Worked examples: small models follow a shown format far better than a described one. Two orders:
# question first reads naturally; answer first keeps small models to a short span. Passes alternate them.
EXAMPLES = [("The museum opened in 1987 in Lyon. Its collection of 4,000 clocks was donated by Marie Besson, a "
             "watchmaker.", "Who donated the museum's collection of clocks?", "Marie Besson"),
            ("Members may borrow up to 12 books at a time. Loans last three weeks and can be renewed online twice.",
             "How long does a loan last?", "three weeks")]
ROUNDTRIP = "Answer the question from the passage, in a few words copied from it."


@dataclass
class Candidate:
    chunk: Chunk
    split: str  # "eval" | "train"
    kind: str   # "answerable" | "unanswerable"
    question: str = ""
    answer: str = ""
    hard: bool = False


@dataclass
class Synthesis:
    suite: list[Item]
    train: list[Item]
    stats: dict[str, Any] = field(default_factory=dict)


def messages(chunk_text: str, answer_first: bool = False) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": SYSTEM}]
    for passage, q, a in EXAMPLES:
        shown = f"Answer: {a}\nQuestion: {q}" if answer_first else f"Question: {q}\nAnswer: {a}"
        msgs += [{"role": "user", "content": f"Passage:\n{passage}"}, {"role": "assistant", "content": shown}]
    return msgs + [{"role": "user", "content": f"Passage:\n{chunk_text}"}]


def roundtrip_messages(chunk_text: str, question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": ROUNDTRIP}, {"role": "user", "content": f"Passage:\n{chunk_text}\n\n"
                                                                                 f"Question: {question}"}]


def parse(text: str) -> tuple[str, str] | None:
    """'Question: ...\\nAnswer: ...' (either order) -> (question, answer); the first pair only, chatter dropped."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        for key in ("question", "answer"):
            if key not in found and line.lower().startswith(key + ":"):
                found[key] = line[len(key) + 1:].strip()
        if len(found) == 2:
            break
    q, a = found.get("question", ""), found.get("answer", "").strip("\"'").rstrip(".").strip()
    if len(q.split()) < 3 or not normalize(a):
        return None
    return q, a


def agrees(reply: str, answer: str) -> bool:
    """Whether the generator's own answer to its question holds every word of the span it wrote the
    question for ("three weeks" is not "two weeks"); the reply may say more."""
    want = set(normalize(answer).split())
    return bool(want) and want <= set(normalize(reply).split())


def loose(text: str) -> str:
    """Words only: every punctuation or symbol character (Unicode too) is a space, so "Besson's",
    "Lyon-based" and "1987/88" still hold "Besson", "Lyon" and "1987". The absence check uses it: it
    may reject a good unanswerable item, never keep one whose answer is there."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def absent(answer: str, indexed_loose: str) -> bool:
    words = loose(answer)
    return not words or f" {words} " not in f" {indexed_loose} "


def contains(haystack_normalized: str, needle: str) -> bool:
    """Whether `needle`, normalized, occurs in the normalized text as whole words."""
    n = normalize(needle)
    return bool(n) and f" {n} " in f" {haystack_normalized} "


def _tokens(question: str) -> set[str]:
    return set(normalize(question).split())


def near_duplicate(question: str, kept: list[set[str]]) -> bool:
    t = _tokens(question)
    return any(len(t & k) / max(1, len(t | k)) >= NEAR_DUPLICATE for k in kept)


def retrieves(index: Any, question: str, file: str, answer: str) -> bool:
    """Whether one of the top RETRIEVAL_K passages is from the question's file and holds its answer (the
    index chunks its documents differently, so "its own passage" is the one that holds the answer)."""
    return any(h.file == file and contains(normalize(h.text), answer) for h in index.search(question, RETRIEVAL_K))


def file_cap(target: int, files: int) -> int:
    """Most items one file may give a split of `target` items."""
    return max(1, math.ceil(target * MAX_FILE_SHARE), math.ceil(target / max(1, files)))


def set_aside(sizes: dict[str, int], share: float, rng: random.Random) -> list[str]:
    """Files (by text size) to leave out of the index: about `share` of the text, never all of them.

    Files are taken in random order, skipping any that would take the set-aside text past 1.5 times the
    share, so one big manual is not set aside for a few questions; when every file is that big, the
    smallest is."""
    if share <= 0 or len(sizes) < 2:
        return []
    total = sum(sizes.values())
    order = sorted(sizes)
    rng.shuffle(order)
    chosen, text = [], 0
    for f in order:
        if text >= share * total:
            break
        if text + sizes[f] <= 1.5 * share * total and len(chosen) < len(sizes) - 1:
            chosen.append(f)
            text += sizes[f]
    return sorted(chosen or [min(sorted(sizes), key=lambda f: sizes[f])])


def split_files(files: list[str], train_share: float, rng: random.Random) -> tuple[set[str], set[str]]:
    """Set-aside files for eval items and for training rows: whole files, so that no unanswerable eval
    item is about a document the model was trained (or a guard calibrated) to abstain on."""
    order = sorted(files)
    rng.shuffle(order)
    n = round(len(order) * train_share) if train_share > 0 else 0
    n = min(n, len(order) - 1)  # eval items come first
    return set(order[n:]), set(order[:n])


def split_chunks(chunks: list[Chunk], train_share: float, rng: random.Random) -> tuple[list[Chunk], list[Chunk]]:
    """Chunks for eval items and chunks for training rows, disjoint, each file split in the same proportion."""
    if train_share <= 0:
        return list(chunks), []
    by_file: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_file.setdefault(c.file, []).append(c)
    ev, tr = [], []
    carry = 0.0  # so that many one-chunk files still split in proportion
    for f in sorted(by_file):
        group = by_file[f][:]
        rng.shuffle(group)
        exact = len(group) * train_share + carry
        n = int(exact)
        carry = exact - n
        tr += group[:n]
        ev += group[n:]
    return ev, tr


class Synthesizer:
    """Generates candidates for one pool of chunks and keeps those that pass the checks."""

    def __init__(self, generator: Generator, batch_size: int, index: Any, indexed_text: str,
                 counts: dict[str, Any], bar: Any) -> None:
        self.generator, self.batch_size, self.index = generator, batch_size, index
        self.indexed_text = indexed_text  # loose() text of everything in DIR/docs, names and titles too
        self.counts, self.bar = counts, bar
        self.kept_questions: list[set[str]] = []
        self.eval_answers: set[str] = set()

    def fill(self, chunks: list[Chunk], split: str, kind: str, target: int, rng: random.Random) -> list[Candidate]:
        kept: list[Candidate] = []
        if target <= 0 or not chunks:
            return kept
        cap = file_cap(target, len({c.file for c in chunks}))
        per_file: dict[str, int] = {}
        task = self.bar.add_task(f"{split} {kind}", total=target)
        for p in range(PASSES):
            order = chunks[:]
            rng.shuffle(order)  # uniform over chunks is in proportion to each file's text
            while order and len(kept) < target:
                batch = []
                while order and len(batch) < self.batch_size:
                    c = order.pop()
                    if per_file.get(c.file, 0) < cap:
                        batch.append(c)
                if not batch:
                    break
                for cand in self._generate(batch, split, kind, p):
                    if len(kept) >= target or per_file.get(cand.chunk.file, 0) >= cap:
                        self.counts["surplus"] += 1
                        continue
                    why = self._novel(cand, kept)
                    if why:
                        self.counts["rejected"][why] += 1
                        continue
                    if cand.kind == "answerable" and cand.split == "eval":
                        cand.hard = not retrieves(self.index, cand.question, cand.chunk.file, cand.answer)
                    kept.append(cand)
                    per_file[cand.chunk.file] = per_file.get(cand.chunk.file, 0) + 1
                    self.kept_questions.append(_tokens(cand.question))
                    if split == "eval":
                        self.eval_answers.add(normalize(cand.answer))
                    self._count(cand.chunk.file, "kept")
                    self.bar.advance(task, 1)
            if len(kept) >= target:
                break
        return kept

    def _generate(self, batch: list[Chunk], split: str, kind: str, p: int) -> list[Candidate]:
        """One batch of questions, screened by the checks that need no other item."""
        gens = self.generator.generate([messages(c.text, answer_first=p % 2 == 1) for c in batch], MAX_NEW_TOKENS,
                                       temperature=0.0 if p < 2 else TEMPERATURE)
        screened = []
        for c, g in zip(batch, gens):
            self._count(c.file, "generated")
            cand = Candidate(c, split, kind)
            why = self.screen(cand, g.text)
            if why:
                self.counts["rejected"][why] += 1
            else:
                screened.append(cand)
        if not screened:
            return []
        replies = self.generator.generate([roundtrip_messages(c.chunk.text, c.question) for c in screened],
                                          ROUNDTRIP_TOKENS)
        passed = []
        for cand, r in zip(screened, replies):
            if agrees(r.text, cand.answer):
                passed.append(cand)
            else:
                self.counts["rejected"]["roundtrip"] += 1
        return passed

    def screen(self, cand: Candidate, text: str) -> str | None:
        """The first check of the generated text that fails (None: all pass); sets the candidate's fields."""
        parsed = parse(text)
        if parsed is None:
            return "unparsed"
        cand.question, cand.answer = parsed
        if len(cand.answer.split()) > MAX_ANSWER_WORDS:
            return "too_long"
        if not contains(normalize(cand.chunk.text), cand.answer):
            return "not_span"
        if contains(normalize(cand.question), cand.answer):
            return "answer_in_question"
        if cand.kind == "unanswerable" and not absent(cand.answer, self.indexed_text):
            return "answer_in_docs"
        return None

    def _novel(self, cand: Candidate, kept: list[Candidate]) -> str | None:
        """Checks against what is already kept."""
        same = any(k.chunk.chunk_id == cand.chunk.chunk_id and normalize(k.answer) == normalize(cand.answer)
                   for k in kept)
        if same or near_duplicate(cand.question, self.kept_questions):
            return "near_duplicate"
        if cand.split == "train" and normalize(cand.answer) in self.eval_answers:
            return "eval_answer"
        return None

    def _count(self, file: str, key: str) -> None:
        self.counts["files"].setdefault(file, {"generated": 0, "kept": 0})[key] += 1


def _item(c: Candidate, i: int, prefix: str) -> Item:
    unans = c.kind == "unanswerable"
    return Item(f"{prefix}{i:04d}", c.question, [] if unans else [c.answer], c.chunk.source, c.chunk.text,
                kind=c.kind, plausible_answers=[c.answer] if unans else None, hard=c.hard or None,
                chunk_id=c.chunk.chunk_id)


def train_row(item: Item, abstain: str) -> dict[str, Any]:
    """A closed-book chat row (what `train.data` reads), with where it came from."""
    return {"messages": [{"role": "user", "content": item.question},
                         {"role": "assistant", "content": item.answers[0] if item.answers else abstain}],
            "id": item.id, "chunk_id": item.chunk_id, "source": item.source, "kind": item.kind}


def check_args(n: int, unanswerable: float, train: int, n_flag: str = "n") -> None:
    if n < 1:
        raise UserError(f"must be at least 1, not {n}", param=n_flag)
    if not 0 <= unanswerable < 1:
        raise UserError(f"is a share from 0 up to (not including) 1, not {unanswerable:g}", param="unanswerable")
    if n - round(n * unanswerable) < 1:
        raise UserError(f"leaves no answerable item among {n} (ask for more items or a smaller share)",
                        param="unanswerable")
    if train < 0:
        raise UserError(f"must be 0 or more, not {train}", param="train")


def check_generator(recipe: Recipe) -> None:
    if recipe.model is None:
        raise UserError(f"recipe '{recipe.name}' ({recipe.rung}) has no model, so it cannot write questions: "
                        "give a recipe with a model section (prompt-local, prompt-api, ...)", param="generator")


def check_folders(docs: Path, out: Path, overwrite: bool) -> None:
    if not docs.is_dir():
        raise UserError(f"documents folder not found: {docs}")
    d, o = docs.resolve(), out.resolve()
    if o.is_relative_to(d) or d.is_relative_to(o):  # --overwrite would delete the documents themselves
        raise UserError(f"{out} and the documents folder {docs} must not hold one another: write it elsewhere",
                        param="out")
    if out.exists() and not overwrite:
        raise UserError(f"{out} already exists: --overwrite replaces it")


def input_hashes(docs: Path) -> dict[str, str]:
    """sha256 of every file synthesis reads: the documents and their metadata.yaml sidecars."""
    from adapt.artifacts import sha256_file
    from adapt.rag.loaders import METADATA_FILE, walk

    found = walk(docs) + [p for p in docs.rglob(METADATA_FILE)
                          if not any(part.startswith(".") for part in p.relative_to(docs).parts)]
    return {p.relative_to(docs).as_posix(): sha256_file(p) for p in sorted(found) if p.is_file()}


def synthesize(docs: str | Path, out: str | Path, generator: Recipe, n: int = 200, unanswerable: float = UNANSWERABLE,
               train: int = 0, seed: int = 0, overwrite: bool = False, progress: bool = True,
               warn: Callable[[str], None] | None = None, make_generator: Callable[..., Generator] | None = None,
               embedder_model: Any = None) -> Synthesis:
    """Write out/suite.jsonl, out/train.jsonl (when training rows survive), out/docs/ and out/synth.json, all
    at once (beside `out`, then renamed into place)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from adapt.artifacts import atomic_dir, versions, write_json, write_jsonl
    from adapt.backends import make_generator as default_make
    from adapt.rag import DEFAULT_EMBEDDER
    from adapt.rag.chunking import chunk_document
    from adapt.rag.index import Embedder, Index, build_index
    from adapt.rag.loaders import METADATA_FILE, Sidecars, check_file, load_file, metadata, walk

    t0 = time.perf_counter()
    check_args(n, unanswerable, train)
    check_generator(generator)
    docs, out = Path(docs), Path(out)
    warn = warn or (lambda m: None)
    check_folders(docs, out, overwrite)
    if not walk(docs):
        raise UserError(f"no documents in {docs}")
    rng = random.Random(seed)
    if generator.model.backend == "local":  # the sampled pass, reproducible with the seed (APIs: not always)
        from transformers import set_seed

        set_seed(seed)
    sidecars = Sidecars(docs)
    inputs = input_hashes(docs)
    emb = Embedder(DEFAULT_EMBEDDER, embedder_model)
    chunks: dict[str, list[Chunk]] = {}
    raws: dict[str, bytes] = {}  # what was read is what is copied: a file edited meanwhile cannot differ
    texts: dict[str, str] = {}  # what "occurs in the indexed documents" is checked on: names, titles, text
    skipped: dict[str, str] = {}
    for path in walk(docs):
        rel = path.relative_to(docs).as_posix()
        try:
            check_file(path, docs)
            raw = path.read_bytes()
            meta = metadata(path, rel, raw, sidecars)
            src = load_file(path, rel, raw)
        except (ValueError, OSError) as e:
            skipped[rel] = str(e)
            warn(f"skipped {rel}: {e}")
            continue
        raws[rel] = raw
        texts[rel] = "\n".join(f"{rel}\n{d.source}\n{d.title}\n{d.text}" for d in src.documents)
        chunks[rel] = [c for d in src.documents for c in chunk_document(d, emb.tokenizer, PASSAGE_TOKENS, 0, meta)]
    chunks = {f: cs for f, cs in chunks.items() if cs}
    if not chunks:
        raise UserError(f"nothing readable in {docs} ({len(skipped)} file(s) skipped)")
    n_unans, t_unans = round(n * unanswerable), round(train * unanswerable)
    if n_unans and len(chunks) < 2:
        raise UserError(f"unanswerable items need at least two readable documents (one is set aside), {docs} has "
                        f"{len(chunks)}: add documents or pass --unanswerable 0", param="unanswerable")
    sizes = {f: sum(len(c.text) for c in cs) for f, cs in chunks.items()}
    aside = set(set_aside(sizes, min(unanswerable, MAX_ASIDE), rng)) if n_unans else set()
    share = train / (n + train)
    answerable = [c for f, cs in sorted(chunks.items()) if f not in aside for c in cs]
    ans_eval, ans_train = split_chunks(answerable, share, rng)
    aside_eval, aside_train = split_files(sorted(aside), share if t_unans else 0, rng)
    un_eval = [c for f in sorted(aside_eval) for c in chunks[f]]
    un_train = [c for f in sorted(aside_train) for c in chunks[f]]

    counts: dict[str, Any] = {"rejected": dict.fromkeys(FILTERS, 0), "surplus": 0, "files": {}}
    gen = (make_generator or default_make)(generator.model, generator.generation.batch_size)
    with atomic_dir(out, replace=overwrite) as tmp, tempfile.TemporaryDirectory() as scratch:
        copies = [(rel, raw) for rel, raw in raws.items() if rel not in aside]  # what is indexed, sidecars too
        copies += [(p.relative_to(docs).as_posix(), p.read_bytes()) for p in docs.rglob(METADATA_FILE)
                   if p.relative_to(docs).as_posix() in inputs]
        for rel, raw in copies:
            (tmp / "docs" / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / "docs" / rel).write_bytes(raw)
        build_index(tmp / "docs", Path(scratch) / "index", progress=False, embedder_model=emb.model, warn=warn)
        index = Index.load(Path(scratch) / "index")
        indexed = loose("\n".join(t for f, t in texts.items() if f not in aside))
        with Progress(TextColumn("synth {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      disable=not progress) as bar:
            s = Synthesizer(gen, generator.generation.batch_size, index, indexed, counts, bar)
            ev = s.fill(ans_eval, "eval", "answerable", n - n_unans, rng) + \
                s.fill(un_eval, "eval", "unanswerable", n_unans, rng)
            tr = s.fill(ans_train, "train", "answerable", train - t_unans, rng) + \
                s.fill(un_train, "train", "unanswerable", t_unans, rng)
        if not any(c.kind == "answerable" for c in ev):
            raise UserError(f"no answerable question survived the filters ({_rejections(counts)}): the generator "
                            f"'{generator.name}' may be too weak or not follow the format; try another "
                            "--generator", param="generator")
        suite = [_item(c, i, "s") for i, c in enumerate(ev, 1)]
        rows = [_item(c, i, "t") for i, c in enumerate(tr, 1)]
        write_suite(suite, tmp / "suite.jsonl")
        if rows:
            write_jsonl(tmp / "train.jsonl", [train_row(i, generator.generation.abstain_phrase) for i in rows])
            write_suite(rows, tmp / "train-suite.jsonl")
        stats = {
            "docs": str(docs), "generator": {"recipe": generator.name, "model": generator.model.model_dump(mode="json")},
            "seed": seed, "asked": {"n": n, "unanswerable": unanswerable, "train": train},
            "suite": {"items": len(suite), "answerable": sum(1 for i in suite if i.answers),
                      "unanswerable": sum(1 for i in suite if not i.answers),
                      "hard": sum(1 for i in suite if i.hard)},
            "train": {"rows": len(rows), "unanswerable": sum(1 for i in rows if not i.answers)},
            "generated": sum(f["generated"] for f in counts["files"].values()),
            "kept": len(suite) + len(rows), "rejected": counts["rejected"], "surplus": counts["surplus"],
            "files": dict(sorted(counts["files"].items())), "set_aside": sorted(aside),
            "set_aside_for_training": sorted(aside_train), "skipped": skipped,
            "passages": {"eval": len(ans_eval) + len(un_eval), "train": len(ans_train) + len(un_train)},
            "filters": {"retrieval_k": RETRIEVAL_K, "max_answer_words": MAX_ANSWER_WORDS,
                        "near_duplicate": NEAR_DUPLICATE, "passage_tokens": PASSAGE_TOKENS,
                        "max_file_share": MAX_FILE_SHARE, "passes": PASSES},
            "inputs": inputs, "versions": versions(), "seconds": round(time.perf_counter() - t0, 1),
        }
        write_json(tmp / "synth.json", stats)
    for split, kept, asked in (("suite", len(suite), n), ("training set", len(rows), train)):
        if kept < asked:
            warn(f"the {split} has {kept} of the {asked} items asked for: the documents ran out of passages whose "
                 f"questions pass the filters ({_rejections(counts)})")
    return Synthesis(suite, rows, stats)


def _rejections(counts: dict[str, Any]) -> str:
    gen = sum(f["generated"] for f in counts["files"].values())
    why = ", ".join(f"{k} {v}" for k, v in counts["rejected"].items() if v)
    return f"{gen} generated; rejected: {why or 'none'}"
