"""Reading back what a sandbox wrote: never through a symlink, only regular files, never more than a bound.

The script owns its scratch folder: any name in it may be a symlink to a host
file, a FIFO that blocks the reader, or a file larger than the host's memory.
Every host-side reader of scratch (the submission, the trace and its meta, the
demo driver's result, the grade result) goes through here.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

_CHUNK = 1024 * 1024


class Refused(Exception):
    """A file the sandbox left that the host will not read; ``str()`` says why, in one line."""


def open_untrusted(path: Path, max_bytes: int | None) -> int:
    """A read-only descriptor on ``path`` after checking it: not a symlink, a regular file, at most ``max_bytes``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise
        if exc.errno == errno.ELOOP:
            raise Refused(f"{path}: refused: a symlink (the sandbox may not point the host at its files)") from None
        raise Refused(f"{path}: refused: cannot open ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise Refused(f"{path}: refused: not a regular file")
    if max_bytes is not None and info.st_size > max_bytes:
        os.close(fd)
        raise Refused(f"{path}: refused: {info.st_size} bytes, more than the {max_bytes} allowed")
    return fd


def read_untrusted(path: Path, max_bytes: int) -> bytes:
    """The whole file, checked as ``open_untrusted`` does; stops at ``max_bytes`` even if it grows meanwhile."""
    fd = open_untrusted(path, max_bytes)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Refused(f"{path}: refused: grew past the {max_bytes} bytes allowed while read")
    return data


def read_untrusted_text(path: Path, max_bytes: int) -> str:
    return read_untrusted(path, max_bytes).decode("utf-8", errors="replace")


def copy_untrusted(path: Path, target: Path, max_bytes: int | None) -> None:
    """Copy ``path`` out of scratch into a file the host owns (``target``, created fresh), bounded."""
    fd = open_untrusted(path, max_bytes)
    copied = 0
    with os.fdopen(fd, "rb") as source, open(target, "xb") as out:
        while chunk := source.read(_CHUNK):
            copied += len(chunk)
            if max_bytes is not None and copied > max_bytes:
                out.close()
                target.unlink()
                raise Refused(f"{path}: refused: grew past the {max_bytes} bytes allowed while copied")
            out.write(chunk)


def is_regular_file(path: Path) -> bool:
    """True for a regular file that is not a symlink (``Path.is_file`` follows symlinks)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def remove_tree(path: Path) -> None:
    """Delete ``path`` without following any symlink in it."""
    if os.path.islink(path) or not os.path.isdir(path):
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)  # rmtree never follows symlinks inside the tree
