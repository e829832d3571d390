"""Service fixtures, real HTTP end to end: the registration service served on a free port in this
process, the dev server (tests/conftest.py), a worker of the real workflows on a private task
queue, and a sandbox of this module's own whose Event Streams sink and bundle status callbacks go
to the service, signed with the sandbox parent account's auth token (= TWILIO_AUTH_TOKEN).

Customers are registered in the sandbox's parent account (that is the account whose token signs
the webhooks); mobile numbers are unique per registration."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from a2p.calls import Call
from a2p.progress import Phase, RegistrationStatus
from infra.settings import Settings
from a2p.timings import Timings
from sandbox import defaults
from sandbox.testing import SandboxControl, SandboxProcess
from starter import registrations
from local_stack.stack import sandbox_settings
from starter.service import bind, create_app, serving, url_of
from tests import factories
from tests.factories import registration_data
from worker import running_worker

API_KEY = "test-service-key"
TOKEN = defaults.PARENT_AUTH_TOKEN

# Reviews quicker than the settle wait (0.5 s) for bundles, a little longer for the brand and the
# campaign; emails and addresses may be reused by every test customer.
SANDBOX_CONFIG = {
    "profile_review_seconds": 0.3, "trust_product_review_seconds": 0.3, "brand_review_seconds": 1,
    "campaign_in_progress_seconds": 0.3, "campaign_review_seconds": 0.7,
    "count_email_and_address_reuse": False, "webhook_initial_backoff_seconds": 0.1,
}

# Polling well behind the webhooks: the first poll 3 s after each wait begins.
TIMINGS = Timings(settle_wait=timedelta(seconds=0.5), otp_resend_interval=timedelta(seconds=30),
                  otp_deadline=timedelta(seconds=120), poll_initial=timedelta(seconds=3),
                  poll_max=timedelta(seconds=10))

POLLS = ("GET /v1/a2p/BrandRegistrations/{Sid}", "GET /v1/Services/{Sid}/Compliance/Usa2p/{Sid}")

_mobiles = itertools.count(2000)


@dataclass
class Stack:
    url: str                    # the service
    settings: Settings
    client: Client
    control: SandboxControl
    http: httpx.AsyncClient     # to the service, with the API key

    async def request(self, *, timings: Timings = TIMINGS, **changes: Any) -> dict[str, Any]:
        """A valid registration request (JSON) of a new customer of the parent account, with its own
        10DLC number and mobile; ``changes``: ``customer__address__street="..."``."""
        number = await self.control.create_phone_number()
        return registration_data(f"svc-{uuid.uuid4().hex[:10]}", mobile_number=f"+1415555{next(_mobiles):04d}",
                                 phone_number_sid=number["sid"], timings=timings, **changes)

    async def start(self, data: dict[str, Any]) -> str:
        response = await self.http.post("/v1/registrations", json=data)
        assert response.status_code == 201, response.text
        return response.json()["workflow_id"]

    async def status(self, workflow_id: str) -> RegistrationStatus:
        return await registrations.get_status(self.client, workflow_id)

    async def polls(self) -> int:
        """Brand and campaign status polls the sandbox has answered so far."""
        requests = (await self.control.stats())["requests"]
        return sum(sum(requests.get(key, {}).values()) for key in POLLS)


@pytest.fixture(scope="module")
async def stack(temporal_env):
    client = temporal_env.client
    async with SandboxProcess(SANDBOX_CONFIG) as sandbox:
        control = SandboxControl(sandbox.base_url)
        sock = bind()
        url = url_of(sock)
        settings = sandbox_settings(
            sandbox.base_url, client.service_client.config.target_host,
            temporal_task_queue=f"svc-{uuid.uuid4().hex[:8]}",
            a2p_service_api_key=API_KEY, a2p_public_base_url=url,
        )
        async with running_worker(client, settings), serving(create_app(settings, client), sock=sock):
            await control.set_event_sink(f"{url}/webhooks/events")
            async with httpx.AsyncClient(base_url=url, timeout=30,
                                         headers={"Authorization": f"Bearer {API_KEY}"}) as http:
                yield Stack(url=url, settings=settings, client=client, control=control, http=http)
        await control.aclose()
    logs = sandbox.logs()
    assert "Traceback" not in logs, logs[-3000:]


# ---- waiting -----------------------------------------------------------------------------------


async def wait_until(stack: Stack, workflow_id: str, predicate: Callable[[RegistrationStatus], bool],
                     timeout: float = 60, what: str = "condition") -> RegistrationStatus:
    return await factories.wait_until(stack.client, workflow_id, predicate, timeout, what)


async def wait_phase(stack: Stack, workflow_id: str, phase: Phase, timeout: float = 60) -> RegistrationStatus:
    return await factories.wait_phase(stack.client, workflow_id, phase, timeout)


answer_otp = factories.answer_otp


async def eventually(check: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    return await factories.eventually(check, timeout, what)


# ---- workflow history ----------------------------------------------------------------------------


async def signals(client: Client, workflow_id: str) -> list[str]:
    """The names of the signals the workflow received, in order."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]


