"""The main job on the embedded default: a local Temporal dev server with its Web UI, the Twilio
sandbox, a worker and the registration service — then a sample registration started through the
service's API and driven to a VERIFIED campaign by Twilio's webhooks (the sandbox's bundle status
callbacks and Event Streams go to the service, signed with the account's auth token; polling is
only the fallback), the customer's OTP reply played through the sandbox, progress printed as it
happens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from a2p.logging import configure_logging
from a2p.progress import Phase, RegistrationStatus, TERMINAL_PHASES
from a2p.settings import Settings, load_settings
from a2p.timings import Timings
from sandbox import defaults
from sandbox.testing import SandboxControl, SandboxProcess
from starter.devserver import start_dev_server
from starter.service import bind, create_app, serving, url_of
from worker import running_worker

EXAMPLE = Path(__file__).resolve().parent.parent / "a2p" / "examples" / "registration.json"
STATE_DIR = Path(".a2p")

# Review delays of the demo's sandbox (seconds on the sandbox clock): quick, but long enough to
# watch each phase in the Web UI.
DEMO_SANDBOX_CONFIG = {
    "profile_review_seconds": 2, "trust_product_review_seconds": 2, "brand_review_seconds": 3,
    "campaign_in_progress_seconds": 2, "campaign_review_seconds": 3,
}

# Seconds instead of hours and days, with status polls far behind the webhooks: the first poll
# 10 s after each wait begins, so the webhooks drive the demo and polling is only the fallback.
DEMO_TIMINGS = Timings(settle_wait=timedelta(seconds=0.5), otp_resend_interval=timedelta(seconds=30),
                       otp_deadline=timedelta(minutes=5), poll_initial=timedelta(seconds=10),
                       poll_max=timedelta(seconds=60))
STATUS_POLLS = ("GET /v1/a2p/BrandRegistrations/{Sid}", "GET /v1/Services/{Sid}/Compliance/Usa2p/{Sid}")


def free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


@dataclass
class LocalStack:
    settings: Settings
    sandbox: SandboxControl
    ui_url: str
    service_url: str
    api: httpx.AsyncClient  # the service's API, with its key


def bind_preferred(port: int) -> socket.socket:
    """A listening socket on ``port`` if free, else on a free port."""
    try:
        return bind("127.0.0.1", port)
    except OSError:
        return bind("127.0.0.1", 0)


def sandbox_settings(sandbox_url: str, temporal_address: str, **overrides: object) -> Settings:
    """Settings that point a2p-registrar at the sandbox's ISV account."""
    return load_settings(
        twilio_account_sid=defaults.PARENT_ACCOUNT_SID,
        twilio_auth_token=defaults.PARENT_AUTH_TOKEN,
        a2p_primary_customer_profile_sid=defaults.PRIMARY_CUSTOMER_PROFILE_SID,
        twilio_api_base_url=sandbox_url,
        temporal_address=temporal_address,
        **overrides,
    )


class Printer:
    """Prints a registration's progress: each new timeline entry, once."""

    def __init__(self) -> None:
        self.seen = 0
        self.t0 = time.monotonic()

    def show(self, status: RegistrationStatus) -> None:
        for entry in status.timeline[self.seen:]:
            print(f"  [{time.monotonic() - self.t0:6.1f}s] {entry.phase.value:<17} {entry.note}", flush=True)
        self.seen = len(status.timeline)


async def drive(stack: LocalStack, data: dict, timeout: float = 300) -> RegistrationStatus:
    """Start the registration through the service's API and follow it there to its end,
    answering the OTP as the customer."""
    response = await stack.api.post("/v1/registrations", json=data)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"POST /v1/registrations -> {response.status_code}: {response.text}")
    started = response.json()
    workflow_id, mobile = started["workflow_id"], data["customer"]["mobile_number"]
    print(f"registration {workflow_id} {'started' if started['created'] else 'already exists'} "
          f"(POST {stack.service_url}/v1/registrations -> {response.status_code})")
    print(f"  status: GET {started['status_url']}")
    print(f"  Web UI: {started['web_ui']}", flush=True)
    printer, answered = Printer(), False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await stack.api.get(f"/v1/registrations/{workflow_id}")
        if response.status_code == 200:
            status = RegistrationStatus.model_validate(response.json()["status"])
            printer.show(status)
            if status.phase in TERMINAL_PHASES:
                return status
            if status.phase == Phase.OTP_VERIFICATION and not answered:
                messages = (await stack.sandbox.otp_messages(to=mobile))["messages"]
                if messages:
                    print(f"  customer's phone got from {messages[-1]['from']}: \"{messages[-1]['body']}\"")
                    reply = await stack.sandbox.reply_otp(mobile, "YES")
                    print(f"  customer replied YES -> {'accepted' if reply.get('accepted') else reply}", flush=True)
                    answered = True
        await asyncio.sleep(0.5)
    raise TimeoutError(f"registration did not finish within {timeout:.0f} s")


