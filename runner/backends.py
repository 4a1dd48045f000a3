"""Sandbox backends behind one interface: each turns a RunSpec into a host command line.

Everything after the command line (the pty, streaming, timers, verdicts) is
shared and lives in ``runner.execute``; a backend only knows how to lay out
the scratch folder, how to wrap the script's command, and how to recognise
its own failures.

- ``local``: the script runs as a plain subprocess, in a network and pid
  namespace when ``unshare`` allows it. Not a container.
- ``bubblewrap``: ``bwrap`` with every namespace unshared (a user namespace
  as an unprivileged user, also when nodefix is root: ``runner.sandbox_user``),
  no capabilities, the system and ``/proc/sys`` read-only, only the scratch
  folder and a sized /tmp writable.
- ``apptainer``: the client's container image.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from runner.data_links import link_binds
from runner.devices import device_binds, passes_gpus
from runner.run_env import run_variables
from runner.sandbox_user import SANDBOX_ID, Bind, give_to_sandbox, staged, staging_problem
from runner.spec import SCRIPT_NAME, RunSpec
from workspace.competition import checked_competition_id
from workspace.config import RunSettings
from workspace.errors import InputError
from workspace.sizes import parse_memory_limit

BACKENDS = ("auto", "bubblewrap", "local", "apptainer")
BWRAP_WORKDIR = "/sandbox/work"
APPTAINER_WORKDIR = "/work"
DATA_NAME = "data"
_SYSTEM_DIRS = ("/usr", "/etc")
_SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64")
_PATH = "/usr/local/bin:/usr/bin:/bin"


class Backend(Protocol):
    name: str

    def check(self, settings: RunSettings) -> str | None:
        """None if usable here, else why not, in one line."""

    def command(self, spec: RunSpec) -> list[str]:
        """The full host argv that runs the sandbox's interpreter on ``spec.python_args`` in the sandbox."""

    def host_env(self, spec: RunSpec) -> dict[str, str]:
        """The environment the host command starts with."""

    def prepare(self, spec: RunSpec) -> None:
        """Lay out the scratch folder: ``./data`` and the read-only binds."""

    def notices(self, settings: RunSettings) -> list[str]:
        """Lines nodefix prints before the script's output (warnings about isolation)."""

    def address_space_limit(self, settings: RunSettings) -> int | None:
        """RLIMIT_AS for the run in bytes (from run.memory_limit), or None for none."""


def data_dir(settings: RunSettings, competition_id: str) -> Path:
    """Where MLE-bench keeps a competition's prepared public data (InputError for an id that is no name)."""
    return Path(settings.data_root).expanduser() / checked_competition_id(competition_id) / "prepared" / "public"


def sandbox_python(settings: RunSettings, backend_name: str) -> str:
    """The interpreter that runs scripts: the configured one, else this one (or ``python`` in a container)."""
    if settings.python:
        return settings.python
    return "python" if backend_name == "apptainer" else sys.executable


def script_argv(spec: RunSpec, python: str) -> list[str]:
    return [python, *(spec.python_args or [SCRIPT_NAME])]


def sandbox_env(spec: RunSpec, home: str, python: str) -> dict[str, str]:
    """The clean environment a script sees: nothing of the annotator's own."""
    python_dir = os.path.dirname(python)
    path = f"{python_dir}:{_PATH}" if python_dir else _PATH
    return {
        "HOME": home,
        "PATH": path,
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "MPLBACKEND": "Agg",
        **run_variables(spec.settings, spec.cpus, spec.gpus),
        **spec.env,
    }


def _host_python(settings: RunSettings) -> str | None:
    """The interpreter's absolute path on this machine, or None if it is not there."""
    python = sandbox_python(settings, "local")
    found = shutil.which(python)
    return os.path.abspath(found) if found else None


def _python_problem(settings: RunSettings) -> str | None:
    if _host_python(settings) is None:
        return f"python not found: {sandbox_python(settings, 'local')!r} (run.python)"
    return None


