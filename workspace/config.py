"""Settings for every part of nodefix, read from TOML files and overridden by CLI flags.

Files are read in this order, later ones winning key by key:

1. the user's file, ``$XDG_CONFIG_HOME/nodefix/config.toml``;
2. a project file, ``nodefix.toml`` in the dataset's folder;
3. a project file, ``nodefix.toml`` in the current folder.

Relative paths in a file are resolved against that file's folder.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_path

from workspace.errors import InputError
from workspace.sizes import parse_memory_limit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PROJECT_FILE = "nodefix.toml"
DEFAULT_GRADE_COMMAND = "python src/dojo/grade_code.py {code} {competition_id} {out}/results.jsonl"


@dataclass
class RunSettings:
    backend: str = "auto"  # auto | bubblewrap | local | apptainer
    python: str = ""  # interpreter inside the sandbox; "" = this Python (local, bubblewrap) or "python" (apptainer)
    image: str = ""  # apptainer image: a .sif file or a sandbox folder
    data_root: Path = field(default_factory=lambda: Path("~/.cache/mle-bench/data").expanduser())
    time_limit: float = 360.0  # seconds; a run that lasts this long without raising counts as valid
    memory_limit: str = "80%"  # bytes with a K/M/G suffix, or a share of this machine's memory
    max_processes: int = 512
    scratch_limit: str = "4G"  # disk the run's scratch folder may fill; also the largest single file
    gpu: bool = True  # pass the machine's GPUs through (bubblewrap: the device nodes; apptainer --nv)
    gpu_devices: str = "/dev/nvidia*"  # the device nodes to pass through (a glob)
    gpus_per_job: int = 0  # replicate --jobs N: GPUs each job gets, round robin; 0 = every job sees all
    threads: int = 0  # OMP/MKL/OpenBLAS/NumExpr threads per run; 0 = the CPUs the run may use; -1 = no budget
    env: dict[str, str] = field(default_factory=dict)  # variables set inside the sandbox; these win


@dataclass
class GradeSettings:
    command: str = DEFAULT_GRADE_COMMAND
    checkout: Path | None = None  # the client's aira-dojo checkout, the grade command's working folder


@dataclass
class TraceSettings:
    tracer: str = "builtin"  # builtin | client
    client_path: Path | None = None  # folder with main.py, requirements.txt, code_to_trace.py
    client_python: str = ""  # the client tool's own interpreter; "" = the run's python
    max_frames: int = 20_000  # 0 = no cap
    max_bytes: int = 20_000_000  # 0 = no cap
    max_seconds: float = 60.0  # 0 = no cap
    max_value_chars: int = 200  # 0 = no cap


@dataclass
class UISettings:
    theme: str = "dark"
    annotator: str = field(default_factory=lambda: default_annotator())
    mlebench_checkout: Path | None = None  # for competitions' description.md
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys, as App.set_keymap takes


@dataclass
class ClusterSettings:
    executor: str = "local"  # local | slurm
    partition: str = ""  # "" = the cluster's default partition
    gres: str = ""  # e.g. "gpu:1"
    time_limit: float = 0.0  # Slurm wall time per job in seconds; 0 = the run's time limit plus a margin
    shared_folder: Path | None = None  # seen by the host and every node; None = "cluster" in the workspace
    data_root: Path | None = None  # the competitions' data on the nodes; None = run.data_root
    max_jobs: int = 1000  # array tasks in the queue at once (Slurm's MaxArraySize caps one array)
    retries: int = 1  # resubmissions of a job that ended without a result
    cpus_per_task: int = 1


@dataclass
class Config:
    run: RunSettings = field(default_factory=RunSettings)
    grade: GradeSettings = field(default_factory=GradeSettings)
    trace: TraceSettings = field(default_factory=TraceSettings)
    ui: UISettings = field(default_factory=UISettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    sources: list[Path] = field(default_factory=list)  # the files that were read, in order

    def with_overrides(self, **sections: dict[str, Any]) -> Config:
        """A copy with some keys replaced, e.g. ``with_overrides(run={"time_limit": 5})``.

        ``None`` values are skipped, so CLI flags that were not given change nothing.
        """
        new = dataclasses.replace(self)
        for name, values in sections.items():
            section = getattr(new, name)
            changes = {k: v for k, v in values.items() if v is not None}
            setattr(new, name, _coerce_section(name, section, changes, source="command line", base=Path.cwd()))
        return new


def user_config_file() -> Path:
    return user_config_path("nodefix") / "config.toml"


def load_config(dataset: Path | None = None, cwd: Path | None = None) -> Config:
    """The merged configuration for work on ``dataset`` (or on no dataset)."""
    candidates = [user_config_file()]
    if dataset is not None:
        candidates.append(Path(dataset).expanduser().resolve().parent / PROJECT_FILE)
    candidates.append((cwd or Path.cwd()).resolve() / PROJECT_FILE)
    config = Config()
    seen: set[Path] = set()
    for path in candidates:
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        _merge_file(config, path)
        config.sources.append(path)
    return config


def _merge_file(config: Config, path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a readable TOML file ({exc})") from None
    for name, values in data.items():
        section = getattr(config, name, None)
        if not dataclasses.is_dataclass(section) or not isinstance(values, dict):
            raise InputError(f"{path}: unknown section [{name}]")
        setattr(config, name, _coerce_section(name, section, values, source=str(path), base=path.parent))


def _coerce_section(name: str, section: Any, values: dict[str, Any], *, source: str, base: Path) -> Any:
    """``section`` (the ``[name]`` table) with ``values`` read into it; every message names ``name.key``."""
    fields = {f.name: f for f in dataclasses.fields(section)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise InputError(f"{source}: unknown setting {key!r} in [{name}]")
        current = getattr(section, key)
        if (name, key, value) == ("ui", "annotator", ""):
            value = default_annotator()  # as documented: "" = $NODEFIX_ANNOTATOR or $USER
        changes[key] = _coerce_value(f"{name}.{key}", value, current, fields[key].type, source, base)
        _check_range(f"{name}.{key}", changes[key], source)
    return dataclasses.replace(section, **changes)


_MIN_MEMORY = 64 * 1024**2  # less and not even the interpreter starts
_MIN_SCRATCH = 16 * 1024**2
_INTERPRETERS = ("python", "client_python")  # a relative path with a "/" is relative to the file, like paths
_FOLDERS = ("data_root", "checkout", "client_path", "mlebench_checkout")


def _check_range(name: str, value: Any, source: str) -> None:
    """One line naming the key (``section.key``) and where it came from when ``value`` cannot work."""
    key = name.rpartition(".")[2]
    problem = None
    if name == "cluster.time_limit":  # 0: the run's time limit plus the executor's margin
        if not (math.isfinite(value) and value >= 0):
            problem = "must be 0 (the run's time limit plus 5 minutes) or a finite number of seconds above 0"
    elif key == "time_limit" and not (math.isfinite(value) and value > 0):
        problem = "must be a finite number of seconds above 0"
    elif key == "max_processes" and value <= 0:
        problem = "must be at least 1"
    elif key == "gpus_per_job" and value < 0:
        problem = "must be 0 (every job sees all GPUs) or more"
    elif key == "threads" and value < -1:
        problem = "must be -1 (no budget), 0 (automatic) or more"
    elif key in ("max_frames", "max_bytes", "max_value_chars", "max_seconds") and not (
        math.isfinite(value) and value >= 0
    ):
        problem = "must be 0 (no cap) or a finite number above 0"
    elif key in ("memory_limit", "scratch_limit"):
        least = _MIN_MEMORY if key == "memory_limit" else _MIN_SCRATCH
        if parse_memory_limit(value, f"{source}: {name}") < least:
            problem = f"must be at least {least // 1024**2} MiB"
    elif key in _FOLDERS and value is not None and value.exists() and not value.is_dir():
        problem = "must be a folder"
    elif key == "env":
        bad = next((variable for variable in value if not variable or "=" in variable or "\0" in variable), None)
        if bad is not None:
            raise InputError(f"{source}: {name}: {bad!r} is not a variable name")
    if problem:
        raise InputError(f"{source}: {name} {problem}, not {value!r}")


def _coerce_value(name: str, value: Any, current: Any, annotation: object, source: str, base: Path) -> Any:
    key = name.rpartition(".")[2]
    if "Path" in str(annotation):
        if value in ("", None):
            return None
        path = Path(str(value)).expanduser()
        return path if path.is_absolute() else (base / path).resolve()
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise InputError(f"{source}: {name} must be true or false, not {value!r}")
        return value
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{source}: {name} must be a number, not {value!r}")
        if isinstance(current, int) and value != int(value):
            raise InputError(f"{source}: {name} must be a whole number, not {value!r}")
        return type(current)(value)
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise InputError(f"{source}: [{name}] must be a table")
        if any(isinstance(v, (dict, list)) for v in value.values()):
            raise InputError(f"{source}: [{name}] values must be strings or numbers")
        return {**current, **{str(k): _scalar_text(v) for k, v in value.items()}}
    if not isinstance(value, str):
        raise InputError(f"{source}: {name} must be a string, not {value!r}")
    if key in _INTERPRETERS and "/" in value and not os.path.isabs(value):
        # normpath, not resolve: a venv's python is a symlink whose own path makes it the venv's
        return os.path.normpath(base / value)
    return value


def _scalar_text(value: Any) -> str:
    """A TOML scalar as an environment variable writes it (``true`` -> ``"1"``, ``4`` -> ``"4"``)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def default_annotator() -> str:
    return os.environ.get("NODEFIX_ANNOTATOR") or os.environ.get("USER") or "annotator"
