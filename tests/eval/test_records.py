import json

from adapt.eval import registry
from adapt.eval.records import ItemRecord, SummaryRow, Timing, rows_of
from adapt.eval.summary import summary_row

from .builders import record, timing

# an items.jsonl line of a retrieving rung graded by a judge, as adapt eval has always written it
RUN_LINE = {"recipe": "rag-local", "rung": "rag", "id": "q1", "question": "Who?", "gold": ["Ana"], "answer": "Ana",
            "grade": "correct", "reason": "states a gold answer", "em": 1.0, "f1": 1.0, "input_tokens": 120,
            "output_tokens": 3, "usage_estimated": False, "wall_ms": 12.5, "sources": ["a.md#0", "b.md#2"],
            "citations": ["a.md › Intro", "b.pdf p. 2"], "gold_source": "a.md", "retrieval_rank": None, "judge_raw": "A", "lexical_grade": "incorrect"}


def test_an_item_record_reads_and_writes_the_same_line():
    rec = ItemRecord.from_dict(RUN_LINE)
    assert rec.ranked and rec.retrieval_rank is None  # retrieved, but the gold source was missed
    assert rec.to_dict() == RUN_LINE and list(rec.to_dict()) == list(RUN_LINE)
    plain = {k: v for k, v in RUN_LINE.items() if k not in ("retrieval_rank", "judge_raw", "lexical_grade")}
    back = ItemRecord.from_dict(plain)
    assert not back.ranked and back.lexical_grade is None and back.to_dict() == plain


def test_an_answer_graded_without_a_run_writes_no_run_measurements():
    rec = record(id="q2", gold=[], answer="", grade="abstained", gold_source=None)
    assert set(rec.to_dict()) == {"recipe", "rung", "id", "question", "gold", "answer", "grade", "reason", "em",
                                  "f1", "sources", "citations", "gold_source"}
    assert ItemRecord.from_dict(rec.to_dict()) == rec


def test_a_timing_reads_and_writes_the_same_line():
    line = {"recipe": "p", "id": "q1", "latency_ms": 10.5, "ttft_ms": 4.0, "retrieval_ms": None}
    assert Timing.from_dict(line).to_dict() == line


def test_a_summary_row_survives_json_and_nests_dotted_metric_keys():
    recs = [record(id=f"q{i}", grade="correct" if i % 2 else "incorrect", em=1.0, f1=1.0, wall_ms=10.0,
                   output_tokens=2, input_tokens=5, usage_estimated=False) for i in range(8)]
    row = summary_row("p", "prompt", recs, [timing(5.0 + i, id=f"q{i}") for i in range(8)], 0.1, 0.0, 4)
    d = row.to_dict()
    assert list(d)[:6] == ["recipe", "rung", "n", "n_answerable", "n_unanswerable", registry.METRICS[0].key]
    assert d["latency_ms"]["p50"] == registry.get(row, "latency_ms.p50") and "latency_ms.p50" not in d
    assert d["squad"] == row.squad and d["timed"] == {"n": 8, "concurrency": 1, "batch_size": 4}
    assert "one_off_s" not in d and "price_basis" not in d  # set only for recipes that ran (summarize)
    assert SummaryRow.from_dict(json.loads(json.dumps(d))) == row
    row.one_off_s, row.price_basis = 1.5, None
    assert rows_of({"recipes": [json.loads(json.dumps(row.to_dict()))]}) == [row]