class LocalBackend:
    """A plain subprocess; the network and pid namespaces come from ``unshare`` when it works."""

    name = "local"

    def check(self, settings: RunSettings) -> str | None:
        return _python_problem(settings)

    def address_space_limit(self, settings: RunSettings) -> int | None:
        return parse_memory_limit(settings.memory_limit)

    def notices(self, settings: RunSettings) -> list[str]:
        lines = [
            "nodefix: WARNING: local backend, NOT a container: the script can read and write anything this user can."
        ]
        if not namespace_prefix():
            lines.append(f"nodefix: WARNING: the network is NOT cut for this run ({_unshare_problem()}).")
        return lines

    def prepare(self, spec: RunSpec) -> None:
        _link(spec.scratch / DATA_NAME, data_dir(spec.settings, spec.competition_id))
        for name, host in spec.read_only_binds.items():
            _link(spec.scratch / name, host)

    def command(self, spec: RunSpec) -> list[str]:
        python = _host_python(spec.settings) or sandbox_python(spec.settings, self.name)
        prefix = namespace_prefix()
        if not prefix:
            return script_argv(spec, python)
        # The first process of a pid namespace ignores signals it has no handler for,
        # even its own SIGKILL; a shell takes that place so the script behaves as usual.
        return [*prefix, "/bin/sh", "-c", '"$@"; exit $?', "sh", *script_argv(spec, python)]

    def host_env(self, spec: RunSpec) -> dict[str, str]:
        python = _host_python(spec.settings) or sandbox_python(spec.settings, self.name)
        return sandbox_env(spec, str(spec.scratch), python)


def namespace_prefix() -> list[str]:
    """``unshare`` options that cut the network and give the run its own pid namespace, [] if impossible."""
    prefix = _namespace_candidate()
    return prefix if _unshare_problem() is None else []


def _namespace_candidate() -> list[str]:
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", *user, "--net", "--pid", "--fork", "--kill-child"]


@functools.lru_cache(maxsize=1)
def _unshare_problem() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    return _probe([*_namespace_candidate(), "true"], "unshare")


def _probe(argv: list[str], what: str) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{what} failed: {exc}"
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return f"{what} failed: {reason}"
    return None


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(Path(target).expanduser().resolve(), target_is_directory=True)


class BubblewrapBackend:
    """``bwrap``: no network, own pid and user namespace, no capabilities, read-only system, sized /tmp."""

    name = "bubblewrap"

    def check(self, settings: RunSettings) -> str | None:
        if shutil.which("bwrap") is None:
            return "bwrap is not installed (apt install bubblewrap)"
        return staging_problem() or _bwrap_problem() or _python_problem(settings)

    def address_space_limit(self, settings: RunSettings) -> int | None:
        # CUDA reserves far more address space than memory: under RLIMIT_AS it fails to start.
        return None if passes_gpus(settings) else parse_memory_limit(settings.memory_limit)

    def notices(self, settings: RunSettings) -> list[str]:
        return []

    def prepare(self, spec: RunSpec) -> None:
        _mount_points(spec)
        give_to_sandbox(spec.scratch)

    def command(self, spec: RunSpec) -> list[str]:
        python = _host_python(spec.settings) or sandbox_python(spec.settings, self.name)
        launcher, binds = staged(_bwrap_binds(spec, python))
        argv = [
            *launcher,
            "bwrap",
            *_bwrap_isolation(),
            *_bwrap_system(),
            *_bwrap_kernel_views(spec.settings),
            *binds,
            "--remount-ro",
            "/",
            "--chdir",
            BWRAP_WORKDIR,
            *_bwrap_environment(spec, python),
        ]
        return [*argv, "--", *script_argv(spec, python)]

    def host_env(self, spec: RunSpec) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", _PATH), "LANG": "C.UTF-8"}


def _bwrap_isolation() -> list[str]:
    """Every namespace, an unprivileged user inside, no capabilities, no nested user namespaces."""
    return [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(SANDBOX_ID),
        "--gid",
        str(SANDBOX_ID),
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
    ]


def _bwrap_system() -> list[str]:
    """The host's system folders, read-only."""
    argv: list[str] = []
    for path in _SYSTEM_DIRS:
        argv += ["--ro-bind", path, path]
    for path in _SYSTEM_LINKS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    return argv


def _bwrap_kernel_views(settings: RunSettings) -> list[str]:
    """/proc with /proc/sys read-only, a minimal /dev, and a /tmp no larger than the memory cap."""
    tmp_size = parse_memory_limit(settings.memory_limit)
    return ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev"] + [
        "--size",
        str(tmp_size),
        "--tmpfs",
        "/tmp",
    ]


def _bwrap_binds(spec: RunSpec, python: str) -> list[Bind]:
    """What the run needs beyond the system: the CPU view and GPUs, the interpreter, scratch, data, read-only binds.

    After /tmp, so that a Python living under /tmp (a venv of a checkout there) is bound over it.
    """
    binds = device_binds(spec.settings)
    binds += [Bind(path, path) for path in _python_dirs(python)]
    binds.append(Bind(str(spec.scratch), BWRAP_WORKDIR, writable=True))
    data = data_dir(spec.settings, spec.competition_id)
    binds.append(Bind(str(data), f"{BWRAP_WORKDIR}/{DATA_NAME}"))
    binds += [Bind(host, inside) for host, inside in link_binds(data, f"{BWRAP_WORKDIR}/{DATA_NAME}")]
    binds += [Bind(str(host), f"{BWRAP_WORKDIR}/{name}") for name, host in spec.read_only_binds.items()]
    return binds


