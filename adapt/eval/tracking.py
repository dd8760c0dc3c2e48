"""Optional MLflow logging of an evaluation (local ./mlruns store unless MLFLOW_TRACKING_URI is set)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from adapt.errors import UserError


def mlflow_defaults() -> None:
    """A local ./mlruns file store unless the user points MLFLOW_TRACKING_URI elsewhere (MLflow 3
    wants an explicit opt-in for file stores)."""
    if "MLFLOW_TRACKING_URI" not in os.environ:
        os.environ["MLFLOW_TRACKING_URI"] = f"file:{Path('mlruns').resolve()}"
    if os.environ["MLFLOW_TRACKING_URI"].startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def log_mlflow(summary: dict[str, Any], out: Path) -> None:
    try:
        import mlflow
    except ImportError:
        raise UserError("--track mlflow needs the track extra: pip install -e '.[track]'") from None
    mlflow_defaults()
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment("adapt-eval")
    for row in summary["recipes"]:
        with mlflow.start_run(run_name=row["recipe"]):
            mlflow.log_params({"recipe": row["recipe"], "rung": row["rung"], "suite": summary["suite"], "n": row["n"]})
            flat = {k: row[k] for k in ("correct_rate", "hallucination_rate", "abstain_rate") if row[k] is not None}
            flat.update({f"latency_{k}_ms": v for k, v in row["latency_ms"].items() if v is not None})
            if row["cost"]["usd_per_1k_queries"] is not None:
                flat["usd_per_1k_queries"] = row["cost"]["usd_per_1k_queries"]
            mlflow.log_metrics(flat)
            for name in ("report.md", "report.html", "summary.json"):
                if (out / name).is_file():
                    mlflow.log_artifact(str(out / name))
