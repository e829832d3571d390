"""Serving the registration service with uvicorn: embedded in an event loop (the demo, the tests)
or as `a2p service`. Shutdown is bounded: requests still in flight get ``SHUTDOWN_GRACE_SECONDS``,
then are cancelled (every Temporal call the service makes is bounded too, see
starter/registrations.py)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import structlog
from fastapi import FastAPI

from infra.settings import Settings

log = structlog.get_logger("a2p.service")

SHUTDOWN_GRACE_SECONDS = 10


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket for :func:`serving` (port 0: a free one) — bound first, so its URL can
    go into the settings (A2P_PUBLIC_BASE_URL) before the app is made."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _embedded_server(config: Any) -> Any:
    """uvicorn without its signal handlers: the embedding program owns SIGINT/SIGTERM."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[override]
            yield

    return Server(config)


# An idle keep-alive connection is closed after this long. It outlasts the idle timeouts of the
# clients and load balancers in front (httpx 5 s, AWS ALB 60 s): with uvicorn's default of 5 s the
# server closed connections just as a client reused them, and that request failed (ReadError, 502).
KEEP_ALIVE_SECONDS = 75


@contextlib.asynccontextmanager
async def serving(app: FastAPI, host: str = "127.0.0.1", port: int = 0, *,
                  sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn inside this event loop until the context exits; yields its base
    URL. ``sock``: an already bound socket (see :func:`bind`), else ``host``/``port`` (0: free)."""
    import uvicorn

    sock = sock or bind(host, port)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False,
                            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS, timeout_keep_alive=KEEP_ALIVE_SECONDS)
    server = _embedded_server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the service stopped while starting")
            await asyncio.sleep(0.02)
        yield url_of(sock)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        sock.close()


async def run_service(settings: Settings) -> None:
    """`a2p service`: serve until SIGINT/SIGTERM."""
    import signal

    from starter.service import create_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sock = bind(settings.a2p_service_host, settings.a2p_service_port)
    async with serving(create_app(settings), sock=sock) as url:
        public = settings.a2p_public_base_url or url
        log.info("service_started", url=url, docs=f"{url}/docs", openapi=f"{url}/openapi.json",
                 trusthub_status_callback=f"{public}/webhooks/trusthub?workflow_id=...&token=... (set per bundle)"
                 if settings.a2p_public_base_url else "none (A2P_PUBLIC_BASE_URL unset)",
                 event_streams_sink=f"{public}/webhooks/events")
        await stop.wait()
        log.info("service_stopping")
