"""Output pane: the live stream of the current run, its timer, its verdict, and the step's run history.

A run can print megabytes a second. Chunks from the worker thread go into a
list under a lock and a timer moves them into the ``Log`` ten times a second,
so the message queue never floods and keys stay responsive.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Log, Static

from runner.verdict import describe_outcome
from tui.keys import key_for
from tui.widgets.pane import Pane
from workspace.records import RunRecord
from workspace.terminal_text import neutralise

_FLUSH_SECONDS = 0.1
_MAX_LOG_LINES = 5000
_MAX_PENDING_CHARS = 32_000  # per flush: a screenful many times over; the full output is in the run's log file


class OutputPane(Pane):
    PANE_ID = "output"
    TITLE = "output"
    HELP = (
        "The live output of the current run ({run.original} runs the original code, {run.fix} runs the fix, "
        "{run.cancel} cancels), a timer against the time limit, the verdict when it ends, whether the "
        "error is the same as the recorded one, and every run of this step."
    )

    DEFAULT_CSS = """
    OutputPane #run-banner { height: auto; max-height: 3; padding: 0 1; }
    OutputPane #run-log { height: 1fr; }
    OutputPane #run-history { height: auto; max-height: 6; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[str] = []
        self._pending_chars = 0
        self._banner_text = ""
        self._lock = threading.Lock()
        self._started = 0.0
        self._limit = 0.0
        self._purpose = ""
        self._run_active = False

    def compose(self) -> ComposeResult:
        yield Static(id="run-banner", markup=False)
        yield Log(id="run-log", max_lines=_MAX_LOG_LINES)
        yield Static(id="run-history", markup=False)

    def on_mount(self) -> None:
        self.set_interval(_FLUSH_SECONDS, self._tick)

    @property
    def running(self) -> bool:
        return self._run_active

    def begin(self, purpose: str, limit: float) -> None:
        self._purpose, self._limit = purpose, limit
        self._started = time.monotonic()
        self._run_active = True
        with self._lock:
            self._pending.clear()
            self._pending_chars = 0
        self.query_one("#run-log", Log).clear()
        self._set_banner(f"running {purpose}…", "verdict-running")

    def reset(self) -> None:
        """Forget the shown run (another step or row is shown now)."""
        self._run_active = False
        with self._lock:
            self._pending.clear()
            self._pending_chars = 0
        self.query_one("#run-log", Log).clear()
        self._set_banner(self._no_run(), "")

    def _no_run(self) -> str:
        return f"No run yet: {key_for(self, 'run.original')} runs the original, {key_for(self, 'run.fix')} the fix."

    def feed(self, chunk: str) -> None:
        """Called from the run's thread for every chunk it prints (neutralised there, off the UI loop)."""
        chunk = neutralise(chunk, keep_carriage_return=True)
        with self._lock:
            self._pending.append(chunk)
            self._pending_chars += len(chunk)
            if self._pending_chars > 2 * _MAX_PENDING_CHARS:
                tail = "".join(self._pending)[-_MAX_PENDING_CHARS:]
                self._pending[:] = [tail]
                self._pending_chars = len(tail)

    def end(self, record: RunRecord) -> None:
        self._flush()
        self._run_active = False
        kind = record.kind
        lines = [f"{self._purpose}: {kind.upper()} after {record.duration:.1f} s · {record.verdict.detail}"]
        match = describe_outcome(self._purpose, record.verdict)
        if match:
            lines.append(match)
        self._set_banner("\n".join(lines), f"verdict-{kind}")

    def fail(self, message: str) -> None:
        self._flush()
        self._run_active = False
        self._set_banner(f"{self._purpose}: could not run · {message}", "verdict-environment")

    def show_history(self, runs: list[RunRecord]) -> None:
        text = Text()
        for run in runs[-5:]:
            when = datetime.fromtimestamp(run.created_at or run.started_at)
            graded = "" if run.grade is None else (" graded" if run.grade.get("success") else " grade failed")
            text.append(
                f"#{run.id} {when:%H:%M} {run.purpose:<9} {run.kind:<13} {run.match or '':<11} "
                f"{run.duration:.1f}s{graded}\n"
            )
        history = self.query_one("#run-history", Static)
        history.update(text if runs else "No runs of this step yet.")
        if runs and not self._run_active and self._banner_text == self._no_run():
            last = runs[-1]
            match = describe_outcome(last.purpose, last.verdict)
            self._set_banner(
                f"last run #{last.id} ({last.purpose}): {last.kind}" + (f" · {match}" if match else ""),
                f"verdict-{last.kind}",
            )

    def _set_banner(self, message: str, kind_class: str) -> None:
        # Called ten times a second while a run goes: touch the widget only when something changed.
        banner = self.query_one("#run-banner", Static)
        if set(banner.classes) != ({kind_class} - {""}):
            banner.set_classes(kind_class)
        if message != self._banner_text:
            self._banner_text = message
            banner.update(message)

    def _tick(self) -> None:
        if not self._run_active:
            return
        self._flush()
        elapsed = time.monotonic() - self._started
        self._set_banner(f"running {self._purpose}… {elapsed:.0f} s / {self._limit:.0f} s limit", "verdict-running")

    def _flush(self) -> None:
        with self._lock:
            if not self._pending:
                return
            text = "".join(self._pending)[-_MAX_PENDING_CHARS:]
            self._pending.clear()
            self._pending_chars = 0
        self.query_one("#run-log", Log).write(text)
