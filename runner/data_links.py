"""Data roots built of symlinks, as users make them (``cp -rs``, ``ln -s`` per file), inside a sandbox.

A sandbox binds the competition's data folder at ``./data``; a symlink in it
points at a path the sandbox does not have. For every symlink the folder
holding its resolved target is bound read-only where the link leads inside
the sandbox (its own host path for an absolute link), so the links resolve
as on the host.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from workspace.errors import InputError

MAX_ENTRIES = 2_000_000  # a walk past this many files is stopped with an error rather than left to run
MAX_BINDS = 512  # distinct target folders; past this the data root must be made of real files


def link_binds(data: Path, inside: str) -> list[tuple[str, str]]:
    """(host folder, sandbox folder) pairs that make the symlinks under ``data`` (seen at ``inside``) resolve.

    The walk is remembered while the data folder's own modification time stays
    the same: a batch of runs on one competition walks it once.
    """
    try:
        changed = os.stat(data).st_mtime_ns
    except OSError:
        return []
    return list(_link_binds(str(data), inside, changed))


@functools.lru_cache(maxsize=64)
def _link_binds(data_text: str, inside: str, changed: int) -> tuple[tuple[str, str], ...]:
    data = Path(data_text)
    binds: dict[str, str] = {}
    seen = 0
    for folder, dirs, files in os.walk(data):
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            raise InputError(f"{data}: more than {MAX_ENTRIES} files in the data folder")
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                continue
            target = os.path.realpath(path)
            if not os.path.exists(target) or _is_within(target, str(data.resolve())):
                continue  # a broken link stays broken; a link within the data folder works as it is
            link_in_sandbox = os.path.join(inside, os.path.relpath(path, data))
            leads_to = os.path.normpath(os.path.join(os.path.dirname(link_in_sandbox), os.readlink(path)))
            if os.path.isdir(target):
                binds.setdefault(leads_to, target)
            else:
                binds.setdefault(os.path.dirname(leads_to), os.path.dirname(target))
    kept = _outermost(binds)
    if len(kept) > MAX_BINDS:
        raise InputError(f"{data}: its symlinks lead into {len(kept)} folders (at most {MAX_BINDS} can be shown)")
    return tuple((host, sandbox) for sandbox, host in sorted(kept.items()))


def _outermost(binds: dict[str, str]) -> dict[str, str]:
    """Drop the binds that lie inside another bind of the same host folder tree."""
    kept: dict[str, str] = {}
    for sandbox in sorted(binds, key=len):
        host = binds[sandbox]
        covered = any(
            _is_within(sandbox, outer) and os.path.relpath(sandbox, outer) == os.path.relpath(host, kept[outer])
            for outer in kept
        )
        if not covered:
            kept[sandbox] = host
    return kept


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")
