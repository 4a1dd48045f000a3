"""Runs as Slurm jobs through submitit: one array task per row, results as files on a shared folder.

The host submits an array of at most ``cluster.max_jobs`` rows (``jobs`` of
them running at once: submitit's ``array_parallelism``), each task runs
:func:`run_on_node`, the same sandboxed ``execute`` as a local run, with the
node's data root, and writes the run's facts as JSON on the shared folder.
The host polls for those files, reads them as untrusted input, classifies the
run itself (so the verdict is the host's, as for a local run) and yields it. A
task that leaves Slurm's queue without a result (scancelled, node lost,
nodefix failed on the node) is reported and resubmitted up to
``cluster.retries`` times. Setting ``stop`` scancels the arrays through
submitit; either way the batch ends once the queue holds none of its tasks.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import islice
from pathlib import Path

from runner.bookkeeping import PreparedRun
from runner.execute import execute
from runner.recorded_form import output_as_recorded
from runner.spec import RunResult, RunSpec
from runner.untrusted import Refused, read_untrusted
from runner.verdict import classify
from workspace.config import ClusterSettings, RunSettings
from workspace.errors import InputError
from workspace.locate import safe_name
from workspace.run_rules import code_sha256

POLL_SECONDS = 1.0
RESULT_MAX_BYTES = 1_000_000  # the output tail is 64 KiB; anything much larger is not ours
_OUTPUT_TAIL_CHARS = 64 * 1024  # what a local run keeps
_WALL_MARGIN_SECONDS = 300  # Slurm time on top of the run's own limit: sandbox start, data, the result file
_GONE_WAIT_SECONDS = 60.0  # for the batch's tasks to leave the queue after the last result or a scancel
_SANDBOX_FAILED = "the sandbox failed: "


class SlurmError(InputError):
    """Slurm refused a submission (a bad partition, gres or time) or cannot be asked: one line, exit 2."""


class SlurmExecutor:
    name = "slurm"

    def __init__(
        self, cluster: ClusterSettings, jobs: int, shared_folder: Path, notice: Callable[[str], None] | None = None
    ) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.cluster = cluster
        self.jobs = jobs
        self.shared = shared_folder
        self._notice = notice or (lambda _: None)
        self.batch = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        self.job_name = f"nodefix-{self.batch}"

    def run(
        self, runs: Iterable[PreparedRun], stop: threading.Event
    ) -> Generator[tuple[PreparedRun, RunResult], None, None]:
        fresh = iter(runs)
        pending: deque[PreparedRun] = deque()  # runs to submit again: their job ended without a result
        attempts: dict[str, int] = {}
        active: dict[str, _Submitted] = {}  # Slurm job id ("123_4") -> what it runs
        arrays: set[str] = set()  # the array job ids, what a cancel scancels
        executor = None
        try:
            while not stop.is_set():
                if not active:
                    chunk = [pending.popleft() for _ in range(min(len(pending), self.cluster.max_jobs))]
                    chunk += islice(fresh, self.cluster.max_jobs - len(chunk))
                    if not chunk:
                        break
                    executor = executor or self._submitit_executor(chunk[0].spec.settings)
                    for submitted in self._submit(executor, chunk, attempts):
                        active[submitted.job_id] = submitted
                        arrays.add(submitted.job_id.split("_")[0])
                yield from self._collect(active, pending, attempts, stop)
        except BaseException:
            stop.set()
            raise
        finally:
            if stop.is_set() and active and executor is not None:
                self._cancel(executor, sorted(arrays))
            self._wait_until_gone()  # the last tasks finish writing submitit's own files; none is left behind

    # ---- submitting

    def _submitit_executor(self, settings: RunSettings):
        import submitit

        wall = self.cluster.time_limit or settings.time_limit + _WALL_MARGIN_SECONDS
        executor = submitit.SlurmExecutor(folder=self.shared / "submitit" / "%j")
        parameters = {
            "job_name": self.job_name,
            "time": max(1, math.ceil(wall / 60)),
            "array_parallelism": self.jobs,
            "cpus_per_task": self.cluster.cpus_per_task,
            "ntasks_per_node": 1,
            "use_srun": False,  # one task per job: the batch step runs it, a job step more only costs time
        }
        if self.cluster.partition:
            parameters["partition"] = self.cluster.partition
        if self.cluster.gres:
            parameters["gres"] = self.cluster.gres
        executor.update_parameters(**parameters)
        return executor

    def _submit(self, executor, chunk: list[PreparedRun], attempts: dict[str, int]) -> list[_Submitted]:
        submitted = []
        for run in chunk:
            shutil.rmtree(
                run.spec.run_dir, ignore_errors=True
            )  # the workspace's empty folder: it runs on the shared one
            attempt = attempts[run.row_id] = attempts.get(run.row_id, 0) + 1
            name = f"{safe_name(run.row_id)}-{attempt}"
            run_dir = self.shared / "runs" / self.batch / name
            run_dir.mkdir(parents=True, exist_ok=False)
            result_path = self.shared / "results" / self.batch / f"{name}.json"
            result_path.parent.mkdir(parents=True, exist_ok=True)
            submitted.append(_Submitted("", run, run_dir, result_path))
        payloads = [
            {
                "code": s.run.spec.code,
                "competition_id": s.run.spec.competition_id,
                "settings": self._node_settings(s.run.spec.settings),
                "run_dir": str(s.run_dir),
                "result_path": str(s.result_path),
                "recorded_output": s.run.recorded_output,
            }
            for s in submitted
        ]
        try:
            jobs = executor.map_array(run_on_node, payloads)
        except Exception as exc:  # submitit wraps sbatch's complaint in its own exception types
            raise SlurmError(f"sbatch refused the batch: {str(exc).strip().splitlines()[-1]}") from None
        for s, job in zip(submitted, jobs, strict=True):
            s.job_id = job.job_id
        return submitted

    def _node_settings(self, settings: RunSettings) -> RunSettings:
        return dataclasses.replace(settings, data_root=self.cluster.data_root or settings.data_root)

    # ---- collecting

    def _collect(
        self,
        active: dict[str, _Submitted],
        pending: deque[PreparedRun],
        attempts: dict[str, int],
        stop: threading.Event,
    ) -> Iterator[tuple[PreparedRun, RunResult]]:
        """Yield the runs whose result files appeared; requeue tasks that left Slurm without one."""
        expected = {s.result_path.name for s in active.values()}
        deadline = time.monotonic() + POLL_SECONDS
        while not stop.is_set() and time.monotonic() < deadline and not self._result_names() & expected:
            stop.wait(0.2)
        queued = self.queued_job_ids()
        arrived = self._result_names()  # after squeue: a task gone from the queue wrote its file before it left
        for job_id, submitted in list(active.items()):
            if submitted.result_path.name in arrived or job_id not in queued:
                del active[job_id]
                result = self._import(submitted)
                if result is not None:
                    yield submitted.run, result
                    continue
                self._lost(submitted, pending, attempts)

    def _result_names(self) -> set[str]:
        """The result files in this batch's folder: one listing, however many tasks are out."""
        try:
            return set(os.listdir(self.shared / "results" / self.batch))
        except FileNotFoundError:
            return set()

    def _import(self, submitted: _Submitted) -> RunResult | None:
        if not os.path.lexists(submitted.result_path):
            return None
        try:
            facts = read_untrusted_json(submitted.result_path, RESULT_MAX_BYTES)
            return result_from_node(facts, submitted.run, submitted.run_dir)
        except ValueError as exc:
            self._notice(f"{submitted.run.row_id}: job {submitted.job_id}: {exc}")
            return None

    def _lost(self, submitted: _Submitted, pending: deque[PreparedRun], attempts: dict[str, int]) -> None:
        row_id = submitted.run.row_id
        log = self.shared / "submitit" / submitted.job_id.split("_")[0]
        if attempts[row_id] <= self.cluster.retries:
            self._notice(f"{row_id}: job {submitted.job_id} ended without a result (log: {log}); resubmitted")
            pending.appendleft(submitted.run)
        else:
            self._notice(
                f"{row_id}: job {submitted.job_id} ended without a result (log: {log}); "
                f"not retried after {attempts[row_id]} attempts, a rerun tries it again"
            )
        shutil.rmtree(submitted.run_dir, ignore_errors=True)

    def queued_job_ids(self) -> set[str]:
        """This batch's array tasks still in Slurm's queue (pending, running or completing)."""
        try:
            out = subprocess.run(
                ["squeue", "--noheader", "--array", "--name", self.job_name, "--format", "%i"],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise SlurmError(f"squeue failed: {exc}") from None
        return {line.strip() for line in out.splitlines() if line.strip()}

    # ---- cancelling

    def _cancel(self, executor, arrays: list[str]) -> None:
        import submitit

        for array_id in arrays:
            submitit.SlurmJob(folder=executor.folder, job_id=array_id).cancel(check=False)

    def _wait_until_gone(self) -> None:
        deadline = time.monotonic() + _GONE_WAIT_SECONDS
        while self.queued_job_ids() and time.monotonic() < deadline:
            time.sleep(0.2)


@dataclasses.dataclass
class _Submitted:
    job_id: str
    run: PreparedRun
    run_dir: Path
    result_path: Path


# ---- the node side


def run_on_node(payload: dict) -> None:
    """Run one row in the node's sandbox and write what happened to ``payload["result_path"]``.

    Slurm's SIGTERM (scancel, the time limit) cancels the run; a cancelled run writes nothing.
    """
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    spec = RunSpec(payload["code"], payload["competition_id"], payload["settings"], Path(payload["run_dir"]))
    result = execute(spec, cancel=cancel, recorded_output=payload["recorded_output"])
    if result.cancelled:
        return
    environment = result.verdict.detail.removeprefix(_SANDBOX_FAILED) if result.verdict.kind == "environment" else None
    facts = {
        "backend": result.spec_backend,
        "command": result.command,
        "started_at": result.started_at,
        "duration": result.duration,
        "exit_code": result.exit_code,
        "signal": result.signal,
        "timed_out": result.timed_out,
        "submission_written": result.submission_written,
        "output_tail": result.output_tail,
        "environment_error": environment,
        "node": os.uname().nodename,
    }
    path = Path(payload["result_path"])
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(facts), encoding="utf-8")
    os.replace(partial, path)  # the host never sees half a file


