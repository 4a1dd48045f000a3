"""The step's fix as a file on disk, for $EDITOR and for editors in other terminals.

The file mirrors the code editor: it is written when the fix is saved, and a
watchdog observer notices when another program writes it. Telling our own
writes from theirs is by content: a change is only reported when the file
holds something we neither wrote nor already have.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver


class _Handler(FileSystemEventHandler):
    def __init__(self, path: Path, on_change: Callable[[], None]) -> None:
        self._path = path
        self._on_change = on_change

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Editors save by writing in place or by renaming a temporary file over the target.
        touched = {str(event.src_path), str(getattr(event, "dest_path", "") or "")}
        if event.event_type in ("modified", "created", "moved", "closed") and str(self._path) in touched:
            self._on_change()


class FixFile:
    """``path`` holding the fix; ``on_change`` is called from a watchdog thread and must not block."""

    def __init__(self, path: Path, text: str, on_change: Callable[[], None] | None) -> None:
        self.path = path.resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._known = ""  # what we last wrote or took from the file
        self.write(text)
        self._observer: BaseObserver | None = None  # Observer is a variable (the platform's class), not a type
        if on_change is not None:
            self._observer = Observer()
            self._observer.daemon = True
            self._observer.schedule(_Handler(self.path, on_change), str(self.path.parent), recursive=False)
            self._observer.start()

    def write(self, text: str) -> None:
        self._known = text
        self.path.write_text(text, encoding="utf-8")

    def new_text(self, current: str) -> str | None:
        """What another program wrote, if it differs from ours and from ``current``; else None."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if text in (self._known, current):
            return None
        self._known = text
        return text

    def close(self) -> None:
        # No join: the daemon thread ends by itself, and the UI must not wait for inotify's next read.
        if self._observer is not None:
            self._observer.stop()
            self._observer = None
