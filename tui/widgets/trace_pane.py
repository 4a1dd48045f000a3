"""The task view's trace pane: the step's traces, the browser over one of them, and tracing on a key.

Opening a trace loads (or, for a fresh trace, builds) its line index in a
thread worker with a progress bar; tracing runs ``trace_step`` in a thread
worker showing the elapsed time and the lines of output, and both can be
cancelled with ``ctrl+k`` (``k`` moves up in the browser, as in every list).
The browser's messages (``InsertLines``, ``Yank``) bubble up to the task
view, which hands them to the annotation pane.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tracer_adapter.adapter import trace_step
from tracer_adapter.cwm_tracer import NOTE_PREFIX
from tracer_adapter.trace_index import IndexCancelled, TraceIndex
from tui.bindings import TRACE_PANE_BINDINGS
from tui.keys import key_for, with_keys
from tui.screens.entry_picker import ChoicePicker, EntryPicker
from tui.widgets.pane import Pane
from tui.widgets.trace_browser import CutPoint, TraceBrowser
from tui.widgets.trace_queries import KINDS
from workspace.done_check import code_sha256
from workspace.errors import InputError
from workspace.records import TraceMeta, TraceRecord

if TYPE_CHECKING:
    from workspace.config import Config
    from workspace.store import Workspace

PROGRESS_EVERY = 0.1  # seconds between progress updates posted from a worker
KIND_CHOICES: list[tuple[str, frozenset[str]]] = [
    ("every kind", frozenset()),
    *[(kind, frozenset({kind})) for kind in KINDS],
    ("call and return", frozenset({"call", "return"})),
    ("return and exception", frozenset({"return", "exception"})),
]
PROMPTS = {"search": "find", "filter": "filter text", "source": "source line number"}


CUT_NOTE = NOTE_PREFIX  # how the built-in tracer's notes (frames cut, tracing stopped) begin


def cut_banner(meta: TraceMeta) -> str | None:
    """'cut: <caps> after frame N, M frames dropped' from a stored trace's metadata; None if nothing was cut."""
    if meta.incomplete:
        return f"incomplete: {meta.incomplete}"
    tracer = meta.tracer_meta
    caps = ", ".join(tracer.get("caps_fired") or []) or "a budget"
    dropped = tracer.get("frames_dropped") or 0
    if dropped:
        head = (tracer.get("first_kept") or [0, 0])[1]
        tail = tracer.get("last_kept")
        kept = f" (frames {tail[0]:,} to {tail[1]:,}, the end, are kept)" if tail else ""
        return f"cut: {caps} after frame {head:,}, {dropped:,} frames dropped{kept}"
    if tracer.get("stopped_by_time"):
        return (
            f"cut: {caps} after frame {tracer.get('frames_total', 0):,}: "
            f"tracing stopped there and the script ran on untraced"
        )
    return None


def cut_point(index: TraceIndex, meta: TraceMeta) -> CutPoint | None:
    """Where and why a trace was cut: the tracer's note line, or the last line if the note is missing."""
    banner = cut_banner(meta)
    if banner is None:
        return None
    line = index.find(CUT_NOTE, 0)
    return CutPoint(len(index) - 1 if line is None else line, banner)


def describe_trace(record: TraceRecord, buggy_sha: str, fix_sha: str | None) -> str:
    """'buggy code · entry f · 1,234 frames' for one stored trace."""
    if record.code_sha256 == buggy_sha:
        what = "buggy code"
    elif fix_sha is not None and record.code_sha256 == fix_sha:
        what = "current fix"
    else:
        what = "an earlier fix"
    meta = record.meta
    parts = [f"#{record.id} {what}"]
    if meta.entry:
        parts.append(f"from {meta.entry}")
    if meta.frames is not None:
        parts.append(f"{meta.frames:,} frames")
    if cut_banner(meta):
        parts.append("cut")
    return " · ".join(parts)