# ---- the host reading what came back


def read_untrusted_json(path: Path, max_bytes: int) -> dict:
    """A JSON object from a file a node wrote, read as anything a sandbox wrote is (``runner.untrusted``).

    Raises ``ValueError`` naming what is wrong.
    """
    try:
        data = read_untrusted(path, max_bytes)
    except FileNotFoundError:
        raise ValueError(f"{path}: the result file is gone") from None
    except Refused as exc:
        raise ValueError(str(exc)) from None
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: the result file is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: the result file is not a JSON object")
    return value


_FACT_TYPES: dict[str, tuple[type, ...]] = {
    "backend": (str,),
    "command": (list,),
    "started_at": (int, float),
    "duration": (int, float),
    "exit_code": (int, type(None)),
    "signal": (int, type(None)),
    "timed_out": (bool,),
    "submission_written": (bool,),
    "output_tail": (str,),
    "environment_error": (str, type(None)),
}


def result_from_node(facts: dict, run: PreparedRun, run_dir: Path) -> RunResult:
    """The run a node reported, checked field by field and classified here, as a local run is."""
    for key, kinds in _FACT_TYPES.items():
        value = facts.get(key)
        # bool is an int in Python: a flag where a number belongs (or the reverse) is refused too
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ValueError(f"result field {key!r} is missing or not {' or '.join(k.__name__ for k in kinds)}")
    if not all(isinstance(word, str) for word in facts["command"]):
        raise ValueError("result field 'command' is not a list of strings")
    output_tail = facts["output_tail"][-_OUTPUT_TAIL_CHARS:]
    verdict = classify(
        exit_code=facts["exit_code"],
        signal=facts["signal"],
        timed_out=facts["timed_out"],
        cancelled=False,
        submission_written=facts["submission_written"],
        output=output_tail,
        code=run.spec.code,
        environment_error=facts["environment_error"],
        recorded_output=run.recorded_output,
    )
    return RunResult(
        spec_backend=f"slurm:{facts['backend']}",
        command=facts["command"],
        run_dir=run_dir,
        started_at=float(facts["started_at"]),
        duration=float(facts["duration"]),
        exit_code=facts["exit_code"],
        signal=facts["signal"],
        timed_out=facts["timed_out"],
        cancelled=False,
        submission_written=facts["submission_written"],
        output_tail=output_tail,
        verdict=verdict,
        code_sha256=code_sha256(run.spec.code),  # the code this host sent, hashed here
        output_as_recorded=output_as_recorded(
            output_tail,
            run.recorded_form,
            seconds=float(facts["duration"]),
            time_limit=run.spec.settings.time_limit,
            timed_out=facts["timed_out"],
        ),
    )


