"""One sandbox process for the whole session (real HTTP, real twilio SDK), plus per-test subaccounts
so that tests do not see each other's resources, and a local webhook receiver."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from twilio.rest import Client

from sandbox.testing import SandboxControl, SandboxProcess, free_port, twilio_client, wait_until

# Short real delays; most tests jump over them with advance_clock instead of waiting.
TEST_CONFIG = {
    "profile_review_seconds": 2,
    "trust_product_review_seconds": 2,
    "brand_review_seconds": 3,
    "campaign_in_progress_seconds": 1,
    "campaign_review_seconds": 3,
    "webhook_initial_backoff_seconds": 0.05,
    "webhook_max_attempts": 5,
}


@pytest.fixture(scope="session")
def sandbox() -> Any:
    with SandboxProcess(TEST_CONFIG) as process:
        yield process
    logs = process.logs()
    assert "Traceback" not in logs and "ERROR" not in logs, logs[-3000:]


@pytest.fixture(scope="session")
async def control(sandbox: SandboxProcess) -> Any:
    async with sandbox.control() as ctl:
        yield ctl


@pytest.fixture(scope="session")
def client(sandbox: SandboxProcess) -> Client:
    """The ISV's parent account."""
    return sandbox.client()


@dataclass
class Account:
    sid: str
    auth_token: str
    client: Client


@pytest.fixture
async def account(sandbox: SandboxProcess, control: SandboxControl) -> Account:
    """A fresh subaccount (one customer), with a sync twilio client authenticated as it."""
    sub = await control.create_subaccount()
    return Account(sub["sid"], sub["auth_token"], twilio_client(sandbox.base_url, sub["sid"], sub["auth_token"]))


_mobiles = itertools.count(100)


@pytest.fixture
def mobile() -> str:
    """A mobile number no other test uses (TCR caps are sandbox-wide)."""
    return f"+1415555{next(_mobiles):04d}"


class Receiver:
    """A tiny HTTP server recording every request (for status callbacks and Event Streams)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[dict] = []
        self.fail: dict[str, int] = {}  # path -> how many more requests to answer 503
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?")[0]
                if receiver.fail.get(path, 0) > 0:
                    receiver.fail[path] -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.requests.append({"path": self.path, "url": f"http://127.0.0.1:{receiver.port}{self.path}",
                                          "headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def matching(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"].split("?")[0] == path]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> dict:
        return wait_until(lambda: next((r for r in list(self.requests) if predicate(r)), None), timeout,
                          message="a webhook")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()
