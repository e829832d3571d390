"""Run and drive the sandbox from tests, demos and benchmarks.

* :class:`SandboxProcess` — ``python -m sandbox`` as a subprocess on a free port; a sync and async
  context manager that waits for ``/sandbox/health`` and stops the process cleanly (killing it if it
  does not stop). ``.base_url``, ``.control()``, ``.sync_control()``, ``.client()``, ``.restart()``.
* :class:`SandboxControl` (async, httpx) and :class:`SyncSandboxControl` — one typed method per
  control endpoint; each returns the endpoint's JSON answer and raises :class:`SandboxControlError`
  on a 4xx/5xx.
* :func:`twilio_client` — a real ``twilio.rest.Client`` pointed at a sandbox (sync, or async with
  ``AsyncTwilioHttpClient``).
* :func:`wait_until` / :func:`async_wait_until` — poll a condition with a timeout.

Example::

    with SandboxProcess({"brand_review_seconds": 1}) as sandbox:
        client = sandbox.client()
        profile = client.trusthub.v1.customer_profiles.create(...)
        sandbox.sync_control().advance_clock(5)
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx
from twilio.rest import Client

from . import defaults
from .config import SandboxConfig

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def point_client_at(client: Client, base_url: str) -> Client:
    """Send all three API hosts (Trust Hub, Messaging, API v2010) of ``client`` to ``base_url``."""
    client.trusthub.base_url = base_url
    client.messaging.base_url = base_url
    client.api.base_url = base_url
    return client


def twilio_client(base_url: str, account_sid: str = defaults.PARENT_ACCOUNT_SID,
                  auth_token: str = defaults.PARENT_AUTH_TOKEN, *, async_http: bool = False,
                  http_client: Any = None) -> Client:
    """A real twilio ``Client`` talking to the sandbox. ``async_http=True`` uses ``AsyncTwilioHttpClient``
    (call the ``*_async`` methods; close it with ``await client.http_client.close()``)."""
    if http_client is None and async_http:
        from twilio.http.async_http_client import AsyncTwilioHttpClient

        http_client = AsyncTwilioHttpClient()
    return point_client_at(Client(account_sid, auth_token, http_client=http_client), base_url)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; return it, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


async def async_wait_until(predicate: Callable[[], Any | Awaitable[Any]], timeout: float = 10.0,
                           interval: float = 0.05, message: str = "condition") -> Any:
    """Like :func:`wait_until`; ``predicate`` may be a coroutine function."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)


class SandboxControlError(RuntimeError):
    def __init__(self, status: int, body: Any, method: str, path: str):
        super().__init__(f"{method} {path} -> {status}: {body}")
        self.status, self.body = status, body


