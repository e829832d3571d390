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
import os
import secrets
import signal
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

from infra.codec import parse_keys
from infra.logging import configure_logging
from a2p.progress import Phase, RegistrationStatus, TERMINAL_PHASES
from infra.settings import Settings, SettingsError, load_temporal_settings
from infra.temporal_client import connect
from a2p.timings import Timings
from sandbox import defaults
from sandbox.testing import SandboxControl, SandboxProcess
from local_stack.codec import create_local_codec_app, ui_origins
from local_stack.devserver import DevServerProcess
from local_stack.stack import Children, LocalStack, bind_preferred, free_port, sandbox_settings
from starter.service import create_app, serving, url_of
from worker import running_worker

EXAMPLE = Path(__file__).resolve().parent.parent / "a2p" / "examples" / "registration.json"
STATE_DIR = Path(os.environ.get("A2P_DEMO_DIR", ".a2p"))  # this run's Temporal database and log

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


STOP_BOUND_SECONDS = 8.0  # after Ctrl-C / SIGTERM, whatever still runs is killed


def run_demo_process(keep_up: bool = False, request_file: Path | None = None) -> int:
    """`a2p demo`: run the demo until it ends, or until Ctrl-C / SIGTERM, which stop every process
    it started — in order, the worker before the server it polls — within STOP_BOUND_SECONDS (a
    second Ctrl-C kills them at once). Exit status: the demo's, or 130 / 143 when stopped."""
    children = Children()
    loop = asyncio.new_event_loop()
    main = loop.create_task(run_demo(keep_up=keep_up, request_file=request_file, children=children))
    stopping: dict[str, int] = {}

    def hard_stop() -> None:
        children.kill_all()
        sys.stdout.flush()
        os._exit(128 + stopping.get("signal", signal.SIGINT))

    def on_signal(signum: int) -> None:
        if stopping:
            print("killing the demo's processes now", file=sys.stderr, flush=True)
            hard_stop()
        stopping["signal"] = signum
        print(f"\nstopping the demo ({signal.Signals(signum).name}): worker, service, sandbox, Temporal "
              f"— at most {STOP_BOUND_SECONDS:.0f} s; Ctrl-C again kills them now", file=sys.stderr, flush=True)
        timer = threading.Timer(STOP_BOUND_SECONDS, hard_stop)
        timer.daemon = True
        timer.start()
        main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        code = loop.run_until_complete(main)
    except asyncio.CancelledError:
        code = 128 + stopping.get("signal", signal.SIGINT)
    except SettingsError as err:
        print(err, file=sys.stderr)
        code = 2
    finally:
        children.kill_all()
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.wait_for(loop.shutdown_default_executor(), 5))
        children.kill_all()  # a sandbox that was still starting when the demo stopped
    if stopping:
        print("the demo stopped; nothing it started is left running", file=sys.stderr, flush=True)
    return code


def reset_state() -> None:
    """Each demo run starts clean: Temporal's database of the last run is dropped (its sandbox,
    in memory, is gone too, so nothing of an earlier run would find its Twilio resources)."""
    STATE_DIR.mkdir(exist_ok=True)
    for f in STATE_DIR.glob("temporal-dev.sqlite*"):
        f.unlink(missing_ok=True)


