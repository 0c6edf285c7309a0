"""`make lab`'s code path: JupyterLab serves the course with the kernel and nbgrader's formgrader."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
import urllib.request

import pytest

from vidlab import grading, lab

from conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str, timeout: float = 60) -> tuple[int, bytes]:
    # Generous: the formgrader's first listing reads every assignment into a new gradebook.
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """An empty home folder for the server: the lab must leave it empty."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def server(home):
    lab.prepare(ROOT)
    port, token = free_port(), secrets.token_hex(16)
    env = {**lab.jupyter_env(ROOT), "HOME": str(home)}
    process = subprocess.Popen(lab.lab_command(ROOT, port, token), cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            get(f"{base}/api/status", token, timeout=10)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"JupyterLab did not start:\n{process.stderr.read()[-3000:]}")
            time.sleep(0.5)
    yield base, token
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_lab_page_answers(server):
    base, token = server
    status, body = get(f"{base}/lab", token)
    assert status == 200 and b"JupyterLab" in body


def test_python3_kernel_is_offered(server):
    base, token = server
    _, body = get(f"{base}/api/kernelspecs", token)
    assert "python3" in json.loads(body)["kernelspecs"]


def test_nbgrader_server_extensions_are_enabled(server):
    enabled = lab.enabled_server_extensions(ROOT)
    assert all(enabled.get(name) for name in lab.NBGRADER_SERVER_EXTENSIONS), enabled


def test_formgrader_lists_the_course_assignments(server):
    base, token = server
    status, body = get(f"{base}/formgrader/api/assignments", token)
    assert status == 200
    listed = {a["name"] for a in json.loads(body)}
    assert set(grading.assignments(ROOT)) <= listed and listed


def test_lab_never_fetches_news_or_updates(server):
    base, token = server
    _, body = get(f"{base}/lab/api/update", token)
    assert json.loads(body).get("notification") is None
    page = get(f"{base}/lab", token)[1].decode()
    assert '"news": {"disabled": true}' in page
    assert f'"{lab.ANNOUNCEMENTS_PLUGIN}"' in page, "Lab would still ask whether to fetch news"


def test_lab_writes_nothing_to_home(server, home):
    base, token = server
    # Start and stop a kernel too: kernels are where stray config and history files come from.
    request = urllib.request.Request(f"{base}/api/kernels", data=b'{"name": "python3"}', method="POST",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        kernel = json.loads(response.read())
    time.sleep(2)
    request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}", method="DELETE",
                                     headers={"Authorization": f"token {token}"})
    urllib.request.urlopen(request, timeout=30)
    written = [str(p.relative_to(home)) for p in home.rglob("*")]
    assert not written, f"the lab wrote into the home folder: {written}"