async def webhook_summary(stack: LocalStack) -> str:
    """What reached the service by webhook, and how many status polls were still made."""
    attempts = [a for a in (await stack.sandbox.webhooks())["attempts"] if a["url"].startswith(stack.service_url)]
    callbacks = sum(1 for a in attempts if a["ok"] and a["what"].startswith("status-callback"))
    events = sum(1 for a in attempts if a["ok"] and a["what"].startswith("event"))
    refused = sum(1 for a in attempts if not a["ok"])
    requests = (await stack.sandbox.stats())["requests"]
    polls = sum(sum(requests.get(key, {}).values()) for key in STATUS_POLLS)
    return (f"webhooks accepted by the service: {callbacks} bundle status callbacks, {events} brand/campaign "
            f"events ({refused} not accepted); brand/campaign status polls: {polls}")


async def run_demo(keep_up: bool = False, request_file: Path | None = None) -> int:
    configure_logging("WARNING")
    STATE_DIR.mkdir(exist_ok=True)
    temporal_port, ui_port = free_port(7233), free_port(8233)
    print("starting the local stack: Temporal dev server + Web UI, Twilio sandbox, worker, registration service ...",
          flush=True)
    env = await start_dev_server(port=temporal_port, ui=True, ui_port=ui_port,
                                 db_file=str(STATE_DIR / "temporal-dev.sqlite"))
    try:
        async with SandboxProcess(DEMO_SANDBOX_CONFIG, port=free_port(defaults.DEFAULT_PORT)) as sandbox_proc:
            sock = bind_preferred(8080)
            service_url, api_key = url_of(sock), secrets.token_urlsafe(16)
            # The service is where Twilio's webhooks arrive: bundles get status_callback URLs under
            # it, and the sandbox's Event Streams sink is its /webhooks/events.
            settings = sandbox_settings(sandbox_proc.base_url, f"127.0.0.1:{temporal_port}",
                                        temporal_ui_url=f"http://127.0.0.1:{ui_port}",
                                        a2p_public_base_url=service_url, a2p_service_api_key=api_key)
            control = SandboxControl(sandbox_proc.base_url)
            await control.set_event_sink(f"{service_url}/webhooks/events")
            print(f"  Temporal  {settings.temporal_address}   Web UI {settings.temporal_ui_url}")
            print(f"  sandbox   {sandbox_proc.base_url} (Twilio API: Trust Hub, Addresses, Messaging)")
            async with running_worker(env.client, settings), \
                    serving(create_app(settings, env.client), sock=sock), \
                    httpx.AsyncClient(base_url=service_url, timeout=30,
                                      headers={"Authorization": f"Bearer {api_key}"}) as api:
                stack = LocalStack(settings=settings, sandbox=control, ui_url=settings.temporal_ui_url,
                                   service_url=service_url, api=api)
                print(f"  service   {service_url}   docs {service_url}/docs   (API key {api_key})")
                print(f"            webhooks: {service_url}/webhooks/trusthub (bundle status callbacks), "
                      f"{service_url}/webhooks/events (Event Streams)", flush=True)
                data = json.loads((request_file or EXAMPLE).read_text())
                number = await control.create_phone_number(account_sid=data.get("subaccount_sid"))
                data.setdefault("messaging_service", {})["phone_number_sid"] = number["sid"]
                data["isv_customer_id"] = f"{data['isv_customer_id']}-{int(time.time())}"
                data["timings"] = DEMO_TIMINGS.model_dump(mode="json")
                status = await drive(stack, data)
                ok = status.phase == Phase.COMPLETED and status.statuses.campaign == "VERIFIED"
                print(f"\nresult: {status.phase.value}; brand {status.statuses.brand}/{status.statuses.identity}, "
                      f"campaign {status.statuses.campaign} ({status.sids.campaign})")
                if status.problem:
                    print(f"problem: {status.problem.summary}")
                print(await webhook_summary(stack), flush=True)
                if keep_up:
                    print(f"\nthe stack stays up — Ctrl-C to stop:\n"
                          f"  Web UI   {stack.ui_url}\n"
                          f"  service  {service_url}/docs\n"
                          f"  try      curl -H 'Authorization: Bearer {api_key}' "
                          f"'{service_url}/v1/registrations?phase=COMPLETED'", flush=True)
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.Event().wait()
            await control.aclose()
            return 0 if ok else 1
    finally:
        await env.shutdown()
