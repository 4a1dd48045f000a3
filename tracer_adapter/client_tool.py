"""The client's tracing tool: its files for a private copy, and its trace out of what it printed.

The tool is a folder with ``main.py``, ``requirements.txt`` and
``code_to_trace.py``; ``python main.py`` prints some log lines, then the CWM
trace of ``code_to_trace.py``. Runs go through a pty, so its newlines arrive
as ``\\r\\n`` and are turned back into ``\\n``.
"""

from __future__ import annotations

import mmap
from pathlib import Path

from tracer_adapter.cwm_tracer import FRAME_SEP
from workspace.errors import InputError

REQUIRED_FILES = ("main.py", "requirements.txt", "code_to_trace.py")
_SKIPPED_DIRS = {"__pycache__", ".git", ".venv", "venv", "data"}  # data: the sandbox mounts ./data there
_FRAME = FRAME_SEP.encode()
_COPY_CHUNK = 8 << 20


def client_files(folder: Path) -> dict[str, bytes]:
    """Every file of the tool (relative name -> content), for a private copy in the scratch folder."""
    if not folder.is_dir():
        raise InputError(f"trace.client_path: {folder} is not a folder")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise InputError(
            f"trace.client_path: {folder} has no {', '.join(missing)} "
            f"(the client's tracer needs {', '.join(REQUIRED_FILES)})"
        )
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not _SKIPPED_DIRS.intersection(relative.parts[:-1]):
            files[relative.as_posix()] = path.read_bytes()
    return files


def extract_trace(log_path: Path, out: Path) -> tuple[int, int] | None:
    """Write the trace part of the tool's output to ``out``: from the first ``<|frame_sep|>`` to the last.

    Returns the bytes dropped before and after it, or None when the output holds no trace.
    """
    if not log_path.is_file() or log_path.stat().st_size == 0:
        return None
    with open(log_path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        first = mm.find(_FRAME)
        if first < 0:
            return None
        end = mm.rfind(_FRAME) + len(_FRAME)
        with open(out, "wb") as target:
            carry = b""
            for offset in range(first, end, _COPY_CHUNK):
                chunk = carry + mm[offset : min(offset + _COPY_CHUNK, end)]
                carry = b"\r" if chunk.endswith(b"\r") else b""  # its "\n" may start the next chunk
                target.write(chunk[: len(chunk) - len(carry)].replace(b"\r\n", b"\n"))
            target.write(carry)
        return first, len(mm) - end
