"""Run one script in a sandbox, stream its output, end it on time, and classify how it ended.

Shared by every backend: the backend only builds the command line. Here the
command starts on a pty (so tqdm bars, partial lines and carriage returns
come out as in a terminal), every byte goes to ``run_dir/output.log``, a timer
ends the whole process tree at the time limit, and the ``watchdog`` library
reports ``submission.csv`` as it appears.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pexpect

from runner.backends import Backend, data_dir, get_backend
from runner.cgroups import RunCgroups
from runner.limits import ChildSetup, cgroup_limit
from runner.output_capture import OutputCapture
from runner.process_tree import GRACE_SECONDS, ProcessTree
from runner.recorded_form import output_as_recorded
from runner.resources import CpuMeter, machine_load, starved_note, usage_record
from runner.run_env import pinned, thread_budget, usable_cpus
from runner.sandbox_user import drops_privileges
from runner.scratch import ScratchCap, trim_scratch
from runner.spec import SCRIPT_NAME, SUBMISSION_NAME, RunResult, RunSpec
from runner.submission_watch import SubmissionWatch
from runner.untrusted import is_regular_file
from runner.verdict import classify
from workspace.competition import competition_problem
from workspace.done_check import code_sha256
from workspace.sizes import parse_memory_limit

TERMINAL_SIZE = (50, 200)  # rows, columns: wide enough that progress bars keep to one line
_READ_SIZE = 64 * 1024
_READ_TIMEOUT = 0.05
_SWEEP_EVERY = 1.0  # seconds between looks for orphaned processes
_DRAIN_SECONDS = 1.0  # after SIGKILL, how long to wait for the pty to close


def execute(
    spec: RunSpec,
    *,
    on_output: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    on_submission: Callable[[Path], None] | None = None,
    recorded_output: str | None = None,
    recorded_form: str | None = None,
) -> RunResult:
    """Run ``spec`` to its end (blocking; call it from a thread).

    ``on_output`` first gets nodefix's own notice lines (each starting with
    ``nodefix:``), then the script's output as it comes, decoded. The log file
    holds the script's output only. Never raises for anything the script does.
    ``recorded_output`` is what the verdict's match compares with;
    ``recorded_form`` (default: ``recorded_output``) the recorded output whose
    form ``output_as_recorded`` takes.
    """
    form = recorded_form if recorded_form is not None else recorded_output
    backend = get_backend(spec.settings)
    started_at = time.time()
    load_start = machine_load()
    _write_scratch(spec)
    problem = _environment_problem(spec, backend)
    if problem is not None:
        _notify(on_output, [f"nodefix: cannot run: {problem}"])
        spec.log_path.write_bytes(b"")
        return _result(spec, backend, [], (started_at, load_start), _Outcome(), (recorded_output, form), problem)
    backend.prepare(spec)
    command = backend.command(spec)
    run = _Run(spec, backend, command, on_output, cancel or threading.Event(), on_submission)
    outcome = run.start_and_wait()
    outcome.submission = submission_state(spec.scratch)
    outcome.limit_notes += trim_scratch(spec)
    recorded = (recorded_output, form)
    return _result(spec, backend, command, (started_at, load_start), outcome, recorded, outcome.start_error)


class _Outcome:
    """What the run loop learned; filled in as it goes."""

    def __init__(self) -> None:
        self.exit_code: int | None = None
        self.signal: int | None = None
        self.timed_out = False
        self.cancelled = False
        self.output_tail = ""
        self.start_error: str | None = None
        self.submission: tuple[bool, str | None] = (False, None)  # (written cleanly, why refused)
        self.out_of_memory = False
        self.scratch_full = False
        self.limit_notes: list[str] = []  # caps that could not be applied here, for the run record
        self.cpu_seconds = 0.0


class _Run:
    def __init__(
        self,
        spec: RunSpec,
        backend: Backend,
        command: list[str],
        on_output: Callable[[str], None] | None,
        cancel: threading.Event,
        on_submission: Callable[[Path], None] | None,
    ) -> None:
        self.spec = spec
        self.backend = backend
        self.command = command
        self.on_output = on_output
        self.cancel = cancel
        self.on_submission = on_submission
        self.outcome = _Outcome()

    def start_and_wait(self) -> _Outcome:
        settings = self.spec.settings
        cgroups = RunCgroups.create(
            cgroup_limit(settings) if os.geteuid() == 0 else None, parse_memory_limit(settings.memory_limit)
        )
        sandboxed_user = drops_privileges() and self.backend.name == "bubblewrap"
        setup = ChildSetup(settings, cgroups, self.backend.address_space_limit(settings), sandboxed_user)
        notices = self.backend.notices(settings)
        if not setup.caps_processes:
            notices.append(
                "nodefix: WARNING: the number of processes is NOT capped "
                "(running as root without a writable pids cgroup)."
            )
        if cgroups.memory_cgroup is None:
            self.outcome.limit_notes.append(
                "memory_limit holds per process only (RLIMIT_AS): no memory cgroup can be made here"
            )
            notices.append(f"nodefix: WARNING: {self.outcome.limit_notes[-1]}.")
        _notify(self.on_output, notices)
        capture = OutputCapture(self.spec.log_path, self.on_output)
        try:
            self._spawn_and_read(setup, cgroups, capture)
        finally:
            self.outcome.out_of_memory = cgroups.oom_kills() > 0
            capture.close()
            cgroups.remove()
        self.outcome.output_tail = capture.tail
        self.outcome.limit_notes += capture.notes
        return self.outcome

    def _spawn_and_read(self, setup: ChildSetup, cgroups: RunCgroups, capture: OutputCapture) -> None:
        program = shutil.which(self.command[0]) or self.command[0]
        try:
            child = pexpect.spawn(
                program,
                self.command[1:],
                cwd=str(self.spec.scratch),
                env=self.backend.host_env(self.spec),
                echo=False,
                dimensions=TERMINAL_SIZE,
                preexec_fn=pinned(setup, self.spec.cpus),
            )
        except Exception as exc:  # noqa: BLE001 - ptyprocess re-raises whatever failed in the child
            self.outcome.start_error = f"could not start {self.command[0]}: {exc}"
            return
        child.ptyproc.delayafterclose = 0  # close() comes after the tree is gone: no need to wait 0.1 s
        tree = ProcessTree(child.pid, cgroups)
        self.meter = CpuMeter(cgroups.path)
        try:
            # Watching starts while the sandbox starts up; a file written before is still reported at the end.
            with SubmissionWatch(self.spec.scratch, self.on_submission):
                if self._read_until_end(child, tree, capture):
                    tree.signal_workers(signal.SIGTERM)
                    _drain(child, capture, GRACE_SECONDS)
                tree.kill()  # after the grace, or whatever the script left behind
                _drain(child, capture, _DRAIN_SECONDS)
        finally:
            child.close(force=True)
            tree.kill()
        self.outcome.exit_code = child.exitstatus
        self.outcome.signal = child.signalstatus
        self.outcome.cpu_seconds = self.meter.seconds

    def _read_until_end(self, child: pexpect.spawn, tree: ProcessTree, capture: OutputCapture) -> bool:
        """Stream output until the script ends (False) or must be ended: time limit or cancel (True)."""
        deadline = time.monotonic() + self.spec.settings.time_limit
        next_sweep = time.monotonic() + _SWEEP_EVERY
        scratch = ScratchCap(self.spec.scratch, parse_memory_limit(self.spec.settings.scratch_limit))
        while True:
            if self.cancel.is_set():
                self.outcome.cancelled = True
                return True
            now = time.monotonic()
            if now >= deadline:
                self.meter.sample(tree.members())
                self.outcome.timed_out = True
                return True
            if now >= next_sweep:
                self.meter.sample(tree.members())  # also remembers descendants so orphans can be found later
                next_sweep = now + _SWEEP_EVERY
                if scratch.exceeded():
                    self.outcome.scratch_full = True
                    return True
            try:
                data = child.read_nonblocking(_READ_SIZE, timeout=min(_READ_TIMEOUT, deadline - now))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return self._wait_for_exit(child, tree, deadline)
            capture.feed(data)

    def _wait_for_exit(self, child: pexpect.spawn, tree: ProcessTree, deadline: float) -> bool:
        """The output is closed, but a script that closed its own stdio may still be running."""
        while child.isalive():
            if self.cancel.is_set():
                self.outcome.cancelled = True
                return True
            if time.monotonic() >= deadline:
                self.meter.sample(tree.members())
                self.outcome.timed_out = True
                return True
            time.sleep(_READ_TIMEOUT)
        return False


def _drain(child: pexpect.spawn, capture: OutputCapture, seconds: float) -> None:
    """Keep reading until every holder of the pty is gone (EOF) or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            capture.feed(child.read_nonblocking(_READ_SIZE, timeout=0.05))
        except pexpect.TIMEOUT:
            continue
        except pexpect.EOF:
            return