class _ControlAPI:
    """The control endpoints. On :class:`SandboxControl` every method returns an awaitable."""

    def _call(self, method: str, path: str, json: dict | None = None, params: dict | None = None) -> Any:
        raise NotImplementedError

    def health(self) -> Any:
        return self._call("GET", "/sandbox/health")

    def get_config(self) -> Any:
        return self._call("GET", "/sandbox/config")

    def set_config(self, **changes: Any) -> Any:
        """Change settings, e.g. ``set_config(brand_review_seconds=1, enforce_otp_deadline=True)``."""
        return self._call("POST", "/sandbox/config", json=changes)

    def clock(self) -> Any:
        return self._call("GET", "/sandbox/clock")

    def advance_clock(self, seconds: float) -> Any:
        """Move the sandbox clock forward and run everything then due; answers the clock + ``events_run``."""
        return self._call("POST", "/sandbox/clock/advance", json={"seconds": seconds})

    def create_subaccount(self, friendly_name: str | None = None, parent_sid: str | None = None) -> Any:
        """``{sid, auth_token, friendly_name, parent_sid}``."""
        return self._call("POST", "/sandbox/subaccounts", json=_compact(friendly_name=friendly_name,
                                                                         parent_sid=parent_sid))

    def create_api_key(self, account_sid: str | None = None, friendly_name: str | None = None) -> Any:
        """An API key of ``account_sid`` (default: parent): ``{sid, secret, account_sid, friendly_name}``.
        Use it as ``Client(key_sid, secret, account_sid)``."""
        return self._call("POST", "/sandbox/api-keys", json=_compact(account_sid=account_sid,
                                                                      friendly_name=friendly_name))

    def create_phone_number(self, account_sid: str | None = None, phone_number: str | None = None) -> Any:
        """A 10DLC number owned by ``account_sid`` (default: parent): ``{sid, phone_number, account_sid}``."""
        return self._call("POST", "/sandbox/phone-numbers", json=_compact(account_sid=account_sid,
                                                                           phone_number=phone_number))

    def otp_messages(self, to: str | None = None, brand_sid: str | None = None, direction: str | None = None) -> Any:
        """``{messages: [{sid, direction, kind, to, from, body, sent_at, expires_at, expired, brand_sid, status}]}``;
        ``direction`` = ``outbound`` (default), ``inbound`` or ``all``."""
        return self._call("GET", "/sandbox/otp/messages", params=_compact(to=to, brand_sid=brand_sid,
                                                                          direction=direction))

    def reply_otp(self, from_number: str, body: str = "YES") -> Any:
        """The customer's phone answers: ``{accepted, brand_sid, reason, expired, identity_status}``."""
        return self._call("POST", "/sandbox/otp/reply", json={"from": from_number, "body": body})

    def faults(self) -> Any:
        return self._call("GET", "/sandbox/faults")

    def set_faults(self, **faults: Any) -> Any:
        """latency_ms, latency_jitter_ms, rate_429, rate_500, drop_after_commit, concurrency_limit, seed,
        path_regex, methods. Replaces the whole fault configuration; with ``account_sid``, only that
        account's (its requests get these faults instead of the sandbox-wide ones)."""
        return self._call("POST", "/sandbox/faults", json=faults)

    def clear_faults(self, account_sid: str | None = None) -> Any:
        """The sandbox-wide faults off; with ``account_sid``, that account's own faults."""
        return self._call("POST", "/sandbox/faults", json=_compact(account_sid=account_sid))

    def stats(self, account_sid: str | None = None) -> Any:
        """``{requests: {"POST /v1/CustomerProfiles": {"201": n}}, resources, faults, webhooks, scheduler}``;
        with ``account_sid``, only the requests that account authenticated."""
        return self._call("GET", "/sandbox/stats", params={"account_sid": account_sid} if account_sid else None)

    def requests(self, account_sid: str) -> Any:
        """The requests ``account_sid`` authenticated, in the order answered:
        ``{account_sid, requests: [{endpoint: "POST /v1/CustomerProfiles/{Sid}", path, status, received,
        answered}]}`` (the times in epoch seconds of the sandbox clock)."""
        return self._call("GET", "/sandbox/requests", params={"account_sid": account_sid})

    def account_config(self, account_sid: str) -> Any:
        return self._call("GET", f"/sandbox/accounts/{account_sid}/config")

    def set_account_config(self, account_sid: str, **settings: Any) -> Any:
        """The account's own review delays / ``campaign_updates_supported`` (None: the sandbox's again),
        e.g. ``set_account_config(sub, profile_review_seconds=3600)``; answers its settings."""
        return self._call("POST", f"/sandbox/accounts/{account_sid}/config", json=settings)

    def resources(self, kind: str, **filters: Any) -> Any:
        """All records of ``kind`` across accounts (API shape + ``sandbox`` internals); filters are
        equality on record fields, e.g. ``resources("brands", status="FAILED")``."""
        return self._call("GET", f"/sandbox/resources/{kind}", params={k: str(v) for k, v in filters.items()})

    def set_event_sink(self, url: str | None, account_sid: str | None = None) -> Any:
        return self._call("POST", "/sandbox/event-sink", json={"url": url, "account_sid": account_sid})

    def legacy_fixture(self, **spec: Any) -> Any:
        """Seed 001's legacy customer; answers all the SIDs (see :mod:`sandbox.fixtures`)."""
        return self._call("POST", "/sandbox/fixtures/legacy", json=spec)

    def add_tcr_uses(self, *, mobile_number: str | None = None, email: str | None = None,
                     address: dict | None = None, uses: int = 1) -> Any:
        return self._call("POST", "/sandbox/tcr/uses", json=_compact(mobile_number=mobile_number, email=email,
                                                                      address=address, uses=uses))

    def set_brand_status(self, brand_sid: str, status: str, identity_status: str | None = None,
                         errors: list[dict] | None = None, update_count: int | None = None) -> Any:
        """Force a brand's ``status`` (and ``identity_status``; ``errors`` = ``[{code, message}]``;
        ``update_count``: updates made so far, e.g. in the Console) and send the matching Event Streams
        event; answers the brand's API JSON."""
        return self._call("POST", f"/sandbox/brands/{brand_sid}/status",
                          json=_compact(status=status, identity_status=identity_status, errors=errors,
                                        update_count=update_count))

    def set_campaign_status(self, campaign_sid: str, status: str, errors: list[dict] | None = None) -> Any:
        """Force a campaign's ``status`` (``errors`` = ``[{code, message, fields}]``) and send the matching
        Event Streams event; answers the campaign's API JSON."""
        return self._call("POST", f"/sandbox/campaigns/{campaign_sid}/status",
                          json=_compact(status=status, errors=errors))

    def review_bundle(self, bundle_sid: str) -> Any:
        """Run the bundle's pending review now (its status callback goes out); answers its API JSON."""
        return self._call("POST", f"/sandbox/bundles/{bundle_sid}/review")

    def reject_bundle_reviews(self, bundle_sid: str, failure_reason: str | None) -> Any:
        """The bundle's reviews from now on reject it with ``failure_reason`` (None: the scenarios alone)."""
        return self._call("POST", f"/sandbox/bundles/{bundle_sid}/rejection", json={"failure_reason": failure_reason})

    def webhooks(self) -> Any:
        """Webhook delivery attempts: ``{attempts: [...], counts, pending}``."""
        return self._call("GET", "/sandbox/webhooks")

    def reset(self) -> Any:
        return self._call("POST", "/sandbox/reset")


