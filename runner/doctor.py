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
from dataclasses import dataclass
from pathlib import Path

from runner.backends import Backend, all_backends, get_backend
from runner.execute import execute
from runner.executors.slurm import slurm_finding
from runner.limits import pids_hierarchy
from runner.spec import RunSpec
from workspace.config import Config, RunSettings

PROBE_COMPETITION = "nodefix-doctor"
_PROBE_SECONDS = 30.0
_PROBE_CODE = """\
import platform, socket
print("PYTHON", platform.python_version())
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


def diagnose(config: Config) -> list[Finding]:
    """One finding per backend, then the data, the process cap, grading, tracing and the config files."""
    findings = [_backend_finding(backend, config.run) for backend in all_backends()]
    findings.append(_auto_finding(config.run))
    findings.append(_data_finding(config.run))
    findings.append(_process_cap_finding())
    findings.append(_grade_finding(config))
    findings.append(_tracer_finding(config))
    findings.append(slurm_finding(config.cluster))
    sources = ", ".join(str(p) for p in config.sources) or "none (built-in defaults)"
    findings.append(Finding("config", True, f"files read: {sources}"))
    return findings


def _backend_finding(backend: Backend, settings: RunSettings) -> Finding:
    probe_settings = dataclasses.replace(settings, backend=backend.name)
    problem = backend.check(probe_settings)
    if problem is not None:
        return Finding(backend.name, False, problem)
    python, network = probe(probe_settings)
    if python is None:
        return Finding(backend.name, False, f"probe failed: {network}")
    warnings = [n.split("WARNING: ", 1)[-1].split(":")[0] for n in backend.notices(probe_settings)]
    text = "; ".join([f"ok: Python {python}, network {network}", *warnings])
    return Finding(backend.name, network == "cut", text)


def probe(settings: RunSettings) -> tuple[str | None, str]:
    """(the sandbox Python's version, "cut" / "OPEN" / why the probe failed), from a real run."""
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
        return None, result.verdict.detail
    network = words.get("NETWORK", "not tested")
    return words["PYTHON"].strip(), "cut" if network.startswith("cut") else "OPEN (reached 127.0.0.1)"


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


def _data_finding(settings: RunSettings) -> Finding:
    root = Path(settings.data_root).expanduser()
    if not root.is_dir():
        return Finding("data", False, f"{root}: not found (run.data_root; made by mlebench prepare)")
    prepared = sorted(p.name for p in root.iterdir() if (p / "prepared" / "public").is_dir())
    if not prepared:
        return Finding("data", False, f"{root}: no prepared competitions")
    shown = ", ".join(prepared[:8]) + (f", ... ({len(prepared)} in all)" if len(prepared) > 8 else "")
    return Finding("data", True, f"{root}: {shown}")


def _process_cap_finding() -> Finding:
    if os.geteuid() != 0:
        return Finding("processes", True, "capped by RLIMIT_NPROC (run.max_processes)")
    hierarchy = pids_hierarchy()
    if hierarchy is None:
        return Finding("processes", False, "NOT capped: running as root without a writable pids cgroup")
    return Finding("processes", True, f"capped by a pids cgroup under {hierarchy} (run.max_processes)")


def _grade_finding(config: Config) -> Finding:
    checkout = config.grade.checkout
    if checkout is None:
        return Finding("grade", False, "no checkout set (grade.checkout)")
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
