"""Notice when a file is changed by another program (an editor in another tmux pane)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class _Handler(FileSystemEventHandler):
    def __init__(self, path: Path, on_change: Callable[[], None]) -> None:
        self._path = path
        self._on_change = on_change

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Editors save by writing in place or by renaming a temporary file over the target.
        touched = {str(event.src_path), str(getattr(event, "dest_path", "") or "")}
        if event.event_type in ("modified", "created", "moved", "closed") and str(self._path) in touched:
            self._on_change()


class FileWatcher:
    """Calls ``on_change`` (from a watchdog thread: it must not block) whenever ``path`` is written."""

    def __init__(self, path: Path, on_change: Callable[[], None]) -> None:
        self.path = path.resolve()
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.schedule(_Handler(self.path, on_change), str(self.path.parent), recursive=False)
        self._observer.start()

    def stop(self) -> None:
        # No join: the daemon thread ends by itself, and the UI must not wait for inotify's next read.
        self._observer.stop()
