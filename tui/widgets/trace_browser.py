"""A virtual view of a CWM trace: one screen row per raw trace line, read on demand.

Each row shows its line compactly (event tag, line number, source, value,
locals: ``trace_compact``); ``R`` switches to the raw text and Enter opens
the cursor's frame in full.

Built like toolong's ``LogLines``: ``render_line`` returns a ``Strip`` for one
row, reading the line through the ``TraceIndex`` (``pread`` by offset), with an
LRU cache of rendered strips. No widget per line and never every line in
memory. Filters and folds are a mapping from visible rows to index lines (a
numpy array; ``None`` while every line is visible), computed in a thread
worker because on a million-frame trace they scan the whole index (the
questions asked of the index are in ``trace_queries``).

What is shown, marked, yanked and inserted is always the raw line exactly as
printed; highlighting only adds colour.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pygments.lexers.python import PythonLexer
from pygments.token import Comment, Keyword, Name, Number, String
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from tracer_adapter.cwm_tracer import ACTION_SEP, ARG_SEP, CALL_SEP, EXCEPTION_SEP, LINE_SEP, RETURN_SEP
from tracer_adapter.trace_lines import line_locals, line_source
from tui.bindings import TRACE_BROWSER_BINDINGS
from tui.keys import with_keys
from tui.widgets.trace_compact import Frame, compact_parts, parse_frame
from tui.widgets.trace_queries import call_end, enclosing_call, matching_lines

if TYPE_CHECKING:
    from tracer_adapter.trace_index import TraceIndex

GUTTER = 2  # mark / cut sign and a space
STRIP_CACHE_SIZE = 2000
TOKEN_RE = re.compile(r"<\|[a-z]+_sep\|>")
# The part of a line after each token, for colouring.
PART_AFTER = {
    CALL_SEP: "locals",
    LINE_SEP: "locals",
    ACTION_SEP: "source",
    ARG_SEP: "value",
}
TOKEN_CLASS = {
    CALL_SEP: "trace-browser--call",
    RETURN_SEP: "trace-browser--return",
    EXCEPTION_SEP: "trace-browser--exception",
}
# Parts of a compact row (trace_compact.compact_parts) that are one colour; source and values are as above.
COMPACT_CLASS = {
    "call": "trace-browser--call",
    "line": "trace-browser--token",
    "return": "trace-browser--return",
    "exception": "trace-browser--exception",
    "arg": "trace-browser--token",
    "end": "trace-browser--token",
    "lineno": "trace-browser--lineno",
    "muted": "trace-browser--token",
}
PYGMENTS_CLASS = (
    (Comment, "trace-browser--comment"),
    (String, "trace-browser--string"),
    (Number, "trace-browser--number"),
    (Keyword, "trace-browser--keyword"),
    (Name.Builtin, "trace-browser--keyword"),
)


@dataclass(frozen=True)
class CutPoint:
    """Where a budget-cut trace lost frames: after index line ``line``."""

    line: int
    banner: str


class TraceBrowser(ScrollView, can_focus=True):
    """Browse, search, filter, fold and pick lines of one trace."""

    BINDINGS: ClassVar[list[BindingType]] = list(TRACE_BROWSER_BINDINGS)

    COMPONENT_CLASSES = {
        "trace-browser--cursor",
        "trace-browser--mark",
        "trace-browser--cut",
        "trace-browser--fold",
        "trace-browser--token",
        "trace-browser--call",
        "trace-browser--return",
        "trace-browser--exception",
        "trace-browser--locals",
        "trace-browser--value",
        "trace-browser--keyword",
        "trace-browser--string",
        "trace-browser--number",
        "trace-browser--comment",
        "trace-browser--lineno",
    }

    DEFAULT_CSS = """
    TraceBrowser {
        background: $surface;
        color: $foreground;
        & > .trace-browser--cursor { background: $block-cursor-blurred-background; }
        &:focus > .trace-browser--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
        & > .trace-browser--mark { color: $warning; text-style: bold; }
        & > .trace-browser--cut { color: $error; text-style: bold underline; }
        & > .trace-browser--fold { color: $accent; text-style: bold; }
        & > .trace-browser--token { color: $text-muted; }
        & > .trace-browser--call { color: $success; }
        & > .trace-browser--return { color: $primary; }
        & > .trace-browser--exception { color: $error; text-style: bold; }
        & > .trace-browser--locals { color: $text-secondary; }
        & > .trace-browser--value { color: $text-warning; }
        & > .trace-browser--keyword { color: $text-accent; }
        & > .trace-browser--string { color: $text-success; }
        & > .trace-browser--number { color: $text-primary; }
        & > .trace-browser--comment { color: $text-muted; text-style: italic; }
        & > .trace-browser--lineno { color: $text-muted; }
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class InsertLines(Message):
        """The user asked to insert these raw trace lines (trace order) at the editor's cursor."""

        def __init__(self, lines: list[str]) -> None:
            super().__init__()
            self.lines = lines

    class Yank(Message):
        """The user yanked one raw trace line."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    class Changed(Message):
        """The cursor, the view or the marks changed: the pane refreshes its status line."""

        def __init__(self, browser: TraceBrowser) -> None:
            super().__init__()
            self.browser = browser

        @property
        def control(self) -> TraceBrowser:
            return self.browser

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.index: TraceIndex | None = None
        self.cut: CutPoint | None = None
        self.marks: set[int] = set()
        self.kinds: frozenset[str] = frozenset()
        self.filter_text = ""
        self.search_text = ""
        self.folds: dict[int, int] = {}  # call line -> its return line; lines between are hidden
        self.busy = ""  # what a worker is computing, for the status line
        self.raw = False  # rows as the raw trace text instead of the compact form
        self._rows: np.ndarray | None = None  # visible row -> index line; None: all lines
        self._strips: LRUCache[int, Strip] = LRUCache(STRIP_CACHE_SIZE)
        self._max_width = 0
        self._lexer = PythonLexer(stripnl=False, ensurenl=False)

    # -- the trace ---------------------------------------------------------------

    def set_index(self, index: TraceIndex | None, cut: CutPoint | None = None) -> None:
        """Show ``index`` from its first line, with no marks, filter or folds."""
        self.index = index
        self.cut = cut
        self.marks.clear()
        self.kinds = frozenset()
        self.filter_text = ""
        self.folds.clear()
        self._rows = None
        self._strips.clear()
        self._max_width = self.scrollable_content_region.width
        self._update_virtual_size()
        self.cursor = 0
        self.scroll_to(0, 0, animate=False, force=True)
        self.refresh()

    @property
    def row_count(self) -> int:
        if self.index is None:
            return 0
        return len(self.index) if self._rows is None else len(self._rows)

    def line_at(self, row: int) -> int:
        """The index line shown on visible row ``row``."""
        return row if self._rows is None else int(self._rows[row])

    def row_of(self, line: int) -> int | None:
        """The visible row showing index line ``line``, None if hidden."""
        if self._rows is None:
            return line if self.index is not None and 0 <= line < len(self.index) else None
        row = int(np.searchsorted(self._rows, line))
        return row if row < len(self._rows) and self._rows[row] == line else None

    @property
    def cursor_line(self) -> int | None:
        """The index line under the cursor."""
        return self.line_at(self.cursor) if self.row_count else None

    def raw_line(self, line: int) -> str:
        assert self.index is not None
        return self.index.line(line)

    def frame(self, line: int) -> Frame:
        """Index line ``line`` pulled apart (the next line holds a return's or an exception's value)."""
        assert self.index is not None
        following = self.index.line(line + 1) if line + 1 < len(self.index) else None
        return parse_frame(self.raw_line(line), self.index.info(line), following)

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self._strips.clear()
        self._max_width = self.scrollable_content_region.width
        self.scroll_to(x=0, animate=False)
        self.refresh()
        self.post_message(self.Changed(self))

    def action_show_frame(self) -> None:
        from tui.screens.frame import FrameScreen

        line = self.cursor_line
        if line is None or self.index is None:
            return
        self.app.push_screen(FrameScreen(self.frame(line), self.index.info(line).frame))

    # -- rendering ---------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = scroll_y + y
        if row >= self.row_count:
            return Strip.blank(width, self.rich_style)
        line = self.line_at(row)
        body = self._line_strip(line).crop_extend(scroll_x, scroll_x + width - GUTTER, None)
        gutter = self._gutter(line)
        strip = Strip.join([gutter, body]).apply_style(self.rich_style)
        if row == self.cursor:
            cursor = self.get_component_rich_style("trace-browser--cursor")
            strip = Strip(Segment.apply_style(list(strip), post_style=cursor), strip.cell_length)
        return strip.simplify()

    def _gutter(self, line: int) -> Strip:
        if line in self.marks:
            sign, name = "●", "trace-browser--mark"
        elif self.cut is not None and line == self.cut.line:
            sign, name = "✂", "trace-browser--cut"
        elif line in self.folds:
            sign, name = "▸", "trace-browser--fold"
        else:
            return Strip.blank(GUTTER)
        return Strip([Segment(sign, self.get_component_rich_style(name)), Segment(" ")], GUTTER)

    def _line_strip(self, line: int) -> Strip:
        strip = self._strips.get(line)
        if strip is None:
            text = self._highlight(self.raw_line(line)) if self.raw else self._compact(line)
            if self.cut is not None and line == self.cut.line:
                text.stylize(self.get_component_rich_style("trace-browser--cut"))
            strip = Strip(list(text.render(self.app.console, end="")), text.cell_len)
            self._strips[line] = strip
            if strip.cell_length + GUTTER > self._max_width:
                self._max_width = strip.cell_length + GUTTER
                self.call_after_refresh(self._update_virtual_size)
        return strip

    def _highlight(self, raw: str) -> Text:
        text = Text(no_wrap=True, end="")
        part = ""
        position = 0
        for token in TOKEN_RE.finditer(raw):
            self._append_part(text, raw[position : token.start()], part)
            name = TOKEN_CLASS.get(token.group(), "trace-browser--token")
            text.append(token.group(), self.get_component_rich_style(name))
            part = PART_AFTER.get(token.group(), "")
            position = token.end()
        self._append_part(text, raw[position:], part)
        return text

    def _compact(self, line: int) -> Text:
        text = Text(no_wrap=True, end="")
        for chunk, part in compact_parts(self.frame(line)):
            name = COMPACT_CLASS.get(part)
            if name is None:
                self._append_part(text, chunk, part)
            else:
                text.append(chunk.expandtabs(4), self.get_component_rich_style(name))
        return text

    def _append_part(self, text: Text, chunk: str, part: str) -> None:
        if not chunk:
            return
        chunk = chunk.expandtabs(4)
        if part == "source":
            for kind, value in self._lexer.get_tokens(chunk):
                text.append(value, self._pygments_style(kind))
        elif part in ("locals", "value"):
            text.append(chunk, self.get_component_rich_style(f"trace-browser--{part}"))
        else:
            text.append(chunk)

    def _pygments_style(self, kind: object) -> Style | None:
        for family, name in PYGMENTS_CLASS:
            if kind in family:
                return self.get_component_rich_style(name)
        return None

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self._max_width, self.row_count)

    # -- cursor and scrolling ----------------------------------------------------

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, self.row_count - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self._scroll_cursor_into_view()
        self.post_message(self.Changed(self))

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if self.cursor < top:
            self._scroll_rows(self.cursor)
        elif height and self.cursor >= top + height:
            self._scroll_rows(self.cursor - height + 1)

    def _scroll_rows(self, y: int) -> None:
        """Scroll to row ``y`` now, even before the scrollbar of a trace just shown exists: Textual
        ignores a scroll while the scrollbar it decides on at the next layout is off, so a fresh first
        trace stayed on its first rows with the cursor on its crash (``max_scroll_y`` still bounds it)."""
        self.scroll_to(y=y, animate=False, force=True)

    def move_to_line(self, line: int) -> None:
        """Put the cursor on index line ``line``, revealing it if folds or a filter hide it."""
        if self.row_of(line) is None:
            for call, end in list(self.folds.items()):
                if call < line < end:
                    del self.folds[call]
            self.workers.cancel_group(self, "trace-view")
            if self.kinds or self.filter_text:
                self.kinds, self.filter_text = frozenset(), ""
                self.notify("Filter cleared to show the line", timeout=3)
            self._rows = self._fold_rows(None) if self.folds else None
            self._view_changed(line)
            return
        self.cursor = self.row_of(line) or 0
        self._centre_cursor()

    def _centre_cursor(self) -> None:
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if not top <= self.cursor < top + height:
            self._scroll_rows(max(0, self.cursor - height // 2))

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        height = max(1, self.scrollable_content_region.height)
        self.scroll_to(y=self.scroll_offset.y + direction * height, animate=False)
        self.cursor += direction * height

    def action_edge(self, end: int) -> None:
        self.cursor = self.row_count - 1 if end else 0

    def action_pan(self, delta: int) -> None:
        self.scroll_to(x=max(0, self.scroll_offset.x + delta), animate=False)

    # -- marks, yank, insert -----------------------------------------------------

    def action_toggle_mark(self) -> None:
        line = self.cursor_line
        if line is None:
            return
        self.marks.symmetric_difference_update({line})
        self.refresh_line(self.cursor)
        self.cursor += 1

    def marked_lines(self) -> list[str]:
        """The marked raw lines in trace order."""
        return [self.raw_line(line) for line in sorted(self.marks)]

    def action_insert_marked(self) -> None:
        """Insert the marked lines, or the cursor line when none is marked."""
        if not self.marks:
            line = self.cursor_line
            if line is not None:
                self.post_message(self.InsertLines([self.raw_line(line)]))
            return
        self.post_message(self.InsertLines(self.marked_lines()))
        self.marks.clear()
        self.refresh()
        self.post_message(self.Changed(self))

    def action_yank(self) -> None:
        line = self.cursor_line
        if line is None:
            return
        raw = self.raw_line(line)
        self.app.copy_to_clipboard(raw)
        self.post_message(self.Yank(raw))

    # -- jumps -------------------------------------------------------------------

    def action_first_exception(self) -> None:
        if self.index is None:
            return
        line = self.index.first_exception()
        if line is None:
            self.notify("No exception in this trace", timeout=3)
        else:
            self.move_to_line(line)

    def action_next_source_line(self) -> None:
        """Next frame that runs the cursor line's source line (its exact text when the code is unknown)."""
        line = self.cursor_line
        if line is None or self.index is None:
            return
        lineno = self.index.info(line).source_lineno
        if lineno is not None:
            self.jump_to_source_line(lineno)
            return
        source = line_source(self.raw_line(line))
        if source is None:
            self.notify("This line shows no source line", severity="warning", timeout=3)
            return
        same = self.index.lines_with_source(source)

        def next_same(after: int) -> int | None:
            position = int(np.searchsorted(same, after, side="right"))
            return int(same[position]) if position < len(same) else None

        self._jump(next_same, "No later frame of this source line")

    def jump_to_source_line(self, lineno: int) -> None:
        """Next frame (after the cursor) that runs source line ``lineno``; past the last, back to the first."""
        index = self.index
        if index is None or self.cursor_line is None:
            return
        first = index.next_source_line(lineno, 0)
        if first is None:
            self.notify(f"Line {lineno} never runs in this trace", severity="warning", timeout=4)
        elif index.next_source_line(lineno, self.cursor_line + 1) is None:
            self.notify(f"No later frame of line {lineno}: back to its first", timeout=3)
            self.move_to_line(first)
        else:
            self._jump(lambda after: index.next_source_line(lineno, after + 1), f"No later frame of line {lineno}")

    def jump_to_change(self, variable: str) -> None:
        """Next line (after the cursor, same invocation) where ``variable`` holds another value."""
        index = self.index
        if index is not None:
            self._jump(lambda after: index.next_change(variable, after), f"{variable} does not change after this")

    def cursor_locals(self) -> dict[str, str]:
        line = self.cursor_line
        return line_locals(self.raw_line(line)) if line is not None else {}

    def search(self, text: str, backwards: bool = False) -> None:
        """Find ``text`` from the cursor on (n and N repeat it)."""
        self.search_text = text
        self.action_search_again(int(backwards))

    def action_search_again(self, backwards: int) -> None:
        if not self.search_text:
            self.notify(with_keys(self, "Search with {trace.search} first"), timeout=3)
            return
        text, index = self.search_text, self.index
        if index is None:
            return
        if backwards:
            self._jump(
                lambda before: index.find(text, before - 1, backwards=True) if before > 0 else None,
                f"{text!r} not found before this line",
            )
        else:
            self._jump(lambda after: index.find(text, after + 1), f"{text!r} not found after this line")

    def _jump(self, finder: Callable[[int], int | None], not_found: str) -> None:
        """Move to the first line ``finder(cursor line)`` gives that the filter shows.

        ``finder(n)`` returns the next match past line ``n`` (in its direction);
        matches hidden by a filter are skipped, matches inside folds unfold.
        """
        line = self.cursor_line
        if line is None or self.index is None:
            return
        found = finder(line)
        while found is not None and (self.kinds or self.filter_text) and self.row_of(found) is None:
            found = finder(found)
        if found is None:
            self.notify(not_found, timeout=3)
        else:
            self.move_to_line(found)

    def jump_to_line_text(self, text: str) -> bool:
        """Move to the first line that is exactly ``text`` (a verbatim problem's nearest line); True if found."""
        if self.index is None or not text:
            return False
        found = self.index.find(text, 0)
        while found is not None and self.index.line(found) != text:
            found = self.index.find(text, found + 1) if found + 1 < len(self.index) else None
        if found is None:
            return False
        self.move_to_line(found)
        return True

    # -- filter and folds --------------------------------------------------------

    def action_clear_filter(self) -> None:
        if self.kinds or self.filter_text:
            self.set_filter(frozenset(), "")

    def set_filter(self, kinds: frozenset[str], text: str) -> None:
        """Show only lines of these kinds (all if empty) that contain ``text``."""
        self.kinds, self.filter_text = frozenset(kinds), text
        self._recompute_rows()

    def action_toggle_fold(self) -> None:
        """Unfold the call under the cursor, or fold the call the cursor line belongs to."""
        line = self.cursor_line
        if line is None or self.index is None:
            return
        if line in self.folds:
            del self.folds[line]
            self._recompute_rows(keep_line=line)
        else:
            self._fold(line)

    def action_unfold_all(self) -> None:
        if self.folds:
            self.folds.clear()
            self._recompute_rows()

    @work(thread=True, exclusive=True, group="trace-view", exit_on_error=False)
    def _fold(self, line: int) -> None:
        assert self.index is not None
        self.app.call_from_thread(self._set_busy, "folding…")
        call = enclosing_call(self.index, line)
        end = call_end(self.index, call) if call is not None else None
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._add_fold, call, end)

    def _add_fold(self, call: int | None, end: int | None) -> None:
        if call is None or end is None:
            self._set_busy("")
            self.notify("Not inside a call this trace shows", timeout=3)
            return
        if end > call + 1:
            self.folds[call] = end
        self._recompute_rows(keep_line=call)

    def _recompute_rows(self, keep_line: int | None = None) -> None:
        keep = self.cursor_line if keep_line is None else keep_line
        if not (self.kinds or self.filter_text):
            self._rows = self._fold_rows(None) if self.folds else None
            self._view_changed(keep)
            return
        self._filter_worker(self.kinds, self.filter_text, keep)

    @work(thread=True, exclusive=True, group="trace-view", exit_on_error=False)
    def _filter_worker(self, kinds: frozenset[str], text: str, keep: int | None) -> None:
        assert self.index is not None
        worker = get_current_worker()
        self.app.call_from_thread(self._set_busy, "filtering…")
        rows = matching_lines(self.index, kinds, text, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply_filter, rows, keep)

    def _apply_filter(self, rows: np.ndarray, keep: int | None) -> None:
        self._rows = self._fold_rows(rows) if self.folds else rows
        self._view_changed(keep)

    def _fold_rows(self, rows: np.ndarray | None) -> np.ndarray:
        assert self.index is not None
        shown = np.arange(len(self.index), dtype=np.int64) if rows is None else rows
        keep = np.ones(len(shown), dtype=bool)
        for call, end in self.folds.items():
            lo, hi = np.searchsorted(shown, [call + 1, end])
            keep[lo:hi] = False
        return shown[keep]

    def _set_busy(self, what: str) -> None:
        self.busy = what
        self.post_message(self.Changed(self))

    def _view_changed(self, keep_line: int | None) -> None:
        """Redraw after the rows changed, keeping the cursor on ``keep_line`` or the next shown line."""
        self.busy = ""
        self._update_virtual_size()
        if keep_line is None or self.row_count == 0:
            row = 0
        elif self._rows is None:
            row = keep_line
        else:
            row = int(np.searchsorted(self._rows, keep_line))
        self.cursor = row
        self._centre_cursor()
        self.refresh()
