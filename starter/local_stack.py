"""The main job on the embedded default: a local Temporal dev server with its Web UI, the Twilio
sandbox, a worker — then a sample registration driven to a VERIFIED campaign, the customer's
OTP reply played through the sandbox, progress printed as it happens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from a2p.logging import configure_logging
from a2p.progress import Phase, RegistrationStatus, TERMINAL_PHASES
from a2p.requests import RegistrationRequest
from a2p.settings import Settings, load_settings
from a2p.temporal_client import web_ui_link
from a2p.timings import Timings
from sandbox import defaults
from sandbox.testing import SandboxControl, SandboxProcess
from starter import registrations
from starter.devserver import start_dev_server
from worker import running_worker

EXAMPLE = Path(__file__).resolve().parent.parent / "a2p" / "examples" / "registration.json"
STATE_DIR = Path(".a2p")

# Review delays of the demo's sandbox (seconds on the sandbox clock): quick, but long enough to
# watch each phase in the Web UI.
DEMO_SANDBOX_CONFIG = {
    "profile_review_seconds": 2, "trust_product_review_seconds": 2, "brand_review_seconds": 3,
    "campaign_in_progress_seconds": 2, "campaign_review_seconds": 3,
}


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


async def drive(client, stack: LocalStack, request: RegistrationRequest, timeout: float = 300) -> RegistrationStatus:
    """Start the registration and follow it to its end, answering the OTP as the customer."""
    started = await registrations.start_registration(client, stack.settings, request)
    print(f"registration {started.workflow_id} {'started' if started.created else 'already exists'}")
    print(f"  Web UI: {web_ui_link(stack.settings, started.workflow_id)}", flush=True)
    printer, answered = Printer(), False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await registrations.get_status(client, started.workflow_id)
        printer.show(status)
        if status.phase in TERMINAL_PHASES:
            return status
        if status.phase == Phase.OTP_VERIFICATION and not answered:
            messages = (await stack.sandbox.otp_messages(to=request.customer.mobile_number))["messages"]
            if messages:
                print(f"  customer's phone got from {messages[-1]['from']}: \"{messages[-1]['body']}\"")
                reply = await stack.sandbox.reply_otp(request.customer.mobile_number, "YES")
                print(f"  customer replied YES -> {'accepted' if reply.get('accepted') else reply}", flush=True)
                answered = True
        await asyncio.sleep(0.5)
    raise TimeoutError(f"registration did not finish within {timeout:.0f} s")


async def run_demo(keep_up: bool = False, request_file: Path | None = None) -> int:
    configure_logging("WARNING")
    STATE_DIR.mkdir(exist_ok=True)
    temporal_port, ui_port = free_port(7233), free_port(8233)
    print("starting the local stack: Temporal dev server + Web UI, Twilio sandbox, worker ...", flush=True)
    env = await start_dev_server(port=temporal_port, ui=True, ui_port=ui_port,
                                 db_file=str(STATE_DIR / "temporal-dev.sqlite"))
    try:
        async with SandboxProcess(DEMO_SANDBOX_CONFIG, port=free_port(defaults.DEFAULT_PORT)) as sandbox_proc:
            settings = sandbox_settings(sandbox_proc.base_url, f"127.0.0.1:{temporal_port}",
                                        temporal_ui_url=f"http://127.0.0.1:{ui_port}")
            control = SandboxControl(sandbox_proc.base_url)
            stack = LocalStack(settings=settings, sandbox=control, ui_url=settings.temporal_ui_url)
            print(f"  Temporal  {settings.temporal_address}   Web UI {stack.ui_url}")
            print(f"  sandbox   {sandbox_proc.base_url} (Twilio API: Trust Hub, Addresses, Messaging)", flush=True)
            async with running_worker(env.client, settings):
                data = json.loads((request_file or EXAMPLE).read_text())
                number = await control.create_phone_number()
                data.setdefault("messaging_service", {})["phone_number_sid"] = number["sid"]
                data["isv_customer_id"] = f"{data['isv_customer_id']}-{int(time.time())}"
                data["timings"] = Timings.fast().model_dump(mode="json")
                request = RegistrationRequest.model_validate(data)
                status = await drive(env.client, stack, request)
                ok = status.phase == Phase.COMPLETED and status.statuses.campaign == "VERIFIED"
                print(f"\nresult: {status.phase.value}; brand {status.statuses.brand}/{status.statuses.identity}, "
                      f"campaign {status.statuses.campaign} ({status.sids.campaign})")
                if status.problem:
                    print(f"problem: {status.problem.summary}")
                if keep_up:
                    print(f"\nthe stack stays up: Web UI {stack.ui_url} — Ctrl-C to stop", flush=True)
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.Event().wait()
            await control.aclose()
            return 0 if ok else 1
    finally:
        await env.shutdown()
