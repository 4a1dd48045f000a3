"""What a run is asked to do and what it gave back: the types every backend and caller share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from workspace.config import RunSettings
from workspace.records import Verdict

SCRIPT_NAME = "runfile.py"  # the name AIDE gives the script, so tracebacks read like the recorded ones
LOG_NAME = "output.log"
SUBMISSION_NAME = "submission.csv"


@dataclass
class RunSpec:
    """One run of one script in a sandbox.

    The script is written to ``run_dir/scratch/runfile.py``; ``scratch`` is the
    script's working folder and the only writable place, with the competition's
    prepared data visible read-only at ``./data``.
    """

    code: str
    competition_id: str
    settings: RunSettings
    run_dir: Path
    python_args: list[str] | None = None  # the sandbox interpreter's arguments; default: ["runfile.py"]
    extra_files: dict[str, bytes] = field(default_factory=dict)  # name -> content, put in scratch beside the script
    read_only_binds: dict[str, Path] = field(default_factory=dict)  # name in scratch -> host folder shown read-only
    env: dict[str, str] = field(default_factory=dict)
    keep_files: tuple[str, ...] = ()  # names in scratch kept after the run besides the script and submission
    cpus: tuple[int, ...] | None = None  # the CPUs the run is pinned to; None: all this process may use
    gpus: tuple[int, ...] | None = None  # CUDA_VISIBLE_DEVICES; None: every GPU passed through

    @property
    def scratch(self) -> Path:
        return self.run_dir / "scratch"

    @property
    def log_path(self) -> Path:
        return self.run_dir / LOG_NAME


VERDICT_KINDS = ("error", "clean", "no_submission", "time_limit", "killed", "environment", "cancelled")


@dataclass
class RunResult:
    spec_backend: str  # the backend that ran it
    command: list[str]  # the full host command line that was started
    run_dir: Path
    started_at: float  # epoch seconds
    duration: float  # seconds
    exit_code: int | None  # None when ended by a signal
    signal: int | None
    timed_out: bool
    cancelled: bool
    submission_written: bool
    output_tail: str  # the last 64 KiB of output, decoded
    verdict: Verdict
    notes: list[str] = field(default_factory=list)  # caps that could not be applied, files refused, output cut
    code_sha256: str = ""  # of the code as nodefix wrote it, hashed on the host before the run
    resources: dict = field(default_factory=dict)  # wall and CPU seconds, the machine's load, CPUs and threads
    output_as_recorded: str = ""  # output_tail in the form of the row's recorded _term_out (runner.recorded_form)

    @property
    def log_path(self) -> Path:
        return self.run_dir / LOG_NAME

    def to_record(self) -> dict:
        """A JSON-able dict, the form the workspace stores."""
        record = asdict(self)
        record["run_dir"] = str(self.run_dir)
        record["log_path"] = str(self.log_path)
        return record
