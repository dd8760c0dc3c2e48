import pytest

from adapt.eval.tracking import log_mlflow


def test_mlflow_logs_each_recipe_with_metrics_and_report(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    (tmp_path / "report.md").write_text("# report")
    summary = {"suite": "s.jsonl", "recipes": [
        {"recipe": "rag-local", "rung": "rag", "n": 3, "correct_rate": 0.5, "hallucination_rate": 0.25,
         "abstain_rate": 0.25, "latency_ms": {"p50": 10.0, "p95": 20.0}, "cost": {"usd_per_1k_queries": 0.01}}]}
    log_mlflow(summary, tmp_path)
    runs = mlflow.search_runs(experiment_names=["adapt-eval"])
    assert len(runs) == 1 and runs["metrics.correct_rate"][0] == 0.5 and runs["params.recipe"][0] == "rag-local"
