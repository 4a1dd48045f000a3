"""The queue: every row of the dataset in one DataTable, with progress, filters and search.

The table holds at most ``WINDOW_ROWS`` of the rows that pass the filters: a longer queue (a
million rows) is shown through a window of them that moves with the cursor, so that neither the
table nor the summaries hold an object per row.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from tui.bindings import QUEUE_BINDINGS
from tui.widgets.key_bar import KeyBar
from workspace.store import STATUSES, Workspace
from workspace.summaries import RowSelection, RowSummary, Summaries
from workspace.terminal_text import one_line

if TYPE_CHECKING:
    from textual import getters

    from tui.app import NodefixApp

# Content widths: with one space between columns and a scrollbar they fit 80 columns.
# "verdict" (its error type) and "match" are the replication's, a run of the recorded code; "fix" is the
# verdict of the latest run of a fix. Together they fit 80 columns.
COLUMNS = (
    ("id", 9),
    ("competition", 19),
    ("status", 11),
    ("verdict", 10),
    ("match", 6),
    ("fix", 6),
    ("steps", 4),
    ("time", 5),
)
MATCH_WORDS = {"same": "same", "different": "other", "no_recorded": "none"}
SEARCH_COLUMNS = ("id", "competition_id", "plan", "analysis", "code")
FIRST_ROWS = 100  # rows shown before the first paint
CHUNK_ROWS = 1000  # rows added per chunk after it
CHUNK_DELAY = 0.02  # seconds between chunks
WINDOW_ROWS = 10_000  # rows the table holds at most; a longer queue is shown through a window of them
ROWS_ABOVE = 1_000  # rows kept above the cursor when the window moves (so that few are added at once)
EDGE_ROWS = 50  # the window moves when the cursor comes this close to one of its ends
_SEARCH_DELAY = 0.2  # seconds after the last keystroke in the search field


def short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def duration(seconds: float) -> str:
    if seconds < 1:
        return "—"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m{int(seconds % 60):02d}"
    return f"{minutes // 60}h{minutes % 60:02d}"


def row_cells(summary: RowSummary) -> tuple[Text, ...]:
    status = summary.status
    if summary.reject_reason:
        status = f"rej:{summary.reject_reason}"
    if summary.claimed_by:
        status = "claimed"
    # Text, not str: ids are data, never markup, and the table skips parsing 70,000 cells.
    return tuple(
        Text(one_line(cell), no_wrap=True)
        for cell in (
            short(summary.id, COLUMNS[0][1]),
            short(summary.competition_id, COLUMNS[1][1]),
            short(status, COLUMNS[2][1]),
            short(summary.error_type or "—", COLUMNS[3][1]),
            "starved" if summary.starved else MATCH_WORDS.get(summary.match or "", summary.match or "—"),
            short(summary.fix_verdict or "—", COLUMNS[5][1]),
            str(summary.n_steps),
            duration(summary.time_spent),
        )
    )


@dataclass
class Filters:
    status: str = ""
    verdict: str = ""
    competition: str = ""
    search: str = ""
    search_hits: np.ndarray | None = field(default=None, repr=False)  # rows matching `search`; None: no search

    def selection(self, summaries: Summaries) -> RowSelection:
        """The rows that pass every filter, in file order."""
        return summaries.select(
            status=self.status, verdict=self.verdict, competition=self.competition, among=self.search_hits
        )

    def describe(self) -> str:
        parts = [
            f"{name}={value}"
            for name, value in (
                ("status", self.status),
                ("verdict", self.verdict),
                ("competition", self.competition),
                ("search", self.search),
            )
            if value
        ]
        return "filter: " + ", ".join(parts) + " (esc clears) · " if parts else ""


class QueueScreen(Screen):
    """Every row: Enter opens one in the task view."""

    BINDINGS: ClassVar[list[BindingType]] = list(QUEUE_BINDINGS)
    if TYPE_CHECKING:  # self.app as the NodefixApp (for typing only: tui.app imports this module)
        app = getters.app(NodefixApp)
    AUTO_FOCUS = "#queue-table"
    HELP = (
        "The queue lists every row of the dataset. Up/down or {queue.down} / {queue.up} move, "
        "{queue.first} / {queue.last} go to the first / last row, {queue.next_undecided} to the next "
        "undecided one, {queue.open} opens the row. {queue.search} searches ids and text (plan, analysis, "
        "code) as you type; {queue.filter_status}, {queue.filter_verdict} and {queue.filter_competition} "
        "cycle the status, verdict and competition filters; {queue.clear_filters} clears them. The header "
        "counts rows done, rejected and left, and the time you spent today."
    )

    DEFAULT_CSS = """
    QueueScreen #queue-header { height: 1; padding: 0 1; }
    QueueScreen #queue-search { height: 1; border: none; padding: 0 1; display: none; }
    QueueScreen.searching #queue-search { display: block; }
    QueueScreen #queue-table { height: 1fr; }
    """

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.summaries: Summaries | None = None
        self.shown_ids = RowSelection(ws.dataset, np.zeros(0, dtype=np.int64))  # the rows passing the filters
        self._window = (0, 0)  # the positions in shown_ids the table holds (or will, once filled)
        self._generation = 0  # bumped by each fill, so chunks of an older one stop
        self.filters = Filters()
        self._search_timer: Timer | None = None
        self._wanted: str | None = None  # a row to put the cursor on once the table is filled
        self._left = False  # another screen was shown over the queue

    def compose(self) -> ComposeResult:
        yield Static(id="queue-header", markup=False)
        yield Input(placeholder="search ids and text", id="queue-search", compact=True)
        yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True, cell_padding=0)
        yield KeyBar()

    @property
    def table(self) -> DataTable:
        return self.query_one("#queue-table", DataTable)

    def on_mount(self) -> None:
        for name, width in COLUMNS:
            self.table.add_column(name, width=width + 1, key=name)
        self.reload()

    def on_screen_suspend(self) -> None:
        self._left = True

    def on_screen_resume(self) -> None:
        # Coming back from a row: statuses, verdicts and times may have changed.
        if self._left:
            self._left = False
            self.reload()

    # ---- data

    def reload(self) -> None:
        """Read the summaries again and show them, keeping the cursor on the same row."""
        current = self.current_id() if self.summaries is not None else self._wanted
        self.summaries = self.ws.summaries()
        self._fill(keep=current)

    def _fill(self, keep: str | None = None) -> None:
        """Show the rows that pass the filters, with the cursor on ``keep`` if it is one of them."""
        assert self.summaries is not None
        self.shown_ids = self.filters.selection(self.summaries)
        self._show_window(self.shown_ids.position(keep) if keep is not None else None)
        self._show_header()

    def _show_window(self, cursor: int | None) -> None:
        """Fill the table with shown rows around position ``cursor`` (None: from the first row, cursor
        left at the top): a first screenful now, the rest in chunks after it is painted.

        The table measures every cell it is given, so 10,000 rows in one go would hold the
        first paint (and every key) for most of a second.
        """
        table = self.table
        target = cursor or 0
        start = 0 if len(self.shown_ids) <= WINDOW_ROWS else max(0, target - ROWS_ABOVE)
        self._window = (start, min(len(self.shown_ids), start + WINDOW_ROWS))
        self._generation += 1
        table.clear()
        self._add_rows(self._generation, start, target + FIRST_ROWS)
        if cursor is not None:
            table.move_cursor(row=cursor - start, animate=False, scroll=True)

    def _add_rows(self, generation: int, start: int, stop: int) -> None:
        if generation != self._generation:
            return  # the filters changed meanwhile: a newer fill owns the table
        assert self.summaries is not None
        stop = min(stop, self._window[1])
        rows = self.shown_ids.rows[start:stop]
        self.table.add_rows(row_cells(summary) for summary in self.summaries.of_rows(rows))
        if stop < self._window[1]:
            # A pause between chunks lets the table paint and keys through while the rest arrives.
            self.set_timer(CHUNK_DELAY, lambda: self._add_rows(generation, stop, stop + CHUNK_ROWS))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Move the window when the cursor comes near an end of it that is not the queue's."""
        start, stop = self._window
        row = self.table.cursor_row  # now, not when the message was sent: the window may have moved since
        near_top = start > 0 and row < EDGE_ROWS
        filled = self.table.row_count == stop - start
        near_bottom = stop < len(self.shown_ids) and filled and row >= self.table.row_count - EDGE_ROWS
        if near_top or near_bottom:
            self._show_window(start + row)

    def _show_header(self) -> None:
        counts = self.ws.status_counts()
        done, rejected = counts.get("done", 0), counts.get("rejected", 0)
        left = len(self.ws.dataset) - done - rejected
        today = today_seconds(self.ws)
        everything = len(self.shown_ids) == len(self.ws.dataset)
        shown = "" if everything else f"showing {len(self.shown_ids)} · "
        # Active filters first: at 80 columns the end of the line is cut, and a hidden filter misleads.
        self.query_one("#queue-header", Static).update(
            f"{self.filters.describe()}{shown}done {done} · rejected {rejected} · left {left} · today {duration(today)}"
        )

    def current_id(self) -> str | None:
        row = self.table.cursor_row if len(self.shown_ids) else None
        if row is None or not 0 <= row < self.table.row_count:
            return None
        return self.shown_ids[self._window[0] + row]

    def select(self, row_id: str) -> None:
        """Put the cursor on ``row_id`` (once the table is filled, if it is not yet)."""
        self._wanted = row_id
        position = self.shown_ids.position(row_id)
        if position is not None:
            self._go_to(position)

    def _go_to(self, position: int) -> None:
        """Put the cursor on the shown row at ``position``, moving the window if it is not in the table."""
        row = position - self._window[0]
        if 0 <= row < self.table.row_count:
            self.table.move_cursor(row=row, animate=False, scroll=True)
        else:
            self._show_window(position)

    def _order_around(self, row_id: str) -> tuple[Sequence[str], int]:
        """The queue as filtered now and where ``row_id`` is in it; every row, when the filters hide it."""
        position = self.shown_ids.position(row_id)
        if position is None:
            return self.ws.dataset.ids, self.ws.dataset.index_of(row_id)
        return self.shown_ids, position

    def neighbour(self, row_id: str, delta: int) -> str | None:
        """The row ``delta`` places from ``row_id`` in the queue as filtered now."""
        order, position = self._order_around(row_id)
        position += delta
        return order[position] if 0 <= position < len(order) else None

    def next_undecided(self, row_id: str) -> str | None:
        """The first row after ``row_id`` (in the queue as filtered now) that is neither done nor rejected."""
        order, position = self._order_around(row_id)
        decided = {row for row, (status, _, _) in self.ws.statuses().items() if status in ("done", "rejected")}
        for later in range(position + 1, len(order)):
            if order[later] not in decided:
                return order[later]
        return None

    # ---- actions

    def action_move_cursor(self, delta: int) -> None:
        self.table.move_cursor(row=self.table.cursor_row + delta, animate=False, scroll=True)

    def action_edge(self, end: int) -> None:
        if len(self.shown_ids):
            self._go_to(len(self.shown_ids) - 1 if end else 0)

    def action_next_undecided(self) -> None:
        current = self.current_id()
        if current is None:
            return
        found = self.next_undecided(current)
        if found is None:
            self.notify("No undecided row below this one", timeout=3)
        else:
            self.select(found)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_row()

    def action_open_row(self) -> None:
        row_id = self.current_id()
        if row_id is not None:
            self.app.open_row(row_id)

    def action_search(self) -> None:
        self.add_class("searching")
        self.query_one("#queue-search", Input).focus()

    def action_cycle_filter(self, kind: str) -> None:
        assert self.summaries is not None
        if kind == "status":
            choices = list(STATUSES)
        elif kind == "verdict":
            choices = self.summaries.verdict_words()
        else:
            choices = self.summaries.competition_ids()
        current = getattr(self.filters, kind)
        cycle = ["", *choices]
        setattr(self.filters, kind, cycle[(cycle.index(current) + 1) % len(cycle)] if current in cycle else "")
        self._fill(keep=self.current_id())

    def action_clear_filters(self) -> None:
        search = self.query_one("#queue-search", Input)
        if search.has_focus:
            self.table.focus()
            return
        self.filters = Filters()
        search.value = ""
        self.remove_class("searching")
        self._fill(keep=self.current_id())

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(_SEARCH_DELAY, self._apply_search)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._apply_search()
        self.table.focus()

    def _apply_search(self) -> None:
        text = self.query_one("#queue-search", Input).value.strip()
        self.filters.search = text
        self.filters.search_hits = self.ws.dataset.matching_rows(text, SEARCH_COLUMNS) if text else None
        self._fill(keep=self.current_id())


def today_key(ws: Workspace) -> str:
    return f"time_today:{ws.annotator}"


def today_seconds(ws: Workspace) -> float:
    state = ws.ui_state(today_key(ws)) or {}
    return float(state.get("seconds", 0.0)) if state.get("date") == time.strftime("%Y-%m-%d") else 0.0


def add_today(ws: Workspace, seconds: float) -> None:
    """Count ``seconds`` of work towards today's total shown in the queue header."""
    ws.set_ui_state(today_key(ws), {"date": time.strftime("%Y-%m-%d"), "seconds": today_seconds(ws) + seconds})