def _compact(**values: Any) -> dict:
    return {k: v for k, v in values.items() if v is not None}


class SandboxControl(_ControlAPI):
    """Async control client (an ``httpx.AsyncClient`` wrapper)."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, client: httpx.AsyncClient | None = None):
        self.base_url = base_url.rstrip("/")
        self._http = client or httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def _call(self, method: str, path: str, json: dict | None = None, params: dict | None = None) -> Any:
        response = await self._http.request(method, self.base_url + path, json=json, params=params)
        return _answer(response, method, path)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
                         message: str = "condition") -> Any:
        return await async_wait_until(predicate, timeout, interval, message)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "SandboxControl":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class SyncSandboxControl(_ControlAPI):
    """Blocking control client (an ``httpx.Client`` wrapper) with the same methods."""

    def __init__(self, base_url: str, *, timeout: float = 15.0):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout)

    def _call(self, method: str, path: str, json: dict | None = None, params: dict | None = None) -> Any:
        return _answer(self._http.request(method, self.base_url + path, json=json, params=params), method, path)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SyncSandboxControl":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _answer(response: httpx.Response, method: str, path: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise SandboxControlError(response.status_code, body, method, path)
    return body


class SandboxProcess:
    """``python -m sandbox`` in a subprocess. Use as ``with`` / ``async with`` or call start()/stop()."""

    def __init__(self, config: SandboxConfig | dict | None = None, *, host: str = "127.0.0.1",
                 port: int | None = None, db_path: str | os.PathLike | None = None,
                 extra_args: list[str] | None = None, startup_timeout: float = 20.0,
                 env: dict[str, str] | None = None, python: str | None = None, new_session: bool = False):
        if isinstance(config, SandboxConfig):
            config = config.model_dump(exclude_defaults=True)
        self.config = dict(config or {})
        SandboxConfig.model_validate(self.config)  # fail early, in the caller's process
        self.host = host
        self.port = port or free_port(host)
        self.db_path = str(db_path) if db_path else None
        self.extra_args = list(extra_args or [])
        self.startup_timeout = startup_timeout
        self.env = env
        self.python = python or sys.executable
        self.new_session = new_session  # its own session: a Ctrl-C at the terminal reaches only its parent
        self.process: subprocess.Popen | None = None
        self._log: Any = None  # the subprocess's output while it runs (a temp file, removed by stop())
        self._last_logs = ""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [self.python, "-m", "sandbox", "--host", self.host, "--port", str(self.port)]
        if self.db_path:
            cmd += ["--db", self.db_path]
        if self.config:
            cmd += ["--config-json", json.dumps(self.config)]
        return cmd + self.extra_args

    def start(self) -> "SandboxProcess":
        if self.process is not None and self.process.poll() is None:
            return self
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self._log = tempfile.NamedTemporaryFile(prefix="a2p-sandbox-", suffix=".log", delete=False)
        self.process = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                        cwd=str(REPO_ROOT), start_new_session=self.new_session)
        try:
            self._wait_healthy()
        except BaseException:
            self._kill()
            self.process = None
            self._drop_log()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=1.0) as http:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"the sandbox exited with {self.process.returncode}:\n{self.logs()[-4000:]}")
                try:
                    if http.get(self.base_url + "/sandbox/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"the sandbox did not answer within {self.startup_timeout}s:\n"
                                       f"{self.logs()[-4000:]}")
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        self.process = None
        self._drop_log()

    def _drop_log(self) -> None:
        if self._log is not None:
            self._last_logs = self.logs()
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)
            self._log = None

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def restart(self) -> "SandboxProcess":
        """Stop and start again on the same port (with ``db_path``, nothing is lost)."""
        self.stop()
        return self.start()

    def logs(self) -> str:
        """What the process printed (after stop(): what the last run printed)."""
        if self._log is None:
            return self._last_logs
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    def control(self, **kwargs: Any) -> SandboxControl:
        return SandboxControl(self.base_url, **kwargs)

    def sync_control(self, **kwargs: Any) -> SyncSandboxControl:
        return SyncSandboxControl(self.base_url, **kwargs)

    def client(self, account_sid: str = defaults.PARENT_ACCOUNT_SID, auth_token: str = defaults.PARENT_AUTH_TOKEN,
               *, async_http: bool = False) -> Client:
        return twilio_client(self.base_url, account_sid, auth_token, async_http=async_http)

    def __enter__(self) -> "SandboxProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def __aenter__(self) -> "SandboxProcess":
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.to_thread(self.stop)

    def __del__(self) -> None:
        try:
            self._kill()
            self._drop_log()
        except Exception:
            pass
