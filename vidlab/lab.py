"""Set up and start JupyterLab for the course, keeping every Jupyter file inside the project."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KERNEL_NAME = "python3"
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
REPORTED_PACKAGES = (
    "vidlab", "jupyterlab", "nbgrader", "papermill", "pandas", "matplotlib",
    "pillow", "pillow-heif", "exifread", "ipywidgets", "tqdm", "numpy",
)


def jupyter_env(root: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment that points Jupyter's config, data and runtime dirs into root/.jupyter, not $HOME.

    This environment's bin folder goes first on PATH: nbgrader runs `alembic` and kernels run
    `python` by name, and both must be ours even when the venv was never activated.
    """
    env = dict(os.environ if base is None else base)
    home = root / ".jupyter"
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH") or os.environ.get("PATH", "")]),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "matplotlib"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    return env


def use_project_dirs(root: Path) -> None:
    """Make this process (and every kernel or tool it starts) use the project's Jupyter dirs."""
    env = jupyter_env(root, base={})
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)


@contextmanager
def _project_jupyter(root: Path) -> Iterator[None]:
    """Within this block, Jupyter libraries in this process look at the project's dirs."""
    env = jupyter_env(root)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


#: JupyterLab's "get notified about official Jupyter news?" prompt.
ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"


def write_jupyter_config(root: Path) -> Path:
    """Config in the project's Jupyter dir: nbgrader reads the course's grading config; Lab stays offline."""
    config_dir = Path(jupyter_env(root)["JUPYTER_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    course_config = (root / "grading" / "nbgrader_config.py").resolve()
    (config_dir / "nbgrader_config.py").write_text(
        "# Written by `vidlab lab`: the course's own grading config is the one that counts.\n"
        f"load_subconfig({str(course_config)!r})\n"
    )
    (config_dir / "jupyter_lab_config.py").write_text(
        "# Written by `vidlab lab`: an offline course never asks the internet for news or updates.\n"
        "c.LabApp.news_url = None\n"
        "c.LabApp.check_for_updates_class = 'jupyterlab.NeverCheckForUpdate'\n"
        "# Language-server discovery shells out to npm, which writes logs into $HOME.\n"
        "c.LanguageServerManager.autodetect = False\n"
    )
    # Without a news feed Lab still asks every new user whether to fetch one: switch the question off.
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {ANNOUNCEMENTS_PLUGIN: True}}, indent=2) + "\n")
    return config_dir


def register_kernel() -> Path:
    """Install the `python3` kernelspec inside this environment (venv or conda), not in $HOME."""
    from ipykernel.kernelspec import install

    return Path(install(kernel_name=KERNEL_NAME, display_name="Python 3 (ipykernel)", prefix=sys.prefix))


def prepare(root: Path) -> None:
    """Everything the lab needs before it starts: the kernel and nbgrader's pointer to the course config."""
    use_project_dirs(root)
    register_kernel()
    write_jupyter_config(root)


def lab_command(root: Path, port: int, token: str | None = None) -> list[str]:
    """The `jupyter lab` command line for serving the course at root on loopback."""
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--ServerApp.root_dir={root}", "--allow-root",
    ]
    if token is not None:
        command.append(f"--IdentityProvider.token={token}")
    return command


def versions() -> dict[str, str]:
    """Installed versions of the packages the course depends on ('missing' when absent)."""
    found = {}
    for name in REPORTED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def enabled_server_extensions(root: Path) -> dict[str, bool]:
    """Which Jupyter server extensions are enabled, as Jupyter itself sees them from this project."""
    from jupyter_core.paths import jupyter_config_path

    with _project_jupyter(root):
        paths = jupyter_config_path()
    enabled: dict[str, bool] = {}
    # Later directories in the path have lower priority, so read them first.
    for folder in reversed(paths):
        for path in sorted(Path(folder, "jupyter_server_config.d").glob("*.json")) + [Path(folder, "jupyter_server_config.json")]:
            if path.is_file():
                try:
                    extensions = json.loads(path.read_text()).get("ServerApp", {}).get("jpserver_extensions", {})
                except (OSError, ValueError):
                    continue
                enabled.update(extensions)
    return enabled


def kernel_problem(root: Path) -> str | None:
    """Why the `python3` kernel would not run this environment's Python, or None if it would."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        with _project_jupyter(root):
            spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return f"no '{KERNEL_NAME}' kernel is registered: run `make lab` or `vidlab lab`"
    executable = spec.argv[0]
    if executable not in ("python", "python3", "{python}") and Path(executable).resolve() != Path(sys.executable).resolve():
        return f"the '{KERNEL_NAME}' kernel runs {executable}, not this environment's {sys.executable}"
    return None


def start(root: Path, port: int) -> int:
    """Serve the course with JupyterLab until the user stops it; returns Jupyter's exit code."""
    env = jupyter_env(root)
    print(f"Starting JupyterLab on http://127.0.0.1:{port}/lab (the URL with its token follows)", flush=True)
    try:
        return subprocess.call(lab_command(root, port), cwd=root, env=env)
    except KeyboardInterrupt:
        return 0