def slurm_finding(cluster: ClusterSettings):
    """Doctor's line on the Slurm executor: reachable or not, its partitions, the shared folder."""
    from runner.doctor import Finding

    used = cluster.executor == "slurm"
    if shutil.which("sinfo") is None:
        return Finding("slurm", not used, "sinfo not found: Slurm is not installed or not on PATH")
    try:
        out = subprocess.run(
            ["sinfo", "--noheader", "--format", "%P %a %D %T"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return Finding("slurm", not used, f"sinfo failed: {exc}")
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no message"])[-1]
        return Finding("slurm", not used, f"controller not reachable: {last}")
    names = sorted({line.split()[0] for line in out.stdout.splitlines() if line.strip()})
    partitions = [f"{name[:-1]} (default)" if name.endswith("*") else name for name in names]
    shared = cluster.shared_folder
    where = f"shared folder {shared}" if shared else "shared folder: the workspace's cluster/ folder"
    problem = None
    if shared is not None and shared.exists() and not (shared.is_dir() and os.access(shared, os.W_OK)):
        problem = f"shared folder {shared} is not a writable folder"
    elif shared is not None and not shared.exists():
        where += " (created by the first batch)"
    state = "used" if used else "not used (cluster.executor = local)"
    text = f"reachable, {state}; partitions: {', '.join(partitions) or 'none'}; {problem or where}"
    return Finding("slurm", problem is None or not used, text)


def shared_folder(cluster: ClusterSettings, workspace: Path) -> Path:
    """The folder host and nodes share for this workspace's jobs, created if missing."""
    folder = cluster.shared_folder or workspace / "cluster"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cluster.shared_folder: cannot create {folder} ({exc.strerror})") from None
    return folder