class TracePane(Pane):
    """Traces of the shown step and a browser over the chosen one."""

    PANE_ID = "trace"
    TITLE = "Trace"
    HELP = (
        "The trace of this step, one raw trace line per row, shown compactly: the event (call, line, "
        "ret, exc), the source line number and text, a return's or exception's value, then the locals. "
        "Marking, yanking and inserting copy the raw lines exactly. The keys below open a frame in "
        "full, show the raw text, mark, insert, jump, search, filter and fold; tracing and picking "
        "another trace of this step are there too. {trace.up} {trace.down} {trace.first} {trace.last} move as "
        "in the queue; {trace.cancel} cancels a trace being made or opened, else the run going."
    )

    BINDINGS: ClassVar[list[BindingType]] = list(TRACE_PANE_BINDINGS)

    DEFAULT_CSS = """
    TracePane > #trace-header { height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    TracePane > #trace-cut { height: auto; color: $text-error; background: $error-muted; display: none; }
    TracePane > #trace-progress { height: 1; display: none; }
    TracePane > #trace-progress > ProgressBar { width: 24; }
    TracePane > #trace-progress > Label { width: 1fr; }
    TracePane > TraceBrowser { height: 1fr; }
    TracePane > #trace-prompt { height: 1; display: none; }
    TracePane > #trace-status { height: 1; color: $text-muted; background: $boost; }
    """

    def __init__(self, ws: Workspace, config: Config, writable: Callable[[], bool] = lambda: True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ws = ws
        self.config = config
        self.writable = writable  # the screen's read-only check (it says why when it refuses)
        self.row_id: str | None = None
        self.k = 0
        self.records: list[TraceRecord] = []
        self.record: TraceRecord | None = None  # the trace shown
        self.index: TraceIndex | None = None
        self.jobs: dict[str, threading.Event] = {}  # "tracing", "indexing" -> its cancel event, while running
        self._prompt_kind = ""

    def compose(self) -> ComposeResult:
        yield Static("No row shown", id="trace-header", markup=False)
        yield Static(id="trace-cut", markup=False)
        with Horizontal(id="trace-progress"):
            yield ProgressBar(total=1.0, show_eta=False)
            yield Label(id="trace-progress-label", markup=False)
        yield TraceBrowser(id="trace-browser")
        yield Input(id="trace-prompt", compact=True)
        yield Static(id="trace-status", markup=False)

    @property
    def browser(self) -> TraceBrowser:
        return self.query_one(TraceBrowser)

    def edit(self) -> None:
        self.browser.focus()

    def on_focus(self) -> None:
        # The browser takes no text, so its keys can be live as soon as the pane is shown.
        self.browser.focus()

    def on_unmount(self) -> None:
        for cancel in self.jobs.values():
            cancel.set()
        if self.index is not None:
            self.index.close()

    # -- which step, which trace ---------------------------------------------------

    def show_step(self, row_id: str, k: int) -> None:
        """List the traces of step ``k`` of ``row_id`` and open the newest."""
        changed = (row_id, k) != (self.row_id, self.k)
        if changed and "indexing" in self.jobs:
            self._cancel("indexing")
        self.row_id, self.k = row_id, k
        self._list_traces(row_id)
        shown = self.record.id if self.record is not None and not changed else None
        ids = [r.id for r in self.records]
        if shown in ids:
            self._update_header()
        elif self.records:
            self.open_trace(self.records[0])
        else:
            self._show_index(None, None)

    def _list_traces(self, row_id: str) -> None:
        self.records = sorted(self.ws.traces(row_id, self.k), key=lambda r: r.id, reverse=True)

    def _code_shas(self, row_id: str) -> tuple[str, str | None]:
        step = self.ws.step(row_id, self.k)
        return code_sha256(step.code), code_sha256(step.fixed_code) if step.fixed_code else None

    def _update_header(self) -> None:
        header = self.query_one("#trace-header", Static)
        if self.row_id is None:
            header.update("No row shown")
        elif self.record is None:
            header.update(
                with_keys(
                    self, "No trace of this step yet: {trace.buggy} traces the buggy code, {trace.fix} the current fix"
                )
            )
        else:
            buggy, fix = self._code_shas(self.row_id)
            count = f" ({len(self.records)} traces, p picks)" if len(self.records) > 1 else ""
            header.update(describe_trace(self.record, buggy, fix) + count)

    def action_pick_trace(self) -> None:
        if self.row_id is None or not self.records:  # traces are only listed for a row
            self.notify("No trace of this step yet", timeout=3)
            return
        buggy, fix = self._code_shas(self.row_id)
        labels = [describe_trace(r, buggy, fix) for r in self.records]
        shown = self.record.id if self.record is not None else None
        current = next((n for n, r in enumerate(self.records) if r.id == shown), 0)

        def chosen(position: int | None) -> None:
            if position is not None:
                self.open_trace(self.records[position])

        self.app.push_screen(ChoicePicker("Open which trace", labels, current), chosen)

    # -- opening a trace: load or build its index in a worker ------------------------

    def open_trace(self, record: TraceRecord, at_crash: bool = False) -> None:
        """Show ``record``'s trace once its index is loaded (or built, for a fresh trace), from its first
        line, or ``at_crash`` from the exception that ends it (the crash a fresh trace is made to explain)."""
        if "indexing" in self.jobs:
            self._cancel("indexing")
        self._load_index(record, at_crash, self._start_job("indexing", f"opening trace #{record.id}…"))

    @work(thread=True, exclusive=True, group="trace-index", exit_on_error=False)
    def _load_index(self, record: TraceRecord, at_crash: bool, cancel: threading.Event) -> None:
        try:
            index = TraceIndex.open(record.trace_path, progress=self._throttled(self._show_progress), cancel=cancel)
        except IndexCancelled:
            return
        if cancel.is_set() or get_current_worker().is_cancelled:
            index.close()
            return
        start = index.crash_line() if at_crash else None
        self.app.call_from_thread(self._show_index, index, record, start)

    def _show_index(self, index: TraceIndex | None, record: TraceRecord | None, start: int | None = None) -> None:
        """Show ``index`` with the cursor on its first line, or on line ``start``."""
        previous, self.index = self.index, index
        self.record = record
        self._end_job("indexing")
        self.browser.set_index(index, cut_point(index, record.meta) if index is not None and record else None)
        if start is not None:
            self.browser.move_to_line(start)
        if previous is not None and previous is not index:
            previous.close()
        self._update_header()
        self._show_cut_banner()

    def _show_cut_banner(self) -> None:
        banner = self.query_one("#trace-cut", Static)
        cut = self.browser.cut
        banner.display = cut is not None
        banner.update(cut.banner if cut is not None else "")

    # -- tracing the step's code -------------------------------------------------------

    def action_trace(self, which: str) -> None:
        """Trace the step's buggy code (``which="buggy"``) or its current fix, after choosing the entry."""
        if self.row_id is None or not self.writable():
            return
        if "tracing" in self.jobs:
            self.notify(f"Wait for the trace to end, or press {self._cancel_key()}", severity="warning", timeout=3)
            return
        step = self.ws.step(self.row_id, self.k)
        if which == "fix":
            if not step.fixed_code.strip():
                self.notify("This step has no fix yet", severity="warning", timeout=3)
                return
            code, output, what = step.fixed_code, self._latest_fix_output(self.row_id), "current fix"
        else:
            code, output, what = step.code, step.observed_output, "buggy code"
        picker = EntryPicker(code, output, what)
        if len(picker.choices) == 1:  # no function to start from: the whole script, without asking
            self.trace_code(code, picker.choices[0][1])
            return

        def chosen(position: int | None) -> None:
            if position is not None:
                self.trace_code(code, picker.choices[position][1])

        self.app.push_screen(picker, chosen)

    def _latest_fix_output(self, row_id: str) -> str | None:
        runs = [r for r in self.ws.runs(row_id, self.k) if r.purpose == "fix"]
        return runs[-1].output_tail if runs else None

    def trace_code(self, code: str, entry: str | None) -> None:
        """Trace ``code`` of the shown step from ``entry`` (None: the whole script), then open the trace."""
        self._output_lines = 0
        self._started = time.monotonic()
        self._trace_worker(self.row_id, self.k, code, entry, self._start_job("tracing", "tracing…"))

    @work(thread=True, exclusive=True, group="trace-run", exit_on_error=False)
    def _trace_worker(self, row_id: str, k: int, code: str, entry: str | None, cancel: threading.Event) -> None:
        def on_output(chunk: str) -> None:
            self._output_lines += chunk.count("\n")

        try:
            record = trace_step(
                self.ws, self.config, row_id, k, code=code, entry=entry, on_output=on_output, cancel=cancel
            )
        except InputError:
            if not cancel.is_set():
                raise
            record = None
        self.app.call_from_thread(self._traced, row_id, k, record, cancel.is_set())

    def _traced(self, row_id: str, k: int, record: TraceRecord | None, cancelled: bool) -> None:
        """Open the new trace; after a cancel only list what the tracer managed to store."""
        self._end_job("tracing")
        if (row_id, k) != (self.row_id, self.k):
            self.notify(f"Traced {row_id} step {k}: its trace is listed there", timeout=4)
            return
        self._list_traces(row_id)
        self._update_header()
        if cancelled:
            self.notify("Tracing cancelled", timeout=3)
        elif record is not None:
            self.open_trace(next((r for r in self.records if r.id == record.id), record), at_crash=True)

    def _tick(self) -> None:
        if "tracing" in self.jobs:
            elapsed = time.monotonic() - self._started
            self._set_progress_label(
                f"tracing… {elapsed:.1f} s, {self._output_lines:,} lines of output ({self._cancel_key()} cancels)"
            )

    # -- jobs: progress and cancel -------------------------------------------------------

    @property
    def job(self) -> str:
        """What the progress row shows: "tracing", else "indexing", else ""."""
        return next((job for job in ("tracing", "indexing") if job in self.jobs), "")

    def _start_job(self, job: str, label: str) -> threading.Event:
        """Show the progress row for ``job``; returns the event that cancels it."""
        cancel = self.jobs[job] = threading.Event()
        if job == "tracing":
            self._ticker = self.set_interval(0.25, self._tick)
        if self.job == job:
            self._show_job(label)
        return cancel

    def _show_job(self, label: str) -> None:
        self.query_one("#trace-progress").display = True
        self.query_one(ProgressBar).update(total=1.0 if self.job == "indexing" else None, progress=0)
        self._set_progress_label(f"{label} ({self._cancel_key()} cancels)")

    def _cancel_key(self) -> str:
        return key_for(self, "trace.cancel")

    def _end_job(self, job: str) -> None:
        if self.jobs.pop(job, None) is not None and job == "tracing":
            self._ticker.stop()
        if self.job == "indexing":
            self._show_job("opening the trace…")
        elif not self.job:
            self.query_one("#trace-progress").display = False

    def _set_progress_label(self, text: str) -> None:
        self.query_one("#trace-progress-label", Label).update(text)

    def _throttled(self, show: Callable[[float], None]) -> Callable[[float], None]:
        """A progress callback for a worker thread that updates the screen at most every PROGRESS_EVERY s."""
        last = [0.0]

        def report(fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY or fraction >= 1.0:
                last[0] = now
                self.app.call_from_thread(show, fraction)

        return report

    def _show_progress(self, fraction: float) -> None:
        if self.job == "indexing":
            self.query_one(ProgressBar).update(progress=fraction)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return bool(self.jobs)
        if action == "close_prompt":  # else escape is the task view's (back to the queue)
            return self.query_one("#trace-prompt", Input).has_focus
        return True

    def action_cancel(self) -> None:
        """Cancel the trace being run, else the trace being opened."""
        job = self.job
        if job:
            self._cancel(job)
            self.notify("Opening the trace cancelled" if job == "indexing" else "Cancelling the trace…", timeout=3)

    def _cancel(self, job: str) -> None:
        self.jobs[job].set()
        if job == "indexing":
            self.workers.cancel_group(self, "trace-index")
            self._end_job("indexing")
        else:
            self._set_progress_label("cancelling…")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        jobs = {"trace-index": ("indexing", "Opening the trace"), "trace-run": ("tracing", "Tracing")}
        if event.state == WorkerState.ERROR and event.worker.group in jobs:
            job, what = jobs[event.worker.group]
            self._end_job(job)
            self.notify(f"{what} failed: {event.worker.error}", severity="error", timeout=8)

    # -- prompts and pickers for the browser --------------------------------------------

    def action_prompt(self, kind: str) -> None:
        if self.index is None:
            return
        prompt = self.query_one("#trace-prompt", Input)
        self._prompt_kind = kind
        prompt.placeholder = PROMPTS[kind]
        prompt.value = (
            self.browser.search_text if kind == "search" else (self.browser.filter_text if kind == "filter" else "")
        )
        prompt.display = True
        prompt.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_prompt()
        value = event.value
        if self._prompt_kind == "search" and value:
            self.browser.search(value)
        elif self._prompt_kind == "filter":
            self.browser.set_filter(self.browser.kinds, value)
        elif self._prompt_kind == "source" and value.strip():
            if value.strip().isdigit():
                self.browser.jump_to_source_line(int(value))
            else:
                self.notify(f"Not a line number: {value!r}", severity="warning", timeout=3)

    def action_close_prompt(self) -> None:
        self._close_prompt()

    def _close_prompt(self) -> None:
        prompt = self.query_one("#trace-prompt", Input)
        prompt.display = False
        self.browser.focus()

    def action_pick_kinds(self) -> None:
        if self.index is None:
            return
        current = next((n for n, (_, kinds) in enumerate(KIND_CHOICES) if kinds == self.browser.kinds), 0)

        def chosen(position: int | None) -> None:
            if position is not None:
                self.browser.set_filter(KIND_CHOICES[position][1], self.browser.filter_text)

        self.app.push_screen(ChoicePicker("Show which events", [label for label, _ in KIND_CHOICES], current), chosen)

    def action_pick_variable(self) -> None:
        names = list(self.browser.cursor_locals())
        if not names:
            self.notify("No locals on this line", severity="warning", timeout=3)
            return

        def chosen(position: int | None) -> None:
            if position is not None:
                self.browser.jump_to_change(names[position])

        self.app.push_screen(ChoicePicker("Next change of which variable", names), chosen)

    # -- status line ------------------------------------------------------------------

    def on_trace_browser_changed(self, event: TraceBrowser.Changed) -> None:
        self.query_one("#trace-status", Static).update(self._status_text())

    def _status_text(self) -> str:
        browser = self.browser
        if self.index is None:
            return ""
        line = browser.cursor_line
        parts = []
        if line is None:
            parts.append(f"no line shown of {len(self.index):,}")
        else:
            info = self.index.info(line)
            parts.append(f"{line + 1:,}/{len(self.index):,}")
            where = f" at line {info.source_lineno}" if info.source_lineno is not None else ""
            parts.append(f"{info.kind} event{where}, frame {info.frame:,}, depth {info.depth}")
            if line in browser.folds:
                parts.append(f"{browser.folds[line] - line - 1:,} lines folded")
        if browser.kinds or browser.filter_text:
            shown = ",".join(sorted(browser.kinds)) or "all"
            text = f" {browser.filter_text!r}" if browser.filter_text else ""
            parts.append(f"filter {shown}{text}: {browser.row_count:,} shown (C clears)")
        if browser.folds:
            parts.append(f"{len(browser.folds)} folded")
        if browser.marks:
            parts.append(f"{len(browser.marks)} marked (i inserts)")
        if browser.busy:
            parts.append(browser.busy)
        return " · ".join(parts)
