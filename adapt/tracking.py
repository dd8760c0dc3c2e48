"""Where MLflow writes, shared by training (the Trainer's MLflow callback) and evaluation."""

from __future__ import annotations

import os
from pathlib import Path


def mlflow_defaults() -> None:
    """A local ./mlruns file store unless the user points MLFLOW_TRACKING_URI elsewhere (MLflow 3
    wants an explicit opt-in for file stores)."""
    if "MLFLOW_TRACKING_URI" not in os.environ:
        os.environ["MLFLOW_TRACKING_URI"] = f"file:{Path('mlruns').resolve()}"
    if os.environ["MLFLOW_TRACKING_URI"].startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
