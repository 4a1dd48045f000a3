"""What each backend builds and reports, without running a script."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from runner.backends import ApptainerBackend, BubblewrapBackend, LocalBackend, get_backend
from runner.run_env import THREAD_VARIABLES, usable_cpus
from runner.spec import RunSpec
from workspace.errors import InputError

pytestmark = pytest.mark.timeout(30)


def _spec(settings, tmp_path: Path, **changes) -> RunSpec:
    return RunSpec(
        code="print(1)\n", competition_id="tiny-competition", settings=settings, run_dir=tmp_path / "run", **changes
    )


def test_apptainer_builds_the_exact_command(make_settings, data_root, tmp_path):
    image = tmp_path / "client.sif"
    image.write_bytes(b"sif")
    tool = tmp_path / "tool"
    settings = make_settings("apptainer", image=str(image), gpu=True)
    spec = _spec(settings, tmp_path, read_only_binds={"tool": tool}, env={"SEED": "1"})
    scratch = tmp_path / "run" / "scratch"
    public = data_root / "tiny-competition" / "prepared" / "public"
    assert ApptainerBackend().command(spec) == [
        "apptainer",
        "exec",
        "--contain",
        "--cleanenv",
        "--no-home",
        "--no-privs",
        "--pid",
        "--net",
        "--network",
        "none",
        "--nv",
        "--bind",
        f"{scratch}:/work",
        "--bind",
        f"{public}:/work/data:ro",
        "--bind",
        f"{tool}:/work/tool:ro",
        "--pwd",
        "/work",
        "--env",
        "LANG=C.UTF-8",
        "--env",
        "PYTHONUNBUFFERED=1",
        "--env",
        "MPLBACKEND=Agg",
        *[word for name in THREAD_VARIABLES for word in ("--env", f"{name}={len(usable_cpus())}")],
        "--env",
        "SEED=1",
        str(image),
        "python",
        "runfile.py",
    ]


def test_apptainer_without_gpu_and_with_its_own_argv(make_settings, tmp_path):
    settings = make_settings("apptainer", image="/images/client.sif", gpu=False, python="python3")
    argv = ApptainerBackend().command(_spec(settings, tmp_path, python_args=["tracer.py", "runfile.py"]))
    assert "--nv" not in argv
    assert argv[-4:] == ["/images/client.sif", "python3", "tracer.py", "runfile.py"]


def test_apptainer_check_names_what_is_missing(make_settings, tmp_path):
    backend = ApptainerBackend()
    assert backend.check(make_settings("apptainer")) == "no apptainer image configured (run.image)"
    missing = tmp_path / "gone.sif"
    assert backend.check(make_settings("apptainer", image=str(missing))) == f"apptainer image not found: {missing}"
    missing.write_bytes(b"")
    assert "apptainer is not installed" in backend.check(make_settings("apptainer", image=str(missing)))


def test_bubblewrap_isolates_and_binds_only_what_python_needs(make_settings, data_root, tmp_path):
    settings = make_settings("bubblewrap")
    command = BubblewrapBackend().command(_spec(settings, tmp_path))
    argv = command[command.index("bwrap", 1) :] if os.geteuid() == 0 else command
    assert argv[:12] == [
        "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        "1000",
        "--gid",
        "1000",
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
    ]
    staged = _staged_sources(command)
    pairs = {
        (argv[i], staged.get(argv[i + 1], argv[i + 1]), argv[i + 2])
        for i in range(len(argv) - 2)
        if argv[i].startswith("--")
    }
    public = data_root / "tiny-competition" / "prepared" / "public"
    assert ("--bind", str(tmp_path / "run" / "scratch"), "/sandbox/work") in pairs
    assert ("--ro-bind", str(public), "/sandbox/work/data") in pairs
    assert ("--ro-bind", "/usr", "/usr") in pairs
    assert ("--ro-bind", "/proc/sys", "/proc/sys") in pairs
    bound = [staged.get(argv[i + 1], argv[i + 1]) for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    assert "/root" not in bound
    assert str(Path.cwd()) not in bound
    assert "/" not in bound
    assert argv[argv.index("--remount-ro") + 1] == "/"
    assert argv[-3:] == ["--", sys.executable, "runfile.py"]


def _staged_sources(command: list[str]) -> dict[str, str]:
    """As root, the outer bwrap's staging binds: staged path -> host folder (nothing otherwise)."""
    if os.geteuid() != 0:
        return {}
    assert command[:3] == ["bwrap", "--dev-bind", "/"]
    assert "setpriv" in command[command.index("--") + 1]
    outer = command[: command.index("--")]
    binds = [i for i, a in enumerate(outer) if a in ("--bind", "--ro-bind") and outer[i + 1] != "/"]
    return {outer[i + 2]: outer[i + 1] for i in binds}


def test_as_root_the_sandbox_is_started_as_nobody(make_settings, tmp_path):
    command = BubblewrapBackend().command(_spec(make_settings("bubblewrap"), tmp_path))
    if os.geteuid() != 0:
        assert command[0] == "bwrap"
        assert "setpriv" not in " ".join(command)
        return
    drop = command[command.index("--") + 1 : command.index("--", command.index("--") + 1)]
    assert drop[1:4] == ["--reuid=65534", "--regid=65534", "--clear-groups"]


def test_auto_prefers_bubblewrap_and_unknown_names_are_refused(make_settings):
    assert get_backend(make_settings("auto")).name == "bubblewrap"
    assert get_backend(make_settings("local")).name == "local"
    with pytest.raises(InputError, match="run.backend: unknown backend 'docker'"):
        get_backend(make_settings("docker"))


def test_local_check_names_a_missing_python(make_settings):
    assert LocalBackend().check(make_settings("local")) is None
    assert (
        LocalBackend().check(make_settings("local", python="nope-python9"))
        == "python not found: 'nope-python9' (run.python)"
    )


def test_local_warns_that_it_is_not_a_container(make_settings):
    notices = LocalBackend().notices(make_settings("local"))
    assert "NOT a container" in notices[0]


def test_memory_is_capped_except_for_cuda_in_the_container(make_settings):
    assert BubblewrapBackend().address_space_limit(make_settings("bubblewrap", memory_limit="2G")) == 2 * 1024**3
    assert LocalBackend().address_space_limit(make_settings("local", memory_limit="2G")) == 2 * 1024**3
    assert ApptainerBackend().address_space_limit(make_settings("apptainer", memory_limit="2G", gpu=True)) is None
    assert (
        ApptainerBackend().address_space_limit(make_settings("apptainer", memory_limit="2G", gpu=False)) == 2 * 1024**3
    )


def test_bubblewrap_runs_a_python_that_lives_under_tmp(run_code, tmp_path):
    """A checkout (and its venv) under /tmp must not be hidden by the sandbox's own empty /tmp."""
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True, timeout=60
    )
    collected = run_code("import sys\nprint('prefix', sys.prefix)\n", python=str(venv / "bin" / "python"))
    assert collected.result.verdict.kind == "no_submission", collected.result.verdict.detail
    assert f"prefix {venv}" in collected.printed
