"""``jaxmlp playground``: serve the browser playground (:mod:`jaxmlp.playground.server`)."""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import Annotated

import typer

from jaxmlp.cli.common import err, fail, out

__all__ = ["playground"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a clear error for a busy port or a bad address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            fail(f"port {port} on {host} is already in use (another playground?); choose "
                 f"another with --port, e.g. --port {port + 1}")  # fmt: skip
        if e.errno == errno.EACCES:
            fail(f"no permission to listen on port {port}; use a port above 1023, e.g. --port 8000")
        fail(f"cannot listen on {host}:{port} ({e.strerror}); check --host, e.g. --host 127.0.0.1")
    sock.listen(128)
    return sock


def playground(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-browser", help="Open the page in a web browser.")
    ] = False,
) -> None:
    """Watch the real JAX engine learn in your browser, at http://HOST:PORT/ (Ctrl+C stops)."""
    if not _is_loopback(host):
        err.print(f"Warning: listening on {host}, not on loopback: anyone who can reach this "
                  "machine can use the playground (and its CPU). Use --host 127.0.0.1 to keep "
                  "it local.")  # fmt: skip
    sock = _bind(host, port)
    import uvicorn

    from jaxmlp.core.compiled import enable_compilation_cache
    from jaxmlp.playground.server import create_app

    enable_compilation_cache()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    out.print(f"jaxmlp playground: {url}  (Ctrl+C to stop)")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(create_app(), log_level="warning", ws="websockets-sansio")
    uvicorn.Server(config).run(sockets=[sock])