def _write_scratch(spec: RunSpec) -> None:
    spec.scratch.mkdir(parents=True, exist_ok=True)
    (spec.scratch / SCRIPT_NAME).write_text(spec.code, encoding="utf-8")
    for name, content in spec.extra_files.items():
        path = spec.scratch / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _environment_problem(spec: RunSpec, backend: Backend) -> str | None:
    """Why the run cannot start at all, before anything is started."""
    problem = competition_problem(spec.competition_id)
    if problem:
        return problem
    data = data_dir(spec.settings, spec.competition_id)
    if not data.is_dir():
        return (
            f"no prepared data for {spec.competition_id!r} at {data} "
            f"(run: mlebench prepare -c {spec.competition_id}, or set run.data_root)"
        )
    for name, host in spec.read_only_binds.items():
        if not Path(host).is_dir():
            return f"{name}: folder to show read-only not found: {host}"
    return backend.check(spec.settings)


def _notify(on_output: Callable[[str], None] | None, lines: list[str]) -> None:
    if on_output is not None:
        for line in lines:
            on_output(line + "\n")


def _result(
    spec: RunSpec,
    backend: Backend,
    command: list[str],
    start: tuple[float, float],  # epoch seconds and the machine's load when the run began
    outcome: _Outcome,
    recorded: tuple[str | None, str | None],  # the output to match against, the output whose form to take
    environment_error: str | None,
) -> RunResult:
    submission_written, refused = outcome.submission
    notes = [*outcome.limit_notes, *([refused] if refused else [])]
    recorded_output, form = recorded
    verdict = classify(
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        timed_out=outcome.timed_out,
        cancelled=outcome.cancelled,
        submission_written=submission_written,
        output=outcome.output_tail,
        code=spec.code,
        environment_error=environment_error,
        recorded_output=recorded_output,
        cap_reached=_cap_reached(spec, outcome),
    )
    started_at, load_start = start
    duration = time.time() - started_at
    cpus = spec.cpus or usable_cpus()
    resources = usage_record(duration, outcome.cpu_seconds, load_start, len(cpus), thread_budget(spec.settings, cpus))
    verdict.starved = starved_note(verdict.kind, resources)
    return RunResult(
        spec_backend=backend.name,
        command=command,
        run_dir=spec.run_dir,
        started_at=started_at,
        duration=duration,
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        timed_out=outcome.timed_out,
        cancelled=outcome.cancelled,
        submission_written=submission_written,
        output_tail=outcome.output_tail,
        verdict=verdict,
        notes=notes,
        code_sha256=code_sha256(spec.code),
        resources=resources,
        output_as_recorded=output_as_recorded(
            outcome.output_tail,
            form,
            seconds=duration,
            time_limit=spec.settings.time_limit,
            timed_out=outcome.timed_out,
        ),
    )


def submission_state(scratch: Path) -> tuple[bool, str | None]:
    """(whether a clean ``submission.csv`` is there, why one was refused): a symlink or a FIFO is no submission."""
    path = scratch / SUBMISSION_NAME
    if not os.path.lexists(path):
        return False, None
    if is_regular_file(path):
        return True, None
    return False, f"{path}: refused: not a regular file (a symlink or a special file is no submission)"


def _cap_reached(spec: RunSpec, outcome: _Outcome) -> str | None:
    """Which cap ended the run, in words, if one did."""
    if outcome.out_of_memory:
        return f"out of memory (memory_limit {spec.settings.memory_limit})"
    if outcome.scratch_full:
        return f"the scratch folder filled its cap (scratch_limit {spec.settings.scratch_limit})"
    return None
