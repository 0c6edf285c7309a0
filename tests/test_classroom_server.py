"""The classroom JupyterHub recipe, started for real on loopback: an instructor and two trainees log
in, and one exercise goes release → fetch → submit → collect → autograde through nbgrader's exchange.

The recipe (classroom_server/jupyterhub_config.py) runs unchanged; only what a test machine cannot
have is swapped on the command line: a password authenticator instead of Linux accounts, and a
spawner that runs everyone as this OS user, each with their own home folder under tmp_path.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from vidlab import classroom, grading, lab

from conftest import FIXTURES, ROOT

pytestmark = [pytest.mark.hub, pytest.mark.xdist_group("hub")]

RECIPE = ROOT / "classroom_server" / "jupyterhub_config.py"
PROXY = ROOT / ".node" / "node_modules" / ".bin" / "configurable-http-proxy"
INSTRUCTOR, TRAINEES = "instructor", ("alice", "bob")
ASSIGNMENT, COURSE_ID = "squares", "vidlab"
#: The fixture course's answer cells, as a trainee would type them (see tests/fixtures/grading/class).
ANSWERS = {"answer_square": "def square(x):\n    return x * x", "answer_cube": "def cube(x):\n    return x * x * x"}
HANDED_IN = {"alice": ANSWERS, "bob": {"answer_square": ANSWERS["answer_square"]}}
STARTUP_SECONDS = 150  # a fail-safe only: three servers cold-start side by side on 2 shared cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """A running hub and one API token per logged-in user."""

    def __init__(self, url: str, course: Path, exchange: Path, homes: Path):
        self.url, self.course, self.exchange, self.homes = url, course, exchange, homes
        self.tokens: dict[str, str] = {}

    def call(self, user: str, method: str, path: str, **kwargs) -> requests.Response:
        """A request to the hub or a user's server (through the proxy) with ``user``'s token."""
        headers = {"Authorization": f"token {self.tokens[user]}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=120, **kwargs)

    def json(self, user: str, method: str, path: str, **kwargs):
        response = self.call(user, method, path, **kwargs)
        assert response.ok, f"{method} {path} as {user}: {response.status_code} {response.text[:500]}"
        return response.json()


def log_in(url: str, user: str, password: str) -> str:
    """Log in through the hub's login form, as a browser does, then ask the hub for an API token."""
    with requests.Session() as browser:
        form = browser.get(f"{url}/hub/login", timeout=30).text
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', form)
        assert xsrf, "the login form carries no _xsrf field"
        answer = browser.post(f"{url}/hub/login", data={"username": user, "password": password, "_xsrf": xsrf[1]},
                              allow_redirects=False, timeout=30)
        assert answer.status_code == 302, f"{user} could not log in: {answer.status_code} {answer.text[:300]}"
        made = browser.post(f"{url}/hub/api/users/{user}/tokens", json={"note": "classroom test", "expires_in": 900},
                            headers={"X-XSRFToken": browser.cookies.get("_xsrf", path="/hub/")}, timeout=30)
        assert made.status_code == 201, f"no token for {user}: {made.status_code} {made.text[:300]}"
        return made.json()["token"]


def wait_until(ready, what: str, process: subprocess.Popen, log: Path, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen in {seconds:.0f} s; hub log:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)


def hub_up(url: str) -> bool:
    try:
        return requests.get(f"{url}/hub/api/", timeout=5).ok
    except requests.ConnectionError:
        return False


