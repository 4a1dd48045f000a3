"""The queue: every row of the dataset in one DataTable, with progress, filters and search."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from tui.bindings import QUEUE_BINDINGS
from tui.widgets.key_bar import KeyBar
from workspace.store import STATUSES, RowSummary, Workspace
from workspace.terminal_text import one_line

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
    search_hits: set[str] | None = field(default=None, repr=False)  # ids matching `search`; None: no search

    def keeps(self, summary: RowSummary) -> bool:
        return (
            (not self.status or summary.status == self.status)
            and (not self.verdict or (summary.verdict or "none") == self.verdict)
            and (not self.competition or summary.competition_id == self.competition)
            and (self.search_hits is None or summary.id in self.search_hits)
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

    BINDINGS = QUEUE_BINDINGS
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
        self.summaries: list[RowSummary] = []
        self.by_id: dict[str, RowSummary] = {}
        self.shown_ids: list[str] = []  # ids in table order
        self._position: dict[str, int] = {}  # id -> row in the table (and in shown_ids)
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
        current = self.current_id() if self.summaries else self._wanted
        self.summaries = self.ws.summaries()
        self.by_id = {s.id: s for s in self.summaries}
        self._fill(keep=current)

    def _fill(self, keep: str | None = None) -> None:
        """Show the rows that pass the filters: a first screenful now, the rest in chunks after it is painted.

        The table measures every cell it is given, so 10,000 rows in one go would hold the
        first paint (and every key) for most of a second.
        """
        table = self.table
        self.shown_ids = [s.id for s in self.summaries if self.filters.keeps(s)]
        self._position = {row_id: n for n, row_id in enumerate(self.shown_ids)}
        self._generation += 1
        table.clear()
        target = self._position.get(keep) if keep is not None else None
        first = max(FIRST_ROWS, (target or 0) + FIRST_ROWS)
        self._add_rows(self._generation, 0, first)
        if target is not None:
            table.move_cursor(row=target, animate=False, scroll=True)
        self._show_header()

    def _add_rows(self, generation: int, start: int, stop: int) -> None:
        if generation != self._generation:
            return  # the filters changed meanwhile: a newer fill owns the table
        self.table.add_rows(row_cells(self.by_id[row_id]) for row_id in self.shown_ids[start:stop])
        if stop < len(self.shown_ids):
            # A pause between chunks lets the table paint and keys through while the rest arrives.
            self.set_timer(CHUNK_DELAY, lambda: self._add_rows(generation, stop, stop + CHUNK_ROWS))

    def _show_header(self) -> None:
        done = sum(s.status == "done" for s in self.summaries)
        rejected = sum(s.status == "rejected" for s in self.summaries)
        left = len(self.summaries) - done - rejected
        today = today_seconds(self.ws)
        shown = f"showing {len(self.shown_ids)} · " if len(self.shown_ids) != len(self.summaries) else ""
        # Active filters first: at 80 columns the end of the line is cut, and a hidden filter misleads.
        self.query_one("#queue-header", Static).update(
            f"{self.filters.describe()}{shown}done {done} · rejected {rejected} · left {left} · today {duration(today)}"
        )

    def current_id(self) -> str | None:
        row = self.table.cursor_row if self.shown_ids else None
        return self.shown_ids[row] if row is not None and 0 <= row < len(self.shown_ids) else None

    def select(self, row_id: str) -> None:
        """Put the cursor on ``row_id`` (once the table is filled, if it is not yet)."""
        self._wanted = row_id
        position = self._position.get(row_id)
        if position is not None and position < self.table.row_count:
            self.table.move_cursor(row=position, animate=False, scroll=True)

    def neighbour(self, row_id: str, delta: int) -> str | None:
        """The row ``delta`` places from ``row_id`` in the queue as filtered now."""
        order = self.shown_ids if row_id in self._position else self.ws.dataset.ids
        position = order.index(row_id) + delta
        return order[position] if 0 <= position < len(order) else None

    def next_undecided(self, row_id: str) -> str | None:
        """The first row after ``row_id`` (in the queue as filtered now) that is neither done nor rejected."""
        order = self.shown_ids if row_id in self._position else self.ws.dataset.ids
        decided = {"done", "rejected"}
        for candidate in order[order.index(row_id) + 1 :]:
            if self.ws.status(candidate)[0] not in decided:
                return candidate
        return None

    # ---- actions

    def action_move_cursor(self, delta: int) -> None:
        self.table.move_cursor(row=self.table.cursor_row + delta, animate=False, scroll=True)

    def action_edge(self, end: int) -> None:
        self.table.move_cursor(row=self.table.row_count - 1 if end else 0, animate=False, scroll=True)

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
        if kind == "status":
            choices = list(STATUSES)
        elif kind == "verdict":
            choices = sorted({s.verdict or "none" for s in self.summaries})
        else:
            choices = sorted({s.competition_id for s in self.summaries})
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
        self.filters.search_hits = self.ws.dataset.matching_ids(text, SEARCH_COLUMNS) if text else None
        self._fill(keep=self.current_id())


def today_key(ws: Workspace) -> str:
    return f"time_today:{ws.annotator}"


def today_seconds(ws: Workspace) -> float:
    state = ws.ui_state(today_key(ws)) or {}
    return float(state.get("seconds", 0.0)) if state.get("date") == time.strftime("%Y-%m-%d") else 0.0


def add_today(ws: Workspace, seconds: float) -> None:
    """Count ``seconds`` of work towards today's total shown in the queue header."""
    ws.set_ui_state(today_key(ws), {"date": time.strftime("%Y-%m-%d"), "seconds": today_seconds(ws) + seconds})
