"""Who a bubblewrap sandbox runs as: never the host's root, whoever starts nodefix.

As an ordinary user, bubblewrap maps that user into its user namespace. As
root, a user namespace alone is not enough: it maps host root into the sandbox,
so files owned by root (``/etc/shadow``, mode 640) stay readable as their
owner and root-owned ``/proc`` files writable. So as root the sandbox itself is
started as ``nobody``: an outer ``bwrap`` (still root, a mount namespace only)
binds every folder the sandbox needs into a staging tmpfs that ``nobody`` can
reach (the originals may sit under ``/root``, closed to other users), then
``setpriv`` drops to ``nobody`` and the inner, unprivileged ``bwrap`` builds the
sandbox from the staged copies. The scratch folder is handed to ``nobody``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

UNPRIVILEGED_ID = 65534  # nobody / nogroup
SANDBOX_ID = 1000  # the uid and gid the script sees inside the sandbox
_STAGE = "/tmp/nodefix-stage"  # (+ "-<n>") in the outer bwrap's own /tmp tmpfs, so nothing of the host's /tmp shows


@dataclass(frozen=True)
class Bind:
    """One host folder (or a device node) mounted into the sandbox."""

    source: str
    dest: str
    writable: bool = False
    device: bool = False  # a device node or a folder of them, usable as a device inside

    def args(self, source: str | None = None) -> list[str]:
        kind = "--dev-bind" if self.device else "--bind" if self.writable else "--ro-bind"
        return [kind, source or self.source, self.dest]


def drops_privileges() -> bool:
    """True when nodefix is root, so the sandbox must be started as another user."""
    return os.geteuid() == 0


def host_ids() -> tuple[int, int]:
    """The host uid and gid the sandbox runs as."""
    if drops_privileges():
        return UNPRIVILEGED_ID, UNPRIVILEGED_ID
    return os.getuid(), os.getgid()


def give_to_sandbox(folder: Path) -> None:
    """Make ``folder`` (made by nodefix, nothing of the script's yet) the sandbox user's, so it can write there."""
    if not drops_privileges():
        return
    uid, gid = host_ids()
    os.lchown(folder, uid, gid)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def staged(binds: list[Bind]) -> tuple[list[str], list[str]]:
    """(the command that starts the sandbox as the unprivileged user, the sandbox's bind arguments).

    Without root there is nothing to drop: the prefix is empty and the binds are as given.
    """
    if not drops_privileges():
        return [], [arg for bind in binds for arg in bind.args()]
    uid, gid = (str(n) for n in host_ids())
    outer = ["bwrap", "--dev-bind", "/", "/", "--tmpfs", "/tmp", "--die-with-parent"]
    inner: list[str] = []
    for number, bind in enumerate(binds):
        stage = f"{_STAGE}-{number}"
        outer += dataclasses.replace(bind, dest=stage).args()
        inner += bind.args(stage)
    setpriv = shutil.which("setpriv") or "setpriv"
    drop = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
    return [*outer, "--", *drop, "--"], inner


def staging_problem() -> str | None:
    """Why the sandbox cannot be started as another user here, or None."""
    if drops_privileges() and shutil.which("setpriv") is None:
        return "running as root needs setpriv (util-linux) to start the sandbox as nobody"
    return None