def _bwrap_environment(spec: RunSpec, python: str) -> list[str]:
    argv = ["--clearenv"]
    for key, value in sandbox_env(spec, BWRAP_WORKDIR, python).items():
        argv += ["--setenv", key, value]
    return argv


@functools.lru_cache(maxsize=1)
def _bwrap_problem() -> str | None:
    launcher, _ = staged([])
    problem = _probe([*launcher, "bwrap", *_bwrap_isolation(), "--ro-bind", "/", "/", "true"], "bwrap")
    if problem and "namespace" in problem.lower():
        return f"{problem} (user namespaces are off: sysctl kernel.unprivileged_userns_clone=1)"
    return problem


def _python_dirs(python: str) -> list[str]:
    """The folders the interpreter needs, outside the system folders already bound."""
    candidates = {
        os.path.dirname(os.path.dirname(os.path.abspath(python))),
        os.path.dirname(os.path.dirname(os.path.realpath(python))),
    }
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        candidates |= {sys.prefix, sys.base_prefix}
    bound = [*_SYSTEM_DIRS, *_SYSTEM_LINKS]
    dirs = sorted(os.path.realpath(c) for c in candidates)
    kept: list[str] = []
    for path in dirs:
        if path == "/" or any(_is_within(path, other) for other in [*bound, *kept]):
            continue
        kept.append(path)
    return kept


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _mount_points(spec: RunSpec) -> None:
    """Empty folders in scratch where the sandbox mounts the data and the read-only binds."""
    for name in [DATA_NAME, *spec.read_only_binds]:
        (spec.scratch / name).mkdir(parents=True, exist_ok=True)


class ApptainerBackend:
    """``apptainer exec`` on the configured image: no network, clean environment, GPU passed through."""

    name = "apptainer"

    def check(self, settings: RunSettings) -> str | None:
        if not settings.image:
            return "no apptainer image configured (run.image)"
        if not Path(settings.image).expanduser().exists():
            return f"apptainer image not found: {settings.image}"
        if shutil.which("apptainer") is None:
            return "apptainer is not installed (not on PATH)"
        return None

    def address_space_limit(self, settings: RunSettings) -> int | None:
        # CUDA reserves far more address space than memory: under RLIMIT_AS it fails to start.
        return None if settings.gpu else parse_memory_limit(settings.memory_limit)

    def notices(self, settings: RunSettings) -> list[str]:
        return []

    def prepare(self, spec: RunSpec) -> None:
        _mount_points(spec)

    def command(self, spec: RunSpec) -> list[str]:
        settings = spec.settings
        argv = ["apptainer", "exec", "--contain", "--cleanenv", "--no-home", "--no-privs", "--pid", "--net"]
        argv += ["--network", "none"]
        if settings.gpu:
            argv.append("--nv")
        data = data_dir(settings, spec.competition_id)
        argv += ["--bind", f"{spec.scratch}:{APPTAINER_WORKDIR}"]
        argv += ["--bind", f"{data}:{APPTAINER_WORKDIR}/{DATA_NAME}:ro"]
        for host, inside in link_binds(data, f"{APPTAINER_WORKDIR}/{DATA_NAME}"):
            argv += ["--bind", f"{host}:{inside}:ro"]
        for name, folder in spec.read_only_binds.items():
            argv += ["--bind", f"{folder}:{APPTAINER_WORKDIR}/{name}:ro"]
        argv += ["--pwd", APPTAINER_WORKDIR]
        python = sandbox_python(settings, self.name)
        for key, value in sandbox_env(spec, APPTAINER_WORKDIR, python).items():
            if key not in ("HOME", "PATH"):  # the image's own PATH finds its python; --no-home owns HOME
                argv += ["--env", f"{key}={value}"]
        return [*argv, str(Path(settings.image).expanduser()), *script_argv(spec, python)]

    def host_env(self, spec: RunSpec) -> dict[str, str]:
        return dict(os.environ)


_BY_NAME: dict[str, type[Backend]] = {
    "local": LocalBackend,
    "bubblewrap": BubblewrapBackend,
    "apptainer": ApptainerBackend,
}


def get_backend(settings: RunSettings) -> Backend:
    """The configured backend; ``auto`` is bubblewrap when it works here, else local."""
    name = settings.backend
    if name not in BACKENDS:
        raise InputError(f"run.backend: unknown backend {name!r} (one of {', '.join(BACKENDS)})")
    if name == "auto":
        bubblewrap = BubblewrapBackend()
        return bubblewrap if bubblewrap.check(settings) is None else LocalBackend()
    return _BY_NAME[name]()


def all_backends() -> list[Backend]:
    return [BubblewrapBackend(), LocalBackend(), ApptainerBackend()]
