"""The dataset's ids kept beside the workspace's database, so a workspace opens without reading the id column.

Reading a million ids out of the parquet takes a fifth of a second; the copy here
is an Arrow IPC file that is memory-mapped, so opening it costs about a millisecond
and no memory until the ids are looked at. It is written once, when the ids were
read from the parquet, and is used only while it names the same dataset
fingerprint as the workspace and has as many ids as the parquet has rows; otherwise the
ids are read from the parquet again (and the copy rewritten).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

FILE_NAME = "ids.arrow"
_FINGERPRINT_KEY = b"dataset_fingerprint"


@dataclass(frozen=True)
class IdCache:
    path: Path  # the workspace's copy of the ids
    fingerprint: str  # the dataset the workspace was made from

    def read(self, num_rows: int) -> pa.ChunkedArray | None:
        """The ids as read from the parquet; None when the copy is missing, of another dataset, or damaged."""
        try:
            if not self.path.is_file() or self.path.is_symlink():
                return None
            reader = pa.ipc.open_file(pa.memory_map(str(self.path)))
            metadata = reader.schema.metadata or {}
            if metadata.get(_FINGERPRINT_KEY) != self.fingerprint.encode():
                return None
            ids = reader.read_all().column("id")
        except (pa.ArrowException, OSError, KeyError):
            return None
        if not pa.types.is_string(ids.type) or len(ids) != num_rows:
            return None
        return ids

    def write(self, ids: pa.ChunkedArray) -> None:
        """Keep ``ids`` for the next open; a folder that cannot be written to (read-only, full) just goes without."""
        if not pa.types.is_string(ids.type):
            return  # binary or large ids are rare: read from the parquet each time
        schema = pa.schema([("id", ids.type)], metadata={_FINGERPRINT_KEY: self.fingerprint.encode()})
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        try:
            with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
                for chunk in ids.chunks:
                    writer.write_batch(pa.record_batch([chunk], schema=schema))
            os.replace(partial, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink()
