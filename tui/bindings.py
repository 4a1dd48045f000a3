"""Every key binding of the app, with ids, in one place.

A binding id reads "group.verb"; the command palette shows it as
"group: verb" and ``[ui.keys]`` in the config file remaps it by id
(``"row.reject" = "X"``). Single-letter keys are plain, non-priority
bindings: a focused text field consumes printable keys first, so they are
off while one has focus and come back when escape leaves the field.

These stay lists of Binding (so ``.id`` is typed); a class takes a copy as
Textual types it: ``BINDINGS: ClassVar[list[BindingType]] = list(TASK_BINDINGS)``.
"""

from __future__ import annotations

from textual.binding import Binding

APP_BINDINGS = [
    Binding("q", "quit", "Quit", id="app.quit"),
    Binding("ctrl+c", "quit", "Quit", id="app.quit_anywhere", show=False, priority=True),
    Binding("f1,question_mark", "help", "Help", id="app.help", key_display="F1/?"),
    Binding("ctrl+p", "command_palette", "Commands", id="app.palette", show=False),
]

QUEUE_BINDINGS = [
    Binding("enter", "open_row", "Open", id="queue.open"),
    Binding("slash", "search", "Search", id="queue.search", key_display="/"),
    Binding("s", "cycle_filter('status')", "Status", id="queue.filter_status"),
    Binding("v", "cycle_filter('verdict')", "Verdict", id="queue.filter_verdict"),
    Binding("c", "cycle_filter('competition')", "Competition", id="queue.filter_competition"),
    Binding("escape", "clear_filters", "Clear filters", id="queue.clear_filters", show=False),
    Binding("j", "move_cursor(1)", "Down", id="queue.down", show=False),
    Binding("k", "move_cursor(-1)", "Up", id="queue.up", show=False),
    Binding("g", "edge(0)", "First row", id="queue.first", show=False),
    Binding("G", "edge(1)", "Last row", id="queue.last", show=False),
    Binding("u", "next_undecided", "Next undecided", id="queue.next_undecided", show=False),
]

TASK_BINDINGS = [
    Binding("x", "reject", "Reject", id="row.reject"),
    Binding("f", "set_fixable(True)", "Fixable", id="row.fixable"),
    Binding("n", "set_fixable(False)", "Unfixable", id="row.not_fixable"),
    Binding("b", "toggle_bug_confirmed", "Bug confirmed", id="row.bug_confirmed", show=False),
    Binding("B", "toggle_bug_fixed", "Bug fixed (by hand)", id="row.bug_fixed", show=False),
    Binding("d", "mark_done", "Done", id="row.done"),
    Binding("u,ctrl+z", "undo", "Undo", id="row.undo", key_display="u"),
    Binding("right_square_bracket", "move_row(1)", "Next row", id="row.next", key_display="]", show=False),
    Binding("ctrl+n", "next_undecided", "Next undecided row", id="row.next_undecided", key_display="^n"),
    Binding("left_square_bracket", "move_row(-1)", "Previous row", id="row.previous", key_display="[", show=False),
    Binding("o", "run('original')", "Run", id="run.original", tooltip="Run the step's buggy code"),
    Binding("r", "run('fix')", "Run fix", id="run.fix"),
    # ctrl+k too: in the trace list k moves up, and ctrl+k cancels there (a trace being made first).
    Binding("k,ctrl+k", "cancel_run", "Cancel run", id="run.cancel", show=False),
    Binding("t", "trace('buggy')", "Trace", id="trace.buggy"),
    Binding("T", "trace('fix')", "Trace fix", id="trace.fix", show=False),
    Binding("g", "grade", "Grade", id="grade.fix", show=False),
    Binding("a", "new_step", "New step", id="step.new", show=False),
    Binding("A", "drop_step", "Drop last step", id="step.drop", show=False),
    Binding("greater_than_sign", "move_step(1)", "Next step", id="step.next", show=False, key_display=">"),
    Binding("less_than_sign", "move_step(-1)", "Previous step", id="step.previous", show=False, key_display="<"),
    Binding("e", "external_editor", "$EDITOR", id="code.external_editor", show=False),
    Binding("l", "jump_to_failing_line", "Go to failing line", id="code.failing_line", show=False),
    Binding("w", "toggle_diff", "Diff of the fix", id="code.diff", show=False),
    Binding("1", "show_pane('metadata')", "Metadata", id="pane.metadata", show=False),
    Binding("2", "show_pane('code')", "Code", id="pane.code", show=False),
    Binding("3", "show_pane('output')", "Output", id="pane.output", show=False),
    Binding("4", "show_pane('trace')", "Trace", id="pane.trace", show=False),
    Binding("5", "show_pane('annotation')", "Annotation", id="pane.annotation", show=False),
    Binding("f3", "cycle_pane(1)", "Next pane", id="pane.next", show=False),
    Binding("f2", "cycle_pane(-1)", "Previous pane", id="pane.previous", show=False),
    Binding("z,f4", "toggle_zoom", "Zoom", id="pane.zoom", key_display="z"),
    Binding("enter", "edit_pane", "Edit", id="pane.edit", show=False),
    Binding("escape", "leave", "Back", id="pane.leave", key_display="esc"),
]