def server_ready(hub: Hub, user: str) -> bool:
    model = hub.json(user, "GET", f"/hub/api/users/{user}")
    return bool(model.get("servers", {}).get("", {}).get("ready"))


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    if not PROXY.exists():
        pytest.fail(f"JupyterHub's proxy is not installed at {PROXY}: run `make hub-proxy` (npm, project-local)")
    if lab.kernel_problem(ROOT):  # autograding in the instructor's server runs the python3 kernel
        lab.register_kernel()
    tmp = tmp_path_factory.mktemp("hub")
    course = grading.copy_course(FIXTURES / "grading" / "class", tmp / "course", ROOT / "grading" / "nbgrader_config.py")
    grading.build_exercises(course)
    exchange, state, homes = tmp / "exchange", tmp / "state", tmp / "homes"
    exchange.mkdir()
    exchange.chmod(0o777)  # as the set-up guide says: every account writes into the exchange
    state.mkdir()
    (state / "class_list.txt").write_text("# trainees\n" + "\n".join(TRAINEES) + "\n")
    password = secrets.token_hex(8)
    url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "VIDLAB_COURSE": str(course), "VIDLAB_EXCHANGE": str(exchange),
           "VIDLAB_HUB_STATE": str(state), "VIDLAB_INSTRUCTORS": INSTRUCTOR, "VIDLAB_HUB_URL": url}
    command = [
        sys.executable, "-m", "jupyterhub", "-f", str(RECIPE),
        "--JupyterHub.authenticator_class=dummy", f"--DummyAuthenticator.password={password}",
        "--JupyterHub.spawner_class=simple", f"--SimpleLocalProcessSpawner.home_dir_template={homes}/{{username}}",
        f"--JupyterHub.hub_bind_url=http://127.0.0.1:{free_port()}",
        f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}",
        # Test machines run as root; real trainees' servers run under their own accounts.
        "--Spawner.args=['--allow-root']",
    ]
    log = tmp / "hub.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until(lambda: hub_up(url), "the hub answering", process, log)
        running = Hub(url, course, exchange, homes)
        for user in (INSTRUCTOR, *TRAINEES):
            running.tokens[user] = log_in(url, user, password)
        for user in running.tokens:  # start all three, then wait: they boot side by side
            started = running.call(user, "POST", f"/hub/api/users/{user}/server")
            assert started.status_code in (201, 202), f"{user}'s server: {started.status_code} {started.text[:300]}"
        for user in running.tokens:
            wait_until(lambda: server_ready(running, user), f"{user}'s server starting", process, log)
        yield running
    finally:
        # The hub stops the proxy and every user's server on SIGTERM; the group kill is the fallback.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def answer_in_trainee_server(hub: Hub, trainee: str, path: str, answers: dict[str, str]) -> None:
    """Open the fetched notebook through the Contents API, type the answers, save it: the trainee's work."""
    model = hub.json(trainee, "GET", f"/user/{trainee}/api/contents/{path}")
    for cell in model["content"]["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    hub.json(trainee, "PUT", f"/user/{trainee}/api/contents/{path}",
             json={"type": "notebook", "format": "json", "content": model["content"]})


