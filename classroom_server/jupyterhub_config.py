"""JupyterHub for one VID Lab class: one machine, one instructor, many trainees, nbgrader's exchange.

Run it as root with the course's own Python, so that each trainee's server runs under the trainee's
own Linux account (docs/classroom_server.md has the whole set-up):

    cd /srv/vidlab/hub && VIDLAB_COURSE=/opt/vidlab \
      /opt/vidlab/.venv/bin/jupyterhub -f /opt/vidlab/classroom_server/jupyterhub_config.py

Site settings come from environment variables (defaults in brackets):
  VIDLAB_COURSE       the instructor's course folder, holding grading/nbgrader_config.py [this repository]
  VIDLAB_EXCHANGE     nbgrader's exchange, writable by everyone [/srv/vidlab/exchange]
  VIDLAB_HUB_STATE    the hub's database and cookie secret, readable by root only [/srv/vidlab/hub]
  VIDLAB_INSTRUCTORS  instructor accounts, comma-separated [instructor]
  VIDLAB_CLASS_LIST   trainee accounts, one per line [<VIDLAB_HUB_STATE>/class_list.txt]
  VIDLAB_HUB_URL      where the hub listens [http://:8000, every interface]
  VIDLAB_HUB_SUBDOMAIN_HOST  e.g. https://hub.training.lan: one subdomain per user [unset: one origin]
  VIDLAB_PROFILE      the data profile the notebooks use [classroom]
docs/classroom_server.md explains the set-up, the formgrader, and how to grow to a larger class.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - injected by traitlets when JupyterHub loads this file

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
COURSE = Path(os.environ.get("VIDLAB_COURSE", REPOSITORY)).resolve()
EXCHANGE = Path(os.environ.get("VIDLAB_EXCHANGE", "/srv/vidlab/exchange"))
STATE = Path(os.environ.get("VIDLAB_HUB_STATE", "/srv/vidlab/hub"))
INSTRUCTORS = {name.strip() for name in os.environ.get("VIDLAB_INSTRUCTORS", "instructor").split(",") if name.strip()}
CLASS_LIST = Path(os.environ.get("VIDLAB_CLASS_LIST", STATE / "class_list.txt"))


def class_list(path: Path) -> set[str]:
    """Trainee accounts from the class list: one per line, blank lines and # comments ignored."""
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def role(spawner) -> str:
    """'instructor' or 'trainee': picks the Jupyter config folder beside this file for the user's server."""
    return "instructor" if spawner.user.name in INSTRUCTORS else "trainee"


# --- the hub -------------------------------------------------------------------------------------
STATE.mkdir(parents=True, exist_ok=True, mode=0o700)
c.JupyterHub.bind_url = os.environ.get("VIDLAB_HUB_URL", "http://:8000")
if os.environ.get("VIDLAB_HUB_SUBDOMAIN_HOST"):
    # Each user's server on its own origin (needs wildcard DNS and a wildcard certificate): the
    # instructor's server may then frame its own formgrader (classroom_server/instructor/).
    c.JupyterHub.subdomain_host = os.environ["VIDLAB_HUB_SUBDOMAIN_HOST"]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
# The proxy is a Node.js program; `make hub-proxy` installs it inside the project, never globally.
local_proxy = REPOSITORY / ".node" / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [str(local_proxy) if local_proxy.exists() else "configurable-http-proxy"]

# --- who may log in -----------------------------------------------------------------------------
# The default authenticator checks Linux passwords (PAM): create one account per trainee.
c.Authenticator.admin_users = INSTRUCTORS
c.Authenticator.allowed_users = class_list(CLASS_LIST)

# --- each user's server -------------------------------------------------------------------------
# The servers run this environment's Python, whatever PATH the hub was started with.
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    # nbgrader runs `alembic` and kernels run `python` by name: both must be this environment's.
    "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")]),
    # Lower priority than the user's own ~/.jupyter, higher than the environment's defaults.
    "JUPYTER_CONFIG_PATH": lambda spawner: str(HERE / role(spawner)),
    "VIDLAB_COURSE": str(COURSE),
    "VIDLAB_EXCHANGE": str(EXCHANGE),
    "VIDLAB_PROFILE": os.environ.get("VIDLAB_PROFILE", "classroom"),
    "VIDLAB_HUB_SUBDOMAIN_HOST": os.environ.get("VIDLAB_HUB_SUBDOMAIN_HOST", ""),
}


def pre_spawn_hook(spawner) -> None:
    """The instructor's Lab opens on the course itself: the formgrader needs the course inside its root."""
    if role(spawner) == "instructor":
        spawner.notebook_dir = str(COURSE)


c.Spawner.pre_spawn_hook = pre_spawn_hook
# A cold start imports JupyterLab and nbgrader; on a busy classroom machine that can take a while.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# The formgrader and the iframe: JupyterHub >= 4.1 sends "Content-Security-Policy: frame-ancestors
# 'none'" from every user's server, so the formgrader cannot show inside a JupyterLab tab. On one
# origin we keep that protection and the instructor opens /user/<instructor>/formgrader in its own
# browser tab; with VIDLAB_HUB_SUBDOMAIN_HOST set, the in-Lab tab works (docs/classroom_server.md).
