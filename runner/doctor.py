"""What works on this machine: each backend, the data, the sandbox's Python and network, the settings.

Each usable backend is proven by a real run: a probe script prints the
sandbox Python's version and tries to reach a listener that the doctor
itself opens on 127.0.0.1, which must fail when the network is cut.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from runner.backends import Backend, all_backends, data_dir, get_backend
from runner.cgroups import hierarchy
from runner.devices import gpu_indices
from runner.execute import execute
from runner.executors.slurm import slurm_finding
from runner.sandbox_user import drops_privileges
from runner.spec import RunSpec
from workspace.config import Config, RunSettings
from workspace.mlebench import checkout_problem

PROBE_COMPETITION = "nodefix-doctor"
_PROBE_SECONDS = 30.0
_PROBE_CODE = """\
import os, platform, re, socket
print("PYTHON", platform.python_version())
print("GPUS", len([n for n in os.listdir("/dev") if re.fullmatch(r"nvidia[0-9]+", n)]))
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    print("NETWORK open")
except OSError as exc:
    print("NETWORK cut", type(exc).__name__)
"""


@dataclass(frozen=True)
class Finding:
    topic: str  # "bubblewrap", "data", "grade", ...
    ok: bool
    text: str
    optional: bool = False  # not ok only because an optional part is not set up: nothing is broken

    @property
    def level(self) -> str:
        """ok, optional (not configured, not needed) or broken (exit non-zero)."""
        return "ok" if self.ok else "optional" if self.optional else "broken"


def diagnose(config: Config, competition_ids: Iterable[str] = ()) -> list[Finding]:
    """One finding per backend, then the data, the process cap, grading, tracing, descriptions, the config files.

    ``competition_ids``: the dataset's competitions, to check the mle-bench checkout has their descriptions.
    """
    findings = [_backend_finding(backend, config.run) for backend in all_backends()]
    findings.append(_auto_finding(config.run))
    findings.append(_gpu_finding(config.run))
    findings.append(_data_finding(config.run))
    findings.append(_process_cap_finding())
    findings.append(_memory_cap_finding())
    findings.append(_sandbox_user_finding())
    findings.append(_grade_finding(config))
    findings.append(_tracer_finding(config))
    findings.append(_descriptions_finding(config, competition_ids))
    findings.append(_slurm_finding(config))
    sources = ", ".join(str(p) for p in config.sources) or "none (built-in defaults)"
    findings.append(Finding("config", True, f"files read: {sources}"))
    return findings


def _slurm_finding(config: Config) -> Finding:
    """The Slurm executor: broken only when ``cluster.executor = slurm`` asks for it, else ok or off."""
    if config.cluster.executor == "slurm":
        return slurm_finding(config.cluster)
    as_used = slurm_finding(dataclasses.replace(config.cluster, executor="slurm"))
    if not as_used.ok:  # Slurm missing or unreachable where nothing uses it: optional, not "ok"
        return Finding(
            "slurm", False, f"{as_used.text} (not used: cluster.executor = {config.cluster.executor})", optional=True
        )
    return slurm_finding(config.cluster)


def _backend_finding(backend: Backend, settings: RunSettings) -> Finding:
    probe_settings = dataclasses.replace(settings, backend=backend.name)
    problem = backend.check(probe_settings)
    if problem is not None:
        # A backend runs may use is broken when it fails; the others (apptainer without an image) are optional.
        wanted = settings.backend == backend.name or (settings.backend == "auto" and backend.name == "bubblewrap")
        return Finding(backend.name, False, problem, optional=not wanted)
    python, network, gpus = probe(probe_settings)
    if python is None:
        return Finding(backend.name, False, f"probe failed: {network}")
    warnings = [n.split("WARNING: ", 1)[-1].split(":")[0] for n in backend.notices(probe_settings)]
    seen = [f"{gpus} GPUs"] if gpu_indices(settings) else []  # a machine without any says so once, below
    text = "; ".join([", ".join([f"ok: Python {python}", f"network {network}", *seen]), *warnings])
    return Finding(backend.name, network == "cut", text)


def probe(settings: RunSettings) -> tuple[str | None, str, str]:
    """(the sandbox Python's version, "cut" / "OPEN" / why the probe failed, GPUs it sees), from a real run."""
    with tempfile.TemporaryDirectory(prefix="nodefix-doctor-") as tmp, _listener() as port:
        root = Path(tmp) / "data"
        (root / PROBE_COMPETITION / "prepared" / "public").mkdir(parents=True)
        probe_settings = dataclasses.replace(settings, data_root=root, time_limit=_PROBE_SECONDS)
        result = execute(
            RunSpec(
                code=_PROBE_CODE.format(port=port),
                competition_id=PROBE_COMPETITION,
                settings=probe_settings,
                run_dir=Path(tmp) / "run",
            )
        )
    words = dict(line.split(" ", 1) for line in result.output_tail.splitlines() if " " in line)
    if "PYTHON" not in words:
        return None, result.verdict.detail, "0"
    network = words.get("NETWORK", "not tested")
    gpus = words.get("GPUS", "0").strip()
    return words["PYTHON"].strip(), "cut" if network.startswith("cut") else "OPEN (reached 127.0.0.1)", gpus


class _listener:
    """A TCP listener on 127.0.0.1 for the probe to try; yields its port."""

    def __enter__(self) -> int:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(1)
        return self.socket.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.socket.close()


def _auto_finding(settings: RunSettings) -> Finding:
    chosen = get_backend(settings)
    return Finding(
        "backend",
        chosen.name != "local" or settings.backend == "local",
        f"configured {settings.backend!r}: runs use {chosen.name}",
    )


def _gpu_finding(settings: RunSettings) -> Finding:
    gpus = gpu_indices(settings)
    if not gpus:
        return Finding("gpu", True, f"no GPU on this machine (none matches {settings.gpu_devices}): runs use CPUs")
    if not settings.gpu:
        return Finding("gpu", True, f"{len(gpus)} GPUs on this machine; run.gpu = false: runs see none")
    return Finding("gpu", True, f"{len(gpus)} GPUs on this machine (GPUs a run sees: beside each backend above)")


def _data_finding(settings: RunSettings) -> Finding:
    root = Path(settings.data_root).expanduser()
    if not root.is_dir():
        return Finding("data", False, f"{root}: not found (run.data_root; made by mlebench prepare)")
    prepared = sorted(p.name for p in root.iterdir() if (p / "prepared" / "public").is_dir())
    if not prepared:
        return Finding("data", False, f"{root}: no prepared competitions")
    shown = ", ".join(prepared[:8]) + (f", ... ({len(prepared)} in all)" if len(prepared) > 8 else "")
    if get_backend(settings).check(settings) is not None:  # its own finding says why: not broken twice
        return Finding("data", True, f"{root}: {shown}; not listed inside a sandbox ({settings.backend} does not work)")
    listed, problem = _list_data_inside(settings, prepared[0])
    return Finding("data", problem is None, f"{root}: {shown}; {listed}")


_LIST_DATA = """\
import os
files = unreadable = 0
for folder, _, names in os.walk("data"):
    for name in names:
        files += 1
        try:
            open(os.path.join(folder, name), "rb").close()
        except OSError as exc:
            unreadable += 1
            if unreadable <= 3:
                print("UNREADABLE", os.path.join(folder, name), type(exc).__name__)
print("FILES", files, unreadable)
"""


def _list_data_inside(settings: RunSettings, competition: str) -> tuple[str, str | None]:
    """What a script sees in ``./data`` for ``competition``, from a real run: (a line for people, the problem)."""
    with tempfile.TemporaryDirectory(prefix="nodefix-doctor-") as tmp:
        result = execute(
            RunSpec(
                code=_LIST_DATA,
                competition_id=competition,
                settings=dataclasses.replace(settings, time_limit=_PROBE_SECONDS),
                run_dir=Path(tmp) / "run",
            )
        )
    lines = result.output_tail.splitlines()
    counts = next((line.split()[1:] for line in lines if line.startswith("FILES ")), None)
    if counts is None:
        problem = f"./data of {competition} could not be listed in a sandbox: {result.verdict.detail}"
        return problem, problem
    files, unreadable = counts
    text = f"./data of {competition} in a {result.spec_backend} sandbox: {files} files"
    if unreadable == "0":
        return text, None
    broken = [line.split(" ", 1)[1] for line in lines if line.startswith("UNREADABLE ")]
    problem = f"{text}, {unreadable} unreadable ({'; '.join(broken)}; host folder {data_dir(settings, competition)})"
    return problem, problem


def _process_cap_finding() -> Finding:
    if os.geteuid() != 0:
        return Finding("processes", True, "capped by RLIMIT_NPROC (run.max_processes)")
    found = hierarchy("pids")
    if found is None:
        return Finding("processes", True, "capped by RLIMIT_NPROC once bubblewrap drops to nobody; NOT for local")
    return Finding("processes", True, f"capped by a pids cgroup under {found[0]} (run.max_processes)")


def _memory_cap_finding() -> Finding:
    found = hierarchy("memory")
    if found is None:
        return Finding(
            "memory",
            False,
            "per process only (RLIMIT_AS): no writable memory cgroup, so several processes may pass run.memory_limit",
        )
    base, version = found
    return Finding("memory", True, f"the whole run capped by a memory cgroup (v{version}) under {base}")


def _sandbox_user_finding() -> Finding:
    if drops_privileges():
        return Finding("sandbox user", True, "nodefix runs as root: bubblewrap sandboxes run as nobody (uid 65534)")
    return Finding("sandbox user", True, f"bubblewrap sandboxes run as this user (uid {os.getuid()})")


def _grade_finding(config: Config) -> Finding:
    checkout = config.grade.checkout
    if checkout is None:
        return Finding("grade", False, "not configured: no checkout set (grade.checkout)", optional=True)
    if not Path(checkout).is_dir():
        return Finding("grade", False, f"checkout not found: {checkout}")
    return Finding("grade", True, f"checkout {checkout}; command: {config.grade.command}")


def _tracer_finding(config: Config) -> Finding:
    trace = config.trace
    client = trace.client_path
    if client is None:
        client_text = "client tracer not set (trace.client_path)"
    elif (Path(client) / "main.py").is_file():
        client_text = f"client tracer at {client}"
    else:
        client_text = f"client tracer missing: no main.py in {client}"
    ok = trace.tracer != "client" or (client is not None and (Path(client) / "main.py").is_file())
    return Finding("tracer", ok, f"using {trace.tracer}; {client_text}")


def _descriptions_finding(config: Config, competition_ids: Iterable[str]) -> Finding:
    checkout = config.ui.mlebench_checkout
    if checkout is None:
        return Finding(
            "descriptions", False, "not configured: no mle-bench checkout (ui.mlebench_checkout)", optional=True
        )
    problem = checkout_problem(Path(checkout), competition_ids)
    return Finding("descriptions", problem is None, problem or f"competition descriptions from {checkout}")
