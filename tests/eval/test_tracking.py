import pytest

from adapt.eval.records import SummaryRow
from adapt.eval.tracking import log_mlflow, metrics_of


def _row() -> SummaryRow:
    return SummaryRow(recipe="rag-local", rung="rag", n=3, n_answerable=3, n_unanswerable=0,
                      values={"correct_rate": 0.5, "hallucination_rate": 0.25, "abstain_rate": 0.25,
                              "latency_ms.p50": 10.0, "latency_ms.p95": 20.0, "cost.usd_per_1k_queries": 0.01},
                      intervals={"correct_rate": (0.1, 0.9), "latency_ms.p95": (15.0, None)})


def test_metrics_are_flat_with_interval_bounds_and_no_bound_for_an_unbounded_one():
    flat = metrics_of(_row())
    assert flat["correct_rate"] == 0.5 and (flat["correct_rate_lo"], flat["correct_rate_hi"]) == (0.1, 0.9)
    assert flat["latency_ms.p95_lo"] == 15.0 and "latency_ms.p95_hi" not in flat  # 3 requests cannot bound a p95
    assert "retrieval.mrr" not in flat  # not measured, not logged as zero


def test_mlflow_logs_each_recipe_with_metrics_and_report(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    (tmp_path / "report.md").write_text("# report")
    summary = {"suite": "s.jsonl", "recipes": [_row().to_dict()]}
    log_mlflow(summary, tmp_path)
    runs = mlflow.search_runs(experiment_names=["adapt-eval"])
    assert len(runs) == 1 and runs["metrics.correct_rate"][0] == 0.5 and runs["params.recipe"][0] == "rag-local"
