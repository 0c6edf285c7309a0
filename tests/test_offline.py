"""The offline guarantee: every command that needs no server, and a curriculum notebook, run with the network
refused, and never try to use it; on Linux the same commands also run in a network namespace with no interfaces.

The guard (tests/offline_guard.py) refuses non-loopback connections and name lookups and logs each attempt, so
code that swallows the error is still caught. The first tests prove the guard itself works.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import offline_guard
from conftest import ROOT
from vidlab import cli

NOTEBOOK = ROOT / "curriculum" / "day2" / "day2_6_location.ipynb"  # maps and reverse geocoding: the likeliest to reach out


@pytest.fixture()
def guard(tmp_path: Path):
    log = tmp_path / "violations.log"
    offline_guard.install(log)
    try:
        yield log
    finally:
        offline_guard.uninstall()


def _attempts(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_the_guard_refuses_the_network_and_logs_it(guard: Path) -> None:
    with pytest.raises(OSError, match="offline guard"):
        socket.create_connection(("example.org", 80), timeout=2)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with raw, pytest.raises(OSError, match="offline guard"):
        raw.connect(("93.184.215.14", 443))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with udp, pytest.raises(OSError, match="offline guard"):
        udp.sendto(b"x", ("8.8.8.8", 53))
    try:  # code that swallows the error is still caught by the log
        socket.getaddrinfo("tile.openstreetmap.org", 443)
    except OSError:
        pass
    assert [line.split(" ", 1)[1] for line in _attempts(guard)] == [
        "name lookup of 'example.org'", "connect to 93.184.215.14:443", "sendto to 8.8.8.8:53",
        "name lookup of 'tile.openstreetmap.org'"]


def test_the_guard_lets_loopback_through(guard: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=2):
            pass
    assert _attempts(guard) == []


def test_the_guard_reaches_child_processes(tmp_path: Path) -> None:
    log = tmp_path / "violations.log"
    site = offline_guard.site_folder(tmp_path / "site", log)
    code = ("import socket\ntry:\n    socket.create_connection(('example.org', 80), timeout=2)\n"
            "except OSError as e:\n    print(e)")
    done = subprocess.run([sys.executable, "-c", code], env=os.environ | {"PYTHONPATH": str(site)},
                          capture_output=True, text=True, timeout=60)
    assert "offline guard" in done.stdout
    assert [line.split(" ", 1)[1] for line in _attempts(log)] == ["name lookup of 'example.org'"]


def _run(*argv: str) -> None:
    code = cli.main([str(a) for a in argv])
    assert code == 0, f"vidlab {' '.join(map(str, argv))} exited {code}"


def test_every_local_command_runs_offline(guard: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    _run("data", "generate", "--profile", "tiny", "--out", data, "--workers", "1")
    _run("data", "describe", "--profile", "tiny", "--out", data)
    case = data / "tiny" / "case"
    _run("scan", case / "submissions", "--out", out / "inventory.parquet")
    _run("carve", next((case / "submissions").rglob("*.dd")), "--out", out / "carved")
    _run("media", case / "submissions", "--out", out / "media")
    db = case / "case_db" / "known_series.sqlite"
    _run("match", out / "inventory.parquet", "--db", db, "--out", out / "match")
    _run("casedb", "export", out / "known.json", "--db", db)
    _run("casedb", "import", out / "known.json", "--db", out / "copy.sqlite")
    _run("casedb", "list", "--db", out / "copy.sqlite")
    _run("course", "schedule")
    printed = capsys.readouterr().out
    assert "inventory written to" in printed and "JPEGs carved" in printed and "imported" in printed
    assert len(pd.read_csv(out / "media" / "audio.csv")) >= 1
    assert _attempts(guard) == []


def test_a_curriculum_notebook_runs_offline(tmp_path: Path, tiny_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard is installed in the Jupyter kernel itself (sitecustomize on the kernel's PYTHONPATH)."""
    import papermill

    log = tmp_path / "violations.log"
    site = offline_guard.site_folder(tmp_path / "site", log)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / NOTEBOOK.name), parameters={"PROFILE": "tiny"},
                               kernel_name="python3", cwd=str(NOTEBOOK.parent), progress_bar=False,
                               execution_timeout=300)
    assert Path(f"{log}.guarded").read_text().split(), "the kernel did not start with the guard"
    assert _attempts(log) == []


def _no_namespace() -> str | None:
    """None when `unshare -rn` gives this user a network namespace, else why not."""
    if sys.platform != "linux":
        return "not Linux"
    if shutil.which("unshare") is None:
        return "no unshare command"
    done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True, timeout=30)
    return None if done.returncode == 0 else f"unshare -rn refused: {done.stderr.strip()}"


NO_NAMESPACE = _no_namespace()


@pytest.mark.skipif(NO_NAMESPACE is not None, reason=f"needs a Linux network namespace: {NO_NAMESPACE}")
def test_generate_and_scan_in_a_namespace_without_network(tmp_path: Path) -> None:
    """No interfaces at all: a library that needed the network would fail here, guard or no guard."""
    probe = "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\nexcept OSError as e:\n    print(e)"
    vidlab = [sys.executable, "-m", "vidlab.cli"]
    script = " && ".join(shlex.join(command) for command in (
        [sys.executable, "-c", probe],
        [*vidlab, "data", "generate", "--profile", "tiny", "--out", str(tmp_path / "data"), "--workers", "1"],
        [*vidlab, "scan", str(tmp_path / "data" / "tiny" / "case"), "--out", str(tmp_path / "inv.parquet")]))
    done = subprocess.run(["unshare", "-rn", "sh", "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Network is unreachable" in done.stdout  # the namespace really has no way out
    assert "inventory written to" in done.stdout
    assert len(pd.read_parquet(tmp_path / "inv.parquet")) == sum(
        1 for p in (tmp_path / "data" / "tiny" / "case").rglob("*") if p.is_file() or p.is_symlink())
