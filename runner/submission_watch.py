"""Report ``submission.csv`` the moment a script writes it into its scratch folder."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from runner.spec import SUBMISSION_NAME


class SubmissionWatch(FileSystemEventHandler):
    """Watches one folder; calls ``on_submission`` once, from the watcher's thread."""

    def __init__(self, folder: Path, on_submission: Callable[[Path], None] | None) -> None:
        self.path = folder / SUBMISSION_NAME
        self._on_submission = on_submission
        self._reported = threading.Event()
        self._observer = Observer()
        self._observer.schedule(self, str(folder), recursive=False)

    def __enter__(self) -> SubmissionWatch:
        self._observer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._observer.stop()
        self._observer.join()
        # A file written before the watch started, or just before it stopped, still counts.
        if self.path.is_file():
            self._report()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("created", "modified", "moved", "closed"):
            return
        target = getattr(event, "dest_path", "") or event.src_path
        if Path(str(target)) == self.path:
            self._report()

    def _report(self) -> None:
        if self._reported.is_set():
            return
        self._reported.set()
        if self._on_submission is not None:
            self._on_submission(self.path)