async def run_demo(keep_up: bool = False, request_file: Path | None = None, children: Children | None = None) -> int:
    configure_logging("WARNING")
    children = children or Children()
    payload_keys = load_temporal_settings().a2p_payload_keys  # the environment's (or .env's), validated
    reset_state()
    ports = {"Temporal": (7233, free_port(7233)), "Web UI": (8233, free_port(8233)),
             "sandbox": (defaults.DEFAULT_PORT, free_port(defaults.DEFAULT_PORT))}
    sock = bind_preferred(8080)
    ports["service"] = (8080, sock.getsockname()[1])
    codec_sock = bind_preferred(8081) if payload_keys is not None else None
    if codec_sock is not None:
        ports["Web UI's codec"] = (8081, codec_sock.getsockname()[1])
    temporal_port, ui_port, sandbox_port = (ports[k][1] for k in ("Temporal", "Web UI", "sandbox"))
    service_url, api_key = url_of(sock), secrets.token_urlsafe(16)
    origins = ui_origins(ui_port)
    codec_url = f"{url_of(codec_sock)}/codec" if codec_sock is not None else None
    # The service is where Twilio's webhooks arrive: bundles get status_callback URLs under it, and
    # the sandbox's Event Streams sink is its /webhooks/events.
    settings = sandbox_settings(f"http://127.0.0.1:{sandbox_port}", f"127.0.0.1:{temporal_port}",
                                temporal_ui_url=f"http://127.0.0.1:{ui_port}",
                                a2p_public_base_url=service_url, a2p_service_api_key=api_key,
                                a2p_codec_cors_origins=",".join(origins))
    print("starting the local stack from a clean state: Temporal dev server + Web UI, Twilio sandbox, worker, "
          "registration service ...", flush=True)
    for name, (default, port) in ports.items():
        if port != default:
            print(f"  note: port {default} is taken; the {name} is on {port}", flush=True)
    devserver = children.add(DevServerProcess(port=temporal_port, ui_port=ui_port, ui_codec_endpoint=codec_url,
                                              db_file=str(STATE_DIR / "temporal-dev.sqlite"),
                                              log_file=str(STATE_DIR / "temporal-dev.log")))
    sandbox_proc = children.add(SandboxProcess(DEMO_SANDBOX_CONFIG, port=sandbox_port, new_session=True))
    sandbox_started = threading.Event()  # its start() has returned or failed (it runs in a thread)

    def start_sandbox() -> None:
        try:
            sandbox_proc.start()
        finally:
            sandbox_started.set()

    try:
        client, _ = await asyncio.gather(devserver.start(lambda: connect(settings)), asyncio.to_thread(start_sandbox))
        async with contextlib.AsyncExitStack() as stack:
            control = SandboxControl(sandbox_proc.base_url)
            stack.push_async_callback(control.aclose)
            await control.set_event_sink(f"{service_url}/webhooks/events")
            print(f"  Temporal  {settings.temporal_address}   Web UI {settings.temporal_ui_url}")
            print(f"  sandbox   {sandbox_proc.base_url} (Twilio API: Trust Hub, Addresses, Messaging)")
            if payload_keys is not None:
                key_id = parse_keys(payload_keys.get_secret_value())[0][0]
                print(f"  payloads  encrypted with key {key_id!r} (A2P_PAYLOAD_KEYS); the Web UI decodes them "
                      f"through {codec_url} (this machine's browser only)")
                await stack.enter_async_context(
                    serving(create_local_codec_app(settings, origins), sock=codec_sock))
            else:
                print("  payloads  in clear (A2P_PAYLOAD_KEYS unset)")
            await stack.enter_async_context(running_worker(client, settings))
            await stack.enter_async_context(serving(create_app(settings, client), sock=sock))
            api = await stack.enter_async_context(httpx.AsyncClient(
                base_url=service_url, timeout=30, headers={"Authorization": f"Bearer {api_key}"}))
            local = LocalStack(settings=settings, sandbox=control, ui_url=settings.temporal_ui_url,
                               service_url=service_url, api=api)
            print(f"  service   {service_url}   docs {service_url}/docs   (API key {api_key})")
            print(f"            webhooks: {service_url}/webhooks/trusthub (bundle status callbacks), "
                  f"{service_url}/webhooks/events (Event Streams)")
            print("  the a2p CLI uses this stack with (another shell, in the venv):")
            for line in cli_environment(settings):
                print(f"    {line}")
            print(flush=True)
            data = json.loads((request_file or EXAMPLE).read_text())
            number = await control.create_phone_number(account_sid=data.get("subaccount_sid"))
            data.setdefault("messaging_service", {})["phone_number_sid"] = number["sid"]
            data["isv_customer_id"] = f"{data['isv_customer_id']}-{int(time.time())}"
            data["timings"] = DEMO_TIMINGS.model_dump(mode="json")
            status = await drive(local, data)
            ok = status.phase == Phase.COMPLETED and status.statuses.campaign == "VERIFIED"
            print(f"\nresult: {status.phase.value}; brand {status.statuses.brand}/{status.statuses.identity}, "
                  f"campaign {status.statuses.campaign} ({status.sids.campaign})")
            if status.problem:
                print(f"problem: {status.problem.summary}")
            print(await webhook_summary(local), flush=True)
            if keep_up:
                print(f"\nthe stack stays up — Ctrl-C to stop:\n"
                      f"  Web UI   {local.ui_url}\n"
                      f"  service  {service_url}/docs\n"
                      f"  try      curl -H 'Authorization: Bearer {api_key}' "
                      f"'{service_url}/v1/registrations/counts'\n"
                      f"           a2p status {status.workflow_id}", flush=True)
                await asyncio.Event().wait()
            else:
                print("\nthe stack is stopped; `python3 dev.py demo --keep-up` keeps it up to browse the Web UI "
                      "and call the API", flush=True)
            return 0 if ok else 1
    finally:
        sock.close()
        if codec_sock is not None:
            codec_sock.close()
        # Both at once, each given 3 s before it is killed: the whole stop stays within the bound. A
        # sandbox still starting is killed instead (its start() then fails at once, as it should).
        if not sandbox_started.is_set():
            children.kill(sandbox_proc)
        stops = [asyncio.to_thread(devserver.stop, 3.0)]
        if sandbox_started.is_set():
            stops.append(asyncio.to_thread(sandbox_proc.stop, 3.0))
        await asyncio.gather(*stops)


def cli_environment(settings: Settings) -> list[str]:
    """`export` lines that point the `a2p` CLI at the demo's stack (the sandbox's credentials are
    public test values; A2P_PAYLOAD_KEYS, a real secret, is named, not printed)."""
    lines = [f"export TEMPORAL_ADDRESS={settings.temporal_address} TEMPORAL_UI_URL={settings.temporal_ui_url}",
             f"export TWILIO_API_BASE_URL={settings.twilio_api_base_url} "
             f"TWILIO_ACCOUNT_SID={settings.twilio_account_sid} "
             f"TWILIO_AUTH_TOKEN={settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ''} "
             f"A2P_PRIMARY_CUSTOMER_PROFILE_SID={settings.a2p_primary_customer_profile_sid}"]
    if settings.a2p_payload_keys is not None:
        lines.append("# and the same A2P_PAYLOAD_KEYS as this shell's")
    return lines
