"""A socket guard for the offline tests: any connection, datagram or name lookup that leaves the machine fails.

``install(log)`` patches the socket module of this process: connect/connect_ex/sendto on non-loopback
addresses and getaddrinfo of names other than localhost raise ``OfflineViolation`` (an OSError, so code
that handles network errors handles it) and append one line to `log`, so an attempt that the code swallows
is still seen. ``site_folder(folder, log)`` writes a sitecustomize.py that installs the guard at start-up
of every Python process given ``PYTHONPATH=folder`` (CLI runs, their worker processes, Jupyter kernels).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""})
_original: dict[str, object] = {}


class OfflineViolation(ConnectionRefusedError):
    """A network access the offline guarantee forbids."""


def _is_local(host: object) -> bool:
    """Loopback addresses, localhost names, and Unix sockets' paths are local; anything else is the network."""
    if host is None or isinstance(host, (bytes, bytearray)):
        return True  # Unix-socket paths (bytes), or no host at all
    text = str(host).strip("[]").split("%")[0].lower()
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback or ipaddress.ip_address(text).is_unspecified
    except ValueError:
        return False


def _refuse(log: Path | None, what: str) -> None:
    if log is not None:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {what}\n")
    raise OfflineViolation(f"offline guard: {what} refused (VID Lab must not use the network)")


def install(log: Path | None = None) -> None:
    """Guard this process's sockets (idempotent); violations are appended to `log` when given."""
    if _original:
        return
    _original.update(connect=socket.socket.connect, connect_ex=socket.socket.connect_ex,
                     sendto=socket.socket.sendto, getaddrinfo=socket.getaddrinfo)

    def _check(sock: socket.socket, address: object, call: str) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            if not _is_local(address[0]):
                _refuse(log, f"{call} to {address[0]}:{address[1]}")

    def connect(self: socket.socket, address: object) -> None:
        _check(self, address, "connect")
        return _original["connect"](self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        _check(self, address, "connect_ex")
        return _original["connect_ex"](self, address)

    def sendto(self: socket.socket, data: bytes, *args: object) -> int:
        _check(self, args[-1], "sendto")
        return _original["sendto"](self, data, *args)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if not _is_local(host):
            _refuse(log, f"name lookup of {host!r}")
        return _original["getaddrinfo"](host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
    socket.getaddrinfo = getaddrinfo  # create_connection and every client library resolve names through it


def uninstall() -> None:
    """Put the socket module back as it was."""
    if not _original:
        return
    socket.socket.connect, socket.socket.connect_ex = _original["connect"], _original["connect_ex"]
    socket.socket.sendto, socket.getaddrinfo = _original["sendto"], _original["getaddrinfo"]
    _original.clear()


def site_folder(folder: Path, log: Path) -> Path:
    """A folder whose sitecustomize.py guards every Python process started with it on PYTHONPATH; each such
    process adds its pid to `<log>.guarded`."""
    folder.mkdir(parents=True, exist_ok=True)
    guard = Path(__file__).resolve()
    (folder / "sitecustomize.py").write_text(
        "import importlib.util, pathlib\n"
        f"spec = importlib.util.spec_from_file_location('offline_guard', {str(guard)!r})\n"
        "guard = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(guard)\n"
        f"guard.install(pathlib.Path({str(log)!r}))\n"
        "import os\n"  # proof, for the test, that this process started guarded
        f"with open({str(log) + '.guarded'!r}, 'a') as f: f.write(str(os.getpid()) + '\\n')\n",
        encoding="utf-8")
    return folder
