"""The task view: one row's panes, moving between rows and steps, claims and time.

Panes: metadata, code, output, trace, annotation. Below WIDE_COLUMNS one pane
fills the screen (tabs and 1-5 / F2 F3 switch); from WIDE_COLUMNS up, the
chosen one of metadata / code / trace sits left and output above annotation
right. ``z`` zooms the focused pane to the whole screen.

The rest is in helpers the screen holds, one job each: ``autosave``
(task_autosave.py), ``runs`` (runs and grading, task_runs.py), ``decisions``
(task_decisions.py), ``fix_file`` (the fix as a file for $EDITOR,
task_fix_file.py) and ``verbatim`` (the check of quoted trace lines,
task_verbatim.py). The screen's actions and message handlers hand over to them.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static, Tab, Tabs, TextArea
from textual.worker import Worker, WorkerState

from runner.tracebacks import parse_error
from tui.activity_clock import ActivityClock
from tui.bindings import TASK_BINDINGS
from tui.screens.queue import add_today
from tui.screens.task_autosave import SAVE_DELAY, SAVED_FIELDS, Autosave
from tui.screens.task_decisions import Decisions
from tui.screens.task_fix_file import FixFileChanged, FixFileSync
from tui.screens.task_runs import RunControl
from tui.screens.task_verbatim import VerbatimCheck
from tui.widgets.annotation_pane import TEXT_FIELDS, AnnotationPane, step_position
from tui.widgets.code_pane import CodePane
from tui.widgets.key_bar import KeyBar
from tui.widgets.metadata_pane import MetadataPane
from tui.widgets.output_pane import OutputPane
from tui.widgets.pane import Pane
from tui.widgets.trace_browser import TraceBrowser
from tui.widgets.trace_pane import TracePane
from workspace.config import Config
from workspace.errors import StorageError
from workspace.mlebench import description_location
from workspace.run_rules import describe_flag_sources
from workspace.store import Step, Workspace

if TYPE_CHECKING:
    from textual import getters

    from tui.app import NodefixApp

PANES = ("metadata", "code", "output", "trace", "annotation")
LEFT_PANES = ("metadata", "code", "trace")
WIDE_COLUMNS = 160
TIME_EVERY = 15.0  # seconds between additions to the row's time spent
CLAIM_EVERY = 3.0  # seconds between tries to take a row another process holds
UI_STATE_KEY = "last"
DECISIONS = {
    "reject",
    "set_fixable",
    "toggle_bug_confirmed",
    "mark_done",
    "undo",
    "run",
    "grade",
    "new_step",
    "drop_step",
    "toggle_bug_fixed",
    "trace",
    "external_editor",
}


class TaskScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = list(TASK_BINDINGS)
    if TYPE_CHECKING:  # self.app as the NodefixApp (for typing only: tui.app imports this module)
        app = getters.app(NodefixApp)
    AUTO_FOCUS = None
    HELP = (
        "One row, pane by pane: {pane.metadata}-{pane.annotation} (or {pane.previous}/{pane.next}) pick a "
        "pane, {pane.edit} puts the cursor in its first field, escape leaves a field and, outside one, goes "
        "back to the queue. {row.reject} rejects (then a reason key), {row.fixable} / {row.not_fixable} mark "
        "the step fixable or not, {row.bug_confirmed} bug confirmed, {row.done} done, {row.undo} undoes the "
        "last decision, {row.next} and {row.previous} move between rows, {row.next_undecided} goes to the "
        "next undecided row. {run.original} runs the original code, {run.fix} the fix, {run.cancel} cancels, "
        "{trace.buggy} traces the buggy code and {trace.fix} the fix, {grade.fix} grades the latest fix run, "
        "{step.new} starts the next debug step from the fix. {pane.zoom} zooms a pane."
    )

    DEFAULT_CSS = """
    TaskScreen #task-header { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TaskScreen #pane-tabs { height: 2; }
    TaskScreen #panes { height: 1fr; }
    TaskScreen .column { width: 1fr; height: 1fr; }
    TaskScreen.wide #right-column > Pane { height: 1fr; }
    TaskScreen.wide.trace-left #left-column { width: 2fr; }  /* trace rows are long: two thirds of the width */
    """

    def __init__(
        self,
        ws: Workspace,
        config: Config,
        row_id: str,
        *,
        pane: str = "metadata",
        step: int | None = None,
        cursors: dict | None = None,
    ) -> None:
        super().__init__()
        self.ws = ws
        self.config = config
        self.row_id = row_id
        self.k = 0
        self.pane = pane if pane in PANES else "metadata"
        self.left_pane = self.pane if self.pane in LEFT_PANES else "metadata"
        self.zoomed = False
        self.read_only = False
        self.claimed_by: str | None = None
        self._initial_step = step
        self._initial_cursors = cursors or {}
        self._ui_state_timer: Timer | None = None
        self.clock = ActivityClock()
        self._row_done = False  # viewing a done row adds no time
        self._error_line: int | None = None
        self._cursors: dict[str, list[int]] = {}
        self.row_is_open = False
        self.autosave = Autosave(self)
        self.runs = RunControl(self)
        self.decisions = Decisions(self)
        self.fix_file = FixFileSync(self)
        self.verbatim = VerbatimCheck(self)

    # ---- layout

    def compose(self) -> ComposeResult:
        yield Static(id="task-header", markup=False)
        yield Tabs(*(Tab(f"{n} {name}", id=f"tab-{name}") for n, name in enumerate(PANES, 1)), id="pane-tabs")
        with Horizontal(id="panes"):
            with Vertical(id="left-column", classes="column"):
                yield MetadataPane()
                yield CodePane()
                yield TracePane(self.ws, self.config, writable=self.writable)
            with Vertical(id="right-column", classes="column"):
                yield OutputPane()
                yield AnnotationPane()
        yield KeyBar()

    def on_mount(self) -> None:
        tabs = self.query_one(Tabs)
        tabs.can_focus = False
        for n, name in enumerate(PANES, 1):
            self.pane_widget(name).border_title = f"{n} {name}"
        self.set_interval(TIME_EVERY, self.count_time)
        self.set_interval(CLAIM_EVERY, self._claim_when_free)
        self.open_row(self.row_id, step=self._initial_step, cursors=self._initial_cursors)

    def pane_widget(self, name: str) -> Pane:
        return self.query_one(f"#{name}", Pane)

    @property
    def code_pane(self) -> CodePane:
        return self.query_one(CodePane)

    @property
    def output_pane(self) -> OutputPane:
        return self.query_one(OutputPane)

    @property
    def annotation_pane(self) -> AnnotationPane:
        return self.query_one(AnnotationPane)

    @property
    def trace_pane(self) -> TracePane:
        return self.query_one(TracePane)

    def on_resize(self) -> None:
        self._apply_layout()

    def _apply_layout(self) -> None:
        wide = self.size.width >= WIDE_COLUMNS
        single = not wide or self.zoomed
        self.set_class(wide and not self.zoomed, "wide")
        self.set_class(self.left_pane == "trace", "trace-left")
        for name in PANES:
            if single:
                shown = name == self.pane
            elif name in LEFT_PANES:
                shown = name == self.left_pane
            else:
                shown = True
            self.pane_widget(name).display = shown
        self.query_one("#left-column").display = any(self.pane_widget(n).display for n in LEFT_PANES)
        self.query_one("#right-column").display = not all(n in LEFT_PANES for n in PANES if self.pane_widget(n).display)
        self.query_one(Tabs).display = not self.zoomed

    def show_pane(self, name: str, focus: bool = True) -> None:
        self.pane = name
        if name in LEFT_PANES:
            self.left_pane = name
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{name}":
            tabs.active = f"tab-{name}"
        self._apply_layout()
        if focus:
            self.pane_widget(name).focus()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id != event.tabs.active:
            return  # stale: another pane was shown since (answering it would swap panes back and forth forever)
        name = (event.tab.id or "").removeprefix("tab-")
        if name in PANES and name != self.pane:
            self.show_pane(name)

    def on_descendant_focus(self, event) -> None:
        for ancestor in event.widget.ancestors_with_self:
            if isinstance(ancestor, Pane):
                if self.pane != ancestor.PANE_ID:
                    self.pane = ancestor.PANE_ID
                    if self.pane in LEFT_PANES:
                        self.left_pane = self.pane
                    self.query_one(Tabs).active = f"tab-{self.pane}"
                return

    def on_descendant_blur(self, event) -> None:
        if isinstance(event.widget, TextArea):
            self.autosave.flush()

    def focused_pane(self) -> Pane | None:
        for ancestor in self.focused.ancestors_with_self if self.focused else ():
            if isinstance(ancestor, Pane):
                return ancestor
        return None

    # ---- opening and leaving rows and steps

    def open_row(self, row_id: str, *, step: int | None = None, cursors: dict | None = None) -> None:
        self.row_id = row_id
        self.app.clear_notifications()  # a toast about the last row does not belong over this one
        self.read_only = not self.ws.claim(row_id)
        self.claimed_by = self.ws.claimed_by(row_id) if self.read_only else None
        if self.read_only:
            self.notify(
                f"{row_id} is being edited by {self.claimed_by or 'another process'}: read-only here",
                severity="warning",
                timeout=8,
            )
        steps = self.ws.steps(row_id)
        k = step if step is not None and 0 <= step < len(steps) else len(steps) - 1
        self.row_is_open = True
        self.clock.open()
        self.load_step(k, cursors=cursors)
        # A row opens with its pane holding the keys, never a text field: ctrl+n typed in a field, or the
        # last row's field still focused, would have sent the next keys into this row's text.
        self.show_pane(self.pane)

    def load_step(self, k: int, *, cursors: dict | None = None) -> None:
        self.k = k
        self._cursors = {}
        step = self.ws.step(self.row_id, k)
        source = self.ws.source(self.row_id)
        error = parse_error(step.observed_output, step.code)
        self._error_line = error.lineno if error is not None else None
        self.query_one(MetadataPane).show(
            competition_id=source.competition_id,
            exec_time=source.exec_time if k == 0 else None,
            plan=source.plan,
            analysis=source.analysis,
            output=step.observed_output,
            error=error,
            description=description_location(self.config.ui.mlebench_checkout, source.competition_id),
        )
        fixed = step.fixed_code or step.code
        texts = {"fixed_code": fixed, **{name: getattr(step, name) for name, _ in TEXT_FIELDS}}
        self.autosave.load(texts)
        edit_path = self.fix_file.open(fixed)
        self.code_pane.load(buggy=step.code, fixed=fixed, edit_path=str(edit_path), read_only=self.read_only)
        annotation = self.annotation_pane
        annotation.load(texts=texts, read_only=self.read_only)
        self.show_flags(step)
        annotation.show_step(k, len(self.ws.steps(self.row_id)))
        self.output_pane.reset()
        self.output_pane.show_history(self.ws.runs(self.row_id, k))
        self.trace_pane.show_step(self.row_id, k)
        for field, cursor in (cursors or {}).items():
            if field in SAVED_FIELDS:
                editor = self.query_one(f"#{field}", TextArea)
                editor.cursor_location = tuple(cursor)
                editor.scroll_cursor_visible()
        self.show_header()
        self.verbatim.check()
        self.save_ui_state()

    def _claim_when_free(self) -> None:
        """A read-only row becomes editable here as soon as the other process lets go of it."""
        if not (self.row_is_open and self.read_only) or not self.ws.claim(self.row_id):
            return
        self.read_only, self.claimed_by = False, None
        self.load_step(self.k)
        self.notify(f"{self.row_id} is free now: editable here", timeout=4)

    def writable(self) -> bool:
        """Whether the row may be changed here; says why not when it is open in another process."""
        if self.read_only:
            self.notify(
                f"Read-only: {self.row_id} is open in {self.claimed_by or 'another process'}",
                severity="warning",
                timeout=4,
            )
        return not self.read_only

    def saved_and_writable(self) -> bool:
        """``writable()``, with the fields typed so far saved first when it is, so that what is done next sees them."""
        if not self.writable():
            return False
        self.autosave.flush()
        return True

    def show_flags(self, step: Step) -> None:
        self.annotation_pane.show_flags(
            bug_confirmed=step.bug_confirmed,
            fixable=step.fixable,
            bug_fixed=step.bug_fixed,
            sources=describe_flag_sources(step.flag_sources),
        )

    def show_header(self) -> None:
        status, reason, _ = self.ws.status(self.row_id)
        self._row_done = status == "done"
        position = self.ws.dataset.index_of(self.row_id) + 1
        label = f"{status} ({reason})" if reason else status
        notice = f"READ-ONLY: open in {self.claimed_by} · " if self.read_only else ""
        # Most telling first: a narrow terminal cuts the long id at the end, not the status.
        self.query_one("#task-header", Static).update(
            f"{notice}row {position}/{len(self.ws.dataset)} · {label} · step {self.k} · "
            f"{self.ws.source(self.row_id).competition_id} · {self.row_id}"
        )

    def leave_row(self, *, to_queue: bool = False) -> None:
        """Save everything and let go of the row (before another row, the queue, or quitting);
        ``to_queue``: the queue is shown next, and a restart after quitting from there shows it too."""
        if not self.row_is_open:
            return
        self.autosave.flush()
        self.count_time()
        self.save_ui_state(in_row=not to_queue)
        self.runs.cancel_on_leaving("the row")
        self.fix_file.close()
        if not self.read_only:
            self.ws.release(self.row_id)
        self.row_is_open = False

    def on_screen_suspend(self) -> None:
        self.autosave.flush()

    def on_unmount(self) -> None:
        # The app closing without action_quit (a test ending, an exception): save what is unsaved.
        self.leave_row()

    def on_key(self, event) -> None:
        self._acted()

    def _acted(self) -> None:
        if self.row_is_open and not self.read_only and not self._row_done:
            self.clock.act()

    def count_time(self) -> None:
        seconds = self.clock.take()
        if self.row_is_open and not self.read_only and seconds > 0:
            try:
                self.ws.add_time(self.row_id, self.k, seconds)
                add_today(self.ws, seconds)
            except StorageError as exc:
                self.clock.give_back(seconds)  # counted again with the next tick that saves
                self.autosave.storage_failed(str(exc))

    def save_ui_state(self, *, in_row: bool = True) -> None:
        """Where the user is, for the next start (``in_row`` False: back on the queue, from this row)."""
        # Once the screen is being torn down its editors are gone: keep the cursors last seen.
        self._cursors.update(
            {editor.id: list(editor.cursor_location) for editor in self.query(TextArea) if editor.id in SAVED_FIELDS}
        )
        cursors = self._cursors
        state = {"row": self.row_id, "step": self.k, "pane": self.pane, "cursors": cursors, "in_row": in_row}
        with contextlib.suppress(StorageError):  # where the cursor was is not worth a second banner
            self.ws.set_ui_state(UI_STATE_KEY, state)

    # ---- messages: typing, the fix's file, the trace browser, workers

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        field = event.text_area.id
        if field not in SAVED_FIELDS or self.read_only:
            return
        self._acted()  # typing: the text area takes the key events
        if field == "fixed_code":
            self.code_pane.diff_later()
        if field == "cwm_analysis":
            self.verbatim.check_later()
        self.autosave.changed(field, event.text_area.text)

    def on_fix_file_changed(self, event: FixFileChanged) -> None:
        self.fix_file.take()

    def on_trace_browser_insert_lines(self, event: TraceBrowser.InsertLines) -> None:
        event.stop()
        if not self.writable():
            return
        self.annotation_pane.insert_trace_lines(event.lines)
        self.notify(f"Inserted {len(event.lines)} trace line(s) into cwm_analysis", timeout=2)

    def on_trace_browser_yank(self, event: TraceBrowser.Yank) -> None:
        # Into the app's clipboard (and the terminal's, via OSC 52): ctrl+v in any field pastes it as is.
        event.stop()
        self.app.copy_to_clipboard(event.line)
        self.notify("Yanked the trace line: ctrl+v pastes it into a field", timeout=2)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Every worker of this screen (runs, grading, the verbatim check) ends up here: failures are shown.
        if event.state == WorkerState.ERROR:
            worker = event.worker
            self.notify(
                f"{worker.name or worker.group} failed: {worker.error}", title="Error", severity="error", timeout=10
            )

    # ---- decisions (task_decisions.py)

    def action_reject(self) -> None:
        self.decisions.reject()

    def action_set_fixable(self, fixable: bool) -> None:
        self.decisions.set_fixable(fixable)

    def action_toggle_bug_confirmed(self) -> None:
        self.decisions.toggle_bug_confirmed()

    def action_toggle_bug_fixed(self) -> None:
        self.decisions.toggle_bug_fixed()

    def action_mark_done(self) -> None:
        self.decisions.mark_done()

    def action_undo(self) -> None:
        self.decisions.undo()

    def action_new_step(self) -> None:
        self.decisions.new_step()

    def action_drop_step(self) -> None:
        self.decisions.drop_step()

    # ---- runs and grading (task_runs.py), $EDITOR (task_fix_file.py)

    def action_run(self, purpose: str) -> None:
        self.runs.run(purpose)

    def action_cancel_run(self) -> None:
        self.runs.cancel()

    def action_grade(self) -> None:
        self.runs.grade()

    def action_external_editor(self) -> None:
        self.fix_file.external_editor()

    # ---- moving between rows and steps

    def switch_to_row(self, row_id: str) -> None:
        """Leave the row on screen for ``row_id``, which the queue's cursor follows."""
        self.leave_row()
        self.open_row(row_id)
        self.app.queue.select(row_id)

    def action_move_row(self, delta: int) -> None:
        target = self.app.queue.neighbour(self.row_id, delta)
        if target is None:
            self.notify("No more rows this way", timeout=2)
            return
        self.switch_to_row(target)

    def advance(self) -> None:
        """After a row is decided: on to the next row still undecided."""
        target = self.app.queue.next_undecided(self.row_id)
        if target is None:
            self.notify("Every row after this one is decided", timeout=4)
            return
        self.switch_to_row(target)

    def action_next_undecided(self) -> None:
        self.advance()

    def action_move_step(self, delta: int) -> None:
        n = len(self.ws.steps(self.row_id))
        if not 0 <= self.k + delta < n:
            self.notify(f"{step_position(self.k, n).capitalize()}: no step that way", timeout=2)
            return
        self.autosave.flush()
        self.count_time()
        self.runs.cancel_on_leaving("the step")
        self.load_step(self.k + delta)

    # ---- panes and moving around

    def action_trace(self, which: str = "buggy") -> None:
        """Trace the buggy code (``t``) or the fix (``T``) from any pane; the trace pane shows it."""
        self.show_pane("trace")
        self.trace_pane.action_trace(which)  # it asks whether the row is writable

    def action_jump_to_failing_line(self) -> None:
        # The code pane takes the keys, not its editor: what is typed next is a key (3, o, ...), never code.
        # Enter then puts the cursor in the editor on that line, as enter enters every pane's first field.
        if self._error_line is None:
            self.notify("No failing line found in the recorded output", timeout=3)
            return
        self.show_pane("code")
        self.code_pane.show_line(self._error_line)

    def action_toggle_diff(self) -> None:
        self.show_pane("code")
        self.code_pane.toggle_diff()

    def action_show_pane(self, name: str) -> None:
        self.show_pane(name)
        if self._ui_state_timer is None:  # a disk write per key would slow pane switching
            self._ui_state_timer = self.set_timer(SAVE_DELAY, self._save_ui_state_later)

    def _save_ui_state_later(self) -> None:
        self._ui_state_timer = None
        if self.row_is_open:
            self.save_ui_state()

    def action_cycle_pane(self, delta: int) -> None:
        self.action_show_pane(PANES[(PANES.index(self.pane) + delta) % len(PANES)])

    def action_toggle_zoom(self) -> None:
        self.zoomed = not self.zoomed
        self._apply_layout()

    def action_edit_pane(self) -> None:
        pane = self.focused_pane() or self.pane_widget(self.pane)
        pane.edit()

    def action_leave(self) -> None:
        if self.code_pane.showing_diff:
            self.code_pane.toggle_diff()  # escape closes the diff view first, and stays in the row
            return
        if self.zoomed:
            self.action_toggle_zoom()
            return
        self.leave_row(to_queue=True)
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Shown dimmed in the footer while another process holds the row.
        if self.read_only and action in DECISIONS:
            return None
        return True
