"""Optional MLflow logging of an evaluation (local ./mlruns store unless MLFLOW_TRACKING_URI is set)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from adapt.errors import UserError
from adapt.eval import registry
from adapt.eval.records import SummaryRow, rows_of
from adapt.tracking import mlflow_defaults


def metrics_of(row: SummaryRow) -> dict[str, float]:
    """The registry's metrics of one summary row, flat, with interval bounds as KEY_lo / KEY_hi (no KEY_hi
    for an interval unbounded above)."""
    flat = {}
    for m in registry.METRICS:
        v = registry.get(row, m.key)
        if isinstance(v, (int, float)):
            flat[m.key] = float(v)
            iv = row.intervals.get(m.key)
            if iv:
                flat[f"{m.key}_lo"] = float(iv[0])
                if iv[1] is not None:
                    flat[f"{m.key}_hi"] = float(iv[1])
    return flat


def log_mlflow(summary: dict[str, Any], out: Path) -> None:
    try:
        import mlflow
    except ImportError:
        raise UserError("mlflow needs the track extra: pip install -e '.[track]'", param="track") from None
    mlflow_defaults()
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment("adapt-eval")
    for row in rows_of(summary):
        with mlflow.start_run(run_name=row.recipe):
            mlflow.log_params({"recipe": row.recipe, "rung": row.rung, "suite": summary["suite"], "n": row.n})
            mlflow.log_metrics(metrics_of(row))
            for name in ("report.md", "report.html", "summary.json"):
                if (out / name).is_file():
                    mlflow.log_artifact(str(out / name))