# The code pane, also while its editor has the cursor (ctrl keys type nothing).
CODE_PANE_BINDINGS = [
    Binding("ctrl+f", "prompt('find')", "Find", id="code.find", key_display="^f"),
    Binding("f8", "find_again", "Find next", id="code.find_next", show=False),
    Binding("ctrl+g", "prompt('line')", "Go to line", id="code.go_to_line", key_display="^g"),
    Binding("escape", "close_prompt", "Close prompt", id="code.close_prompt", show=False),
]

# Reject reasons as the store names them, each with the key that picks it in the reject prompt.
REJECT_REASON_KEYS = {
    "incomplete": ("i", "incomplete code"),
    "no_code": ("c", "no code (prose)"),
    "not_buggy": ("b", "not buggy"),
    "time_limit": ("t", "ran past the limit"),
    "other": ("o", "other"),
}

REJECT_BINDINGS = [
    Binding(key, f"choose('{reason}')", label, id=f"reject.{reason}")
    for reason, (key, label) in REJECT_REASON_KEYS.items()
] + [Binding("escape", "choose('')", "Cancel", id="reject.cancel")]

# The trace pane (tracing, picking a trace, prompts) and the browser inside it (moving, marking, jumping).
TRACE_PANE_BINDINGS = [
    Binding("t", "trace('buggy')", "Trace code", id="trace.buggy"),
    Binding("T", "trace('fix')", "Trace fix", id="trace.fix"),
    Binding("p", "pick_trace", "Pick trace", id="trace.pick"),
    Binding("ctrl+k", "cancel", "Cancel", id="trace.cancel", show=False, key_display="^k"),
    Binding("slash", "prompt('search')", "Find", id="trace.search", key_display="/"),
    Binding("F", "prompt('filter')", "Filter text", id="trace.filter_text", show=False),
    Binding("S", "prompt('source')", "Go to source line", id="trace.source_line", show=False),
    Binding("K", "pick_kinds", "Filter kinds", id="trace.filter_kind", show=False),
    Binding("v", "pick_variable", "Variable change", id="trace.variable_change"),
    Binding("escape", "close_prompt", "Close prompt", id="trace.close_prompt", show=False),
]

# j k g G move as in the queue: inside the trace list they are its keys, not the task view's
# (k cancels a run and g grades elsewhere; ctrl+k cancels from here).
TRACE_BROWSER_BINDINGS = [
    Binding("up,k", "cursor(-1)", "Up", show=False, id="trace.up", key_display="↑/k"),
    Binding("down,j", "cursor(1)", "Down", show=False, id="trace.down", key_display="↓/j"),
    Binding("pageup", "page(-1)", "Page up", show=False, id="trace.page_up"),
    Binding("pagedown", "page(1)", "Page down", show=False, id="trace.page_down"),
    Binding("home,g", "edge(0)", "First line", show=False, id="trace.first", key_display="home/g"),
    Binding("end,G", "edge(1)", "Last line", show=False, id="trace.last", key_display="end/G"),
    Binding("left", "pan(-8)", "Left", show=False, id="trace.left"),
    Binding("right", "pan(8)", "Right", show=False, id="trace.right"),
    Binding("space", "toggle_mark", "Mark", id="trace.mark"),
    Binding("i", "insert_marked", "Insert", id="trace.insert", tooltip="Insert the marked lines (or the cursor line)"),
    Binding("y", "yank", "Yank line", id="trace.yank"),
    Binding("E", "first_exception", "1st exception", id="trace.first_exception"),
    Binding("s", "next_source_line", "Next same line", id="trace.next_source_line"),
    Binding("n", "search_again(0)", "Next match", show=False, id="trace.search_next"),
    Binding("N", "search_again(1)", "Previous match", show=False, id="trace.search_previous"),
    Binding("enter", "show_frame", "Frame in full", id="trace.frame"),
    Binding("c", "toggle_fold", "Fold call", id="trace.fold"),
    Binding("R", "toggle_raw", "Raw lines", show=False, id="trace.raw"),
    Binding("Z", "unfold_all", "Unfold all", show=False, id="trace.unfold_all"),
    Binding("C", "clear_filter", "Clear filter", show=False, id="trace.clear_filter"),
]

FRAME_BINDINGS = [Binding("escape,enter,q", "close", "Close", id="frame.close", key_display="esc")]

ENTRY_PICKER_BINDINGS = [Binding("escape", "cancel", "Cancel", id="picker.cancel")]

HELP_BINDINGS = [Binding("escape,q,f1,question_mark", "close", "Close", id="help.close", key_display="esc")]

ALL_BINDINGS = (
    APP_BINDINGS
    + QUEUE_BINDINGS
    + TASK_BINDINGS
    + CODE_PANE_BINDINGS
    + REJECT_BINDINGS
    + TRACE_PANE_BINDINGS
    + TRACE_BROWSER_BINDINGS
    + FRAME_BINDINGS
    + ENTRY_PICKER_BINDINGS
    + HELP_BINDINGS
)


def binding_ids() -> set[str]:
    return {b.id for b in ALL_BINDINGS if b.id}


def palette_name(binding: Binding) -> str:
    """'row.not_fixable' -> 'row: not fixable'."""
    group, _, verb = (binding.id or binding.action).partition(".")
    return f"{group}: {verb.replace('_', ' ')}"
