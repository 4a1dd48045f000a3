"""Who is editing a row: claims recorded in the database, kept alive by a heartbeat.

A claim is live while its heartbeat is younger than STALE_AFTER seconds and,
when the holder is on this host, its process still runs. The holder refreshes
the heartbeat from a thread every HEARTBEAT_EVERY seconds. Each Workspace
object has its own token, so two windows in one process are distinct holders.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

STALE_AFTER = 60.0
HEARTBEAT_EVERY = 15.0


@dataclass(frozen=True)
class Holder:
    user: str = field(default_factory=lambda: _user())  # defined below
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    annotator: str = ""  # the person, as the config or $NODEFIX_ANNOTATOR names them

    def describe(self) -> str:
        where = f"{self.user}@{self.host} pid {self.pid}"
        return f"{self.annotator} · {where}" if self.annotator else where


def is_live(claim: sqlite3.Row, me: Holder, now: float | None = None) -> bool:
    """Whether a stored claim still holds: heartbeat fresh and, on this host, its process alive."""
    now = time.time() if now is None else now
    if claim["heartbeat"] < now - STALE_AFTER:
        return False
    return claim["host"] != me.host or _pid_alive(claim["pid"])


class Heartbeat:
    """A daemon thread calling ``beat`` every HEARTBEAT_EVERY seconds until stopped."""

    def __init__(self, beat: Callable[[], None]) -> None:
        self._beat = beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nodefix-claim-heartbeat", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            # a busy or closed database: the next beat tries again, a missed one only ages the claim
            with contextlib.suppress(sqlite3.Error):
                self._beat()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"