def one_session_cycle(hub: Hub) -> None:
    """Release → fetch → submit → collect → autograde, each step as the person would click it."""
    # The instructor releases from the formgrader in their own server, as the Release button does.
    released = hub.json(INSTRUCTOR, "POST", f"/user/{INSTRUCTOR}/formgrader/api/assignment/{ASSIGNMENT}/release")
    assert released["success"], released
    assert (hub.exchange / COURSE_ID / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()

    for trainee, answers in HANDED_IN.items():
        # Each trainee's Assignments tab lists the release, fetches it, and submits the answered copy.
        listed = hub.json(trainee, "GET", f"/user/{trainee}/assignments", params={"course_id": COURSE_ID})
        assert listed["success"] and [(a["assignment_id"], a["status"]) for a in listed["value"]] == [(ASSIGNMENT, "released")]
        fetched = hub.json(trainee, "POST", f"/user/{trainee}/assignments/fetch",
                           json={"assignment_id": ASSIGNMENT, "course_id": COURSE_ID})
        [notebook] = [nb["path"] for a in fetched["value"] if a["status"] == "fetched" for nb in a["notebooks"]]
        assert (hub.homes / trainee / notebook).is_file(), "fetch lands in the trainee's own home folder"
        answer_in_trainee_server(hub, trainee, notebook, answers)
        submitted = hub.json(trainee, "POST", f"/user/{trainee}/assignments/submit",
                             json={"assignment_id": ASSIGNMENT, "course_id": COURSE_ID})
        assert submitted["success"], submitted

    # Everyone here runs as one OS user, so this proves the recipe files work under the hub name.
    inbound = sorted(p.name.split("+")[0] for p in (hub.exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == sorted(HANDED_IN)

    collected = hub.json(INSTRUCTOR, "POST", f"/user/{INSTRUCTOR}/formgrader/api/assignment/{ASSIGNMENT}/collect")
    assert collected["success"], collected
    assert classroom.trainees(hub.course, ASSIGNMENT) == sorted(HANDED_IN)
    for trainee in HANDED_IN:
        graded = hub.json(INSTRUCTOR, "POST", f"/user/{INSTRUCTOR}/formgrader/api/submission/{ASSIGNMENT}/{trainee}/autograde")
        assert graded["success"], graded.get("error") or graded

    scores = classroom.grades(hub.course).set_index("trainee")
    assert scores.loc[["alice", "bob"], "code_score"].tolist() == [4.0, 2.0]
    assert scores.loc[["alice", "bob"], "share"].tolist() == [1.0, 0.5]
    # The formgrader's own listing (what the instructor sees) agrees with the gradebook.
    listing = hub.json(INSTRUCTOR, "GET", f"/user/{INSTRUCTOR}/formgrader/api/submissions/{ASSIGNMENT}")
    assert {s["student"]: s["score"] for s in listing if s["autograded"]} == {"alice": 4.0, "bob": 2.0}


def formgrader_is_the_instructors_alone(hub: Hub) -> None:
    page = hub.call(INSTRUCTOR, "GET", f"/user/{INSTRUCTOR}/formgrader/manage_assignments")
    assert page.status_code == 200 and "Manage Assignments" in page.text
    # JupyterHub >= 4.1 forbids framing a user's server; the guide opens the formgrader in its own tab.
    assert page.headers.get("Content-Security-Policy", "").startswith("frame-ancestors 'none'")
    assert hub.call("alice", "GET", "/user/alice/formgrader/api/status").status_code == 404
    lab_page = hub.call("alice", "GET", "/user/alice/lab").text
    disabled = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', lab_page, re.S)[1])["disabledExtensions"]
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(disabled)


def trainees_cannot_open_other_servers(hub: Hub) -> None:
    assert hub.call("alice", "GET", f"/user/{INSTRUCTOR}/api/contents").status_code == 403
    assert hub.call("alice", "GET", "/user/bob/api/contents").status_code == 403
    assert hub.call("alice", "GET", "/user/alice/api/contents").status_code == 200


def test_one_class_on_the_hub(hub):
    # One test, one hub: starting a second hub would double the slowest part of this file.
    one_session_cycle(hub)
    formgrader_is_the_instructors_alone(hub)
    trainees_cannot_open_other_servers(hub)


def test_formgrader_tab_is_allowed_only_with_per_user_subdomains(tmp_path, monkeypatch):
    from traitlets.config.loader import PyFileConfigLoader

    def load(folder: Path, name: str):
        return PyFileConfigLoader(name, path=str(folder)).load_config()

    def instructor_csp() -> str | None:
        loaded = load(ROOT / "classroom_server" / "instructor", "jupyter_server_config.py")
        return loaded.ServerApp.get("tornado_settings", {}).get("headers", {}).get("Content-Security-Policy")

    (tmp_path / "class_list.txt").write_text("alice  # front row\n\n# absent: carol\nbob\n")
    monkeypatch.setenv("VIDLAB_HUB_STATE", str(tmp_path))
    monkeypatch.delenv("VIDLAB_HUB_SUBDOMAIN_HOST", raising=False)
    one_origin = load(RECIPE.parent, RECIPE.name)
    assert "subdomain_host" not in one_origin.JupyterHub and one_origin.Authenticator.allowed_users == {"alice", "bob"}
    assert instructor_csp() is None, "on one origin, JupyterHub's frame-ancestors 'none' must stand"

    monkeypatch.setenv("VIDLAB_HUB_SUBDOMAIN_HOST", "https://hub.training.lan")
    per_user = load(RECIPE.parent, RECIPE.name)
    assert per_user.JupyterHub.subdomain_host == "https://hub.training.lan"
    assert per_user.Spawner.environment["VIDLAB_HUB_SUBDOMAIN_HOST"] == "https://hub.training.lan"
    assert instructor_csp() == "frame-ancestors 'self'"
