"""The scratch folder's disk cap while a run goes, and its trimming once it is over.

The cap is checked once a second from the run loop (``ScratchCap``); any one
file is also capped by RLIMIT_FSIZE in the child. After a run that left more
than ``KEEP_BYTES`` only what the annotator needs stays: the script, the head
of ``submission.csv``, and the files the caller asked to keep (a trace and its
meta); the rest (checkpoints, caches, downloaded models) is deleted.
"""

from __future__ import annotations

import os
from pathlib import Path

from runner.spec import SCRIPT_NAME, SUBMISSION_NAME, RunSpec
from runner.untrusted import is_regular_file, remove_tree

SUBMISSION_HEAD = 1024 * 1024  # bytes of submission.csv kept after the run
KEEP_BYTES = 64 * 1024 * 1024  # a scratch folder this small is kept whole


class ScratchCap:
    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit

    def exceeded(self) -> bool:
        return used_bytes(self.folder, stop_at=self.limit) > self.limit


def used_bytes(folder: Path, stop_at: int | None = None) -> int:
    """Bytes allocated under ``folder``, symlinks not followed; counting stops once past ``stop_at``."""
    total = 0
    stack = [str(folder)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
                if stop_at is not None and total > stop_at:
                    return total
    return total


def trim_scratch(spec: RunSpec) -> list[str]:
    """Delete what the annotator does not need; notes (for the run record) on what was cut."""
    keep = {SCRIPT_NAME, SUBMISSION_NAME, *spec.keep_files}
    notes = []
    used = used_bytes(spec.scratch)
    if used > KEEP_BYTES:
        with os.scandir(spec.scratch) as entries:
            doomed = [Path(entry.path) for entry in entries if entry.name not in keep]
        for path in doomed:
            remove_tree(path)
        notes.append(f"scratch: {used} bytes left by the run; deleted all but {', '.join(sorted(keep))}")
    submission = spec.scratch / SUBMISSION_NAME
    if is_regular_file(submission):
        fd = os.open(submission, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            if size > SUBMISSION_HEAD:
                os.ftruncate(fd, SUBMISSION_HEAD)
                notes.append(f"{SUBMISSION_NAME}: kept its first {SUBMISSION_HEAD} of {size} bytes")
        finally:
            os.close(fd)
    return notes