async def activities(client: Client, workflow_id: str, *calls: Call) -> int:
    """How many of ``calls`` the workflow scheduled."""
    names = {str(c) for c in calls}
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
               and e.activity_task_scheduled_event_attributes.activity_type.name in names)


# ---- Twilio's webhooks, as Twilio signs them -----------------------------------------------------


# The service's settings as far as callback URL tokens go (they derive from the auth token).
_CALLBACK_SETTINGS = sandbox_settings("http://127.0.0.1:9", "127.0.0.1:9")


def trusthub_callback(base_url: str, workflow_id: str | None, *, bundle_sid: str, status: str,
                      failure_reason: str = "", token: str | None = TOKEN,
                      account_sid: str = defaults.PARENT_ACCOUNT_SID, url_token: str | bool = True,
                      delivery: str | None = None) -> tuple[str, dict[str, str], dict[str, str]]:
    """(url, form params, headers) of a bundle status callback, as the workflow registered its URL
    (with the token binding it to the workflow id) and Twilio sends it; ``token=None``: unsigned;
    ``workflow_id=None``: a callback URL without one; ``url_token``: False = none, a string = that
    one; ``delivery``: the I-Twilio-Idempotency-Token (a fresh one by default)."""
    url = f"{base_url}/webhooks/trusthub"
    if workflow_id:
        url_token = _CALLBACK_SETTINGS.callback_token(workflow_id) if url_token is True else url_token
        url += f"?workflow_id={quote(workflow_id, safe='')}" + (f"&token={url_token}" if url_token else "")
    params = {"AccountSid": account_sid, "BundleSid": bundle_sid, "Status": status, "FailureReason": failure_reason}
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "I-Twilio-Idempotency-Token": delivery or "WH" + uuid.uuid4().hex}
    if token is not None:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, params)
    return url, params, headers


def event_delivery(base_url: str, events: Any, *, token: str | None = TOKEN) -> tuple[str, bytes, dict[str, str]]:
    """(url, body, headers) of an Event Streams delivery: the body's SHA-256 in the URL, the
    signature over that URL; ``token=None``: unsigned (and no bodySHA256). ``events`` as JSON, or
    the raw body (bytes)."""
    body = events if isinstance(events, bytes) else json.dumps(events, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "I-Twilio-Idempotency-Token": "WH" + uuid.uuid4().hex}
    url = f"{base_url}/webhooks/events"
    if token is not None:
        url += "?" + urlencode({"bodySHA256": hashlib.sha256(body).hexdigest()})
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, {})
    return url, body, headers


_event_clock = itertools.count(1)


def event_time() -> str:
    """Event times that only grow during the session (each call is one second later), all after
    anything the sandbox sends."""
    at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1, seconds=next(_event_clock))
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def brand_event(brand_sid: str, name: str, *, status: str | None, identity: str | None,
                at: str | None = None, event_id: str | None = None, errors: list | None = None) -> dict:
    return {
        "specversion": "1.0", "type": f"com.twilio.messaging.compliance.brand-registration.{name}",
        "source": f"/v1/a2p/BrandRegistrations/{brand_sid}", "id": event_id or "EZ" + uuid.uuid4().hex,
        "time": at or event_time(), "datacontenttype": "application/json",
        "dataschema": "https://events-schemas.twilio.com/A2P.BrandRegistration/1",
        "data": {"accountsid": defaults.PARENT_ACCOUNT_SID, "brandsid": brand_sid, "brandstatus": status,
                 "identitystatus": identity, "brandregistrationerrors": errors or []},
    }


def campaign_event(campaign_sid: str, name: str, *, status: str, brand_sid: str = "",
                   at: str | None = None) -> dict:
    return {
        "specversion": "1.0", "type": f"com.twilio.messaging.compliance.campaign-registration.{name}",
        "source": f"/v1/Services/MG/Compliance/Usa2p/{campaign_sid}", "id": "EZ" + uuid.uuid4().hex,
        "time": at or event_time(), "datacontenttype": "application/json",
        "data": {"accountsid": defaults.PARENT_ACCOUNT_SID, "brandsid": brand_sid, "campaignsid": campaign_sid,
                 "campaignregistrationstatus": status, "campaignregistrationerrors": []},
    }


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ---- a TCP proxy in front of the dev server, to make Temporal unreachable and back -----------------


class TcpProxy:
    """Forwards a local port to ``target`` (host:port); :meth:`cut` closes the port and every
    connection (the frontend is unreachable), :meth:`restore` listens again on the same port.
    ``delay``: seconds each piece of data waits before it is passed on, either way (a slow link:
    every request to the target and back takes at least twice as long)."""

    def __init__(self, target: str, delay: float = 0.0) -> None:
        self.target, self.delay = target, delay
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    restore = start

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self.target.rsplit(":", 1)
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()
                self._writers.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
