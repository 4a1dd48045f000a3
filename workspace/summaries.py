"""The queue's view of every row, as columns: a million-row queue holds no object per row.

The store is read only for the rows it knows (a saved status, steps, runs, or a claim by someone
else); every other row is untouched, with one step, no time spent and no run, and its
:class:`RowSummary` is made when it is asked for. Filters are answered per column, as numpy
arrays of row numbers in file order (:class:`RowSelection`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workspace.arrow_numbers import arrow_rows
from workspace.dataset import Dataset

UNTOUCHED = "untouched"
NO_VERDICT = "none"  # the verdict filter's word for a row that has no replication
_BLOCK_ROWS = 65536  # rows whose ids are turned into Python strings at a time


@dataclass(slots=True)
class RowSummary:
    id: str
    competition_id: str
    status: str
    reject_reason: str | None
    n_steps: int
    time_spent: float
    verdict: str | None  # verdict kind of the row's latest replication (a run of the recorded code)
    match: str | None  # that run's match against the recorded output
    claimed_by: str | None  # "user@host pid N" when another live process holds the row
    error_type: str | None = None  # the replication's exception type ("KeyError"), else its verdict kind
    fix_verdict: str | None = None  # verdict kind of the latest run of a fix
    starved: str | None = None  # "starved: cpu X s of wall Y s" when the replication's time_limit was starved


def untouched(row_id: str, competition_id: str) -> RowSummary:
    """The summary of a row the store knows nothing of."""
    return RowSummary(row_id, competition_id, UNTOUCHED, None, 1, 0.0, None, None, None)


class RowSelection(Sequence[str]):
    """Some rows of the dataset in file order: their row numbers, their ids read when asked for."""

    def __init__(self, dataset: Dataset, rows: np.ndarray) -> None:
        self.dataset = dataset
        self.rows = rows  # ascending row numbers

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, position: int) -> str:  # type: ignore[override]
        return self.dataset.ids[int(self.rows[position])]

    def position(self, row_id: str) -> int | None:
        """Where ``row_id`` is in the selection, None when it is not in it."""
        if row_id not in self.dataset:
            return None
        row = self.dataset.index_of(row_id)
        position = int(np.searchsorted(self.rows, row))
        return position if position < len(self.rows) and self.rows[position] == row else None

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


class Summaries(Sequence[RowSummary]):
    """Every row's summary, in file order; ``saved`` holds those of the rows the store knows, by row number."""

    def __init__(self, dataset: Dataset, competitions: pa.ChunkedArray, saved: dict[int, RowSummary]) -> None:
        self.dataset = dataset
        self._competitions = competitions
        self._ids = dataset.text_column("id")
        self.saved = saved

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> RowSummary:  # type: ignore[override]
        row = range(len(self))[i]
        found = self.saved.get(row)
        return found if found is not None else untouched(self._ids[row].as_py(), self._competitions[row].as_py())

    def __iter__(self) -> Iterator[RowSummary]:
        return self.of_rows(None)

    def of_rows(self, rows: np.ndarray | None) -> Iterator[RowSummary]:
        """The summaries of ``rows`` (row numbers; None: every row) in their order, made a block at a time."""
        count = len(self) if rows is None else len(rows)
        for start in range(0, count, _BLOCK_ROWS):
            stop = min(count, start + _BLOCK_ROWS)
            if rows is None:
                numbers: Sequence[int] = range(start, stop)
                ids, competitions = self._ids[start:stop], self._competitions[start:stop]
            else:
                numbers = rows[start:stop].tolist()
                taken = arrow_rows(rows[start:stop])
                ids, competitions = self._ids.take(taken), self._competitions.take(taken)
            for row, row_id, competition in zip(numbers, ids.to_pylist(), competitions.to_pylist(), strict=True):
                found = self.saved.get(row)
                yield found if found is not None else untouched(row_id, competition)

    def select(
        self,
        *,
        status: str | None = None,
        verdict: str | None = None,
        competition: str | None = None,
        among: np.ndarray | None = None,
    ) -> RowSelection:
        """The rows with this status, verdict word ("none": no replication) and competition, and in ``among``."""
        keep = np.ones(len(self), dtype=bool)
        if status:
            keep &= self._saved_or_default(lambda s: s.status == status, status == UNTOUCHED)
        if verdict:
            keep &= self._saved_or_default(lambda s: (s.verdict or NO_VERDICT) == verdict, verdict == NO_VERDICT)
        if competition:
            keep &= self._mask(self.dataset.rows_equal("competition_id", competition))
        if among is not None:
            keep &= self._mask(among)
        return RowSelection(self.dataset, np.flatnonzero(keep))

    def _saved_or_default(self, test, untouched_passes: bool) -> np.ndarray:
        """Per row: ``test`` of its saved summary, ``untouched_passes`` for the rows the store does not know."""
        keep = np.full(len(self), untouched_passes, dtype=bool)
        if self.saved:
            keep[np.fromiter(self.saved, dtype=np.int64, count=len(self.saved))] = [
                test(s) for s in self.saved.values()
            ]
        return keep

    def _mask(self, rows: np.ndarray) -> np.ndarray:
        keep = np.zeros(len(self), dtype=bool)
        keep[rows] = True
        return keep

    def verdict_words(self) -> list[str]:
        """The verdict words the rows have, sorted ("none" for a row without a replication)."""
        words = {s.verdict or NO_VERDICT for s in self.saved.values()}
        if len(self.saved) < len(self):
            words.add(NO_VERDICT)
        return sorted(words)

    def competition_ids(self) -> list[str]:
        """The competitions the rows belong to, sorted."""
        return sorted(pc.unique(self._competitions).to_pylist())
