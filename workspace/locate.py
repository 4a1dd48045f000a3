"""Where a dataset's workspace folder lives by default."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from platformdirs import user_data_path

DB_NAME = "nodefix.db"


def default_workspace_dir(dataset_path: Path) -> Path:
    """``<dataset dir>/<stem>.nodefix/``, or a folder under the user's data dir if that one is read-only."""
    beside = dataset_path.parent / f"{dataset_path.stem}.nodefix"
    if beside.is_dir() or os.access(dataset_path.parent, os.W_OK):
        return beside
    tag = hashlib.sha256(str(dataset_path).encode()).hexdigest()[:8]
    return user_data_path("nodefix") / "workspaces" / f"{dataset_path.stem}-{tag}"


def safe_name(text: str) -> str:
    """A file-name-safe, still readable form of a row id; a hash keeps altered names unique."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:80]
    if clean == text and clean.strip("."):
        return clean
    return f"{clean}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
