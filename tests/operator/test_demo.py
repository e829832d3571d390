"""`a2p demo` as a tool: it says how to reach its stack, the `a2p` CLI works against it with only
Temporal's settings, and Ctrl-C or SIGTERM stop every process it started within 10 s."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
import signal
import subprocess
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from temporalio.client import Client

from sandbox.testing import free_port
from sandbox.testing import SyncSandboxControl
from tests.factories import eventually_sync
from tests.operator.conftest import A2P, REPO, STOP_BOUND, Demo, descendants, hold, start_demo

pytestmark = pytest.mark.slow


def workflow_id(demo: Demo) -> str:
    return demo.value(r"a2p status (a2p-registration-\S+)")


def cli_env(demo: Demo, *, keys: bool = True, **extra: str) -> dict[str, str]:
    """The environment an operator gets from the demo's printed TEMPORAL_ line: no Twilio settings."""
    env = {k: v for k, v in demo.env.items() if k != "A2P_PAYLOAD_KEYS"}
    for pair in demo.value(r"export (TEMPORAL_ADDRESS=\S+ TEMPORAL_UI_URL=\S+)").split():
        name, _, value = pair.partition("=")
        env[name] = value
    if keys:
        env["A2P_PAYLOAD_KEYS"] = demo.env["A2P_PAYLOAD_KEYS"]
    return env | extra


def a2p(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([A2P, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_demo_says_how_to_reach_its_stack_and_that_payloads_are_encrypted(kept_up_demo):
    out = kept_up_demo.output()
    assert "result: COMPLETED" in out
    assert "payloads  encrypted with key 'demo-key' (A2P_PAYLOAD_KEYS)" in out
    assert "export TEMPORAL_ADDRESS=127.0.0.1:" in out and "export TWILIO_API_BASE_URL=http://127.0.0.1:" in out
    assert kept_up_demo.env["A2P_PAYLOAD_KEYS"].split(":", 1)[1] not in out  # the key itself is never printed
    # 8081 was taken (the fixture held it): the codec moved, said so, and the Web UI was pointed there.
    moved = kept_up_demo.value(r"note: port 8081 is taken; the Web UI's codec is on (\d+)")
    assert moved != "8081" and f"through http://127.0.0.1:{moved}/codec" in out


def test_read_only_commands_work_with_only_temporal_settings(kept_up_demo):
    env, wid = cli_env(kept_up_demo), workflow_id(kept_up_demo)

    status = a2p(env, "status", wid)
    assert status.returncode == 0, status.stderr
    assert "phase      COMPLETED" in status.stdout and "campaign VERIFIED" in status.stdout
    assert len(status.stdout.splitlines()) <= 15  # a person's view, not the document

    document = json.loads(a2p(env, "status", wid, "--json").stdout)
    assert document["status"]["phase"] == "COMPLETED" and document["pending_calls"] == []

    table = a2p(env, "list")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["WORKFLOW", "ID", "PHASE", "BRAND", "IDENTITY", "CAMPAIGN", "STARTED"]
    assert any(r.startswith(wid) and "COMPLETED" in r for r in rows)
    assert wid in [r["workflow_id"] for r in json.loads(a2p(env, "list", "--json").stdout)]

    counts = a2p(env, "list", "--counts")
    assert counts.returncode == 0, counts.stderr
    assert counts.stdout.split("\n")[0].split() == ["STARTED", "0"]
    assert "COMPLETED" in counts.stdout and ["COMPLETED", "1"] in [line.split() for line in counts.stdout.splitlines()]


def test_cli_errors_are_one_line_naming_what_to_fix(kept_up_demo):
    env, wid = cli_env(kept_up_demo), workflow_id(kept_up_demo)

    bogus = a2p(env, "list", "--phase", "bogus")
    assert bogus.returncode == 2 and "invalid choice: 'bogus'" in bogus.stderr

    no_keys = a2p(cli_env(kept_up_demo, keys=False), "status", wid)
    assert no_keys.returncode == 1 and no_keys.stdout == ""
    assert no_keys.stderr.strip().splitlines() == [
        "error: the registration's payloads are encrypted: set A2P_PAYLOAD_KEYS to the keys the workers use"]

    port = free_port()
    down = a2p(env | {"TEMPORAL_ADDRESS": f"127.0.0.1:{port}"}, "status", wid)
    assert down.returncode == 1
    assert down.stderr.strip().splitlines() == [
        f"error: Temporal unreachable at 127.0.0.1:{port}: start it, or set TEMPORAL_ADDRESS "
        "(and TEMPORAL_NAMESPACE) to where it runs"]

    for command in ("worker", "service"):  # they need Twilio's settings too
        twilio = dict(pair.partition("=")[::2] for pair in
                      kept_up_demo.value(r"export (TWILIO_API_BASE_URL=.*)").split())
        refused = a2p(env | twilio | {"TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "A2P_SERVICE_PORT": "0"}, command)
        assert refused.returncode == 1 and refused.stderr.strip().splitlines() == [
            f"error: Temporal unreachable at 127.0.0.1:{port}: start it, or set TEMPORAL_ADDRESS "
            "(and TEMPORAL_NAMESPACE) to where it runs"], refused.stderr

    secret = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LW11c3Qtbm90LXByaW50"
    bad_key = a2p(env | {"A2P_PAYLOAD_KEYS": secret}, "status", wid)
    assert bad_key.returncode == 2 and "A2P_PAYLOAD_KEYS: key #1: expected <key id>:<base64 key>" in bad_key.stderr
    assert secret[:4] not in bad_key.stderr

    unknown = a2p(env, "status", "a2p-registration-nobody")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: no registration a2p-registration-nobody in namespace default"


def test_every_command_says_what_it_does():
    top = subprocess.run([A2P, "--help"], capture_output=True, text=True).stdout
    for command in ("demo", "sandbox", "worker", "service", "start", "convert", "status", "list", "correct",
                    "decide", "resend-otp", "cancel"):
        line = next((ln for ln in top.splitlines() if ln.strip().startswith(command)), "")
        assert len(line.split()) > 2 or command == "resend-otp", f"{command} has no description in --help"
    # As the README's CLI section: the read-only commands need no Twilio settings, the rest do.
    assert "Twilio's only for worker, service, start, convert, correct, decide, resend-otp and cancel" in \
        " ".join(top.split())
    assert subprocess.run([A2P, "sandbox", "--help"], capture_output=True, text=True).stdout.startswith(
        "usage: a2p sandbox")


def test_service_answers_at_its_root_and_counts_registrations_per_phase(kept_up_demo):
    url = kept_up_demo.value(r"service   (http://\S+)")
    key = kept_up_demo.value(r"\(API key (\S+)\)")
    root = httpx.get(f"{url}/").json()
    assert root["name"] == "a2p-registrar" and root["version"] and root["links"]["docs"].endswith("/docs")
    assert httpx.get(f"{url}/v1/registrations/counts").status_code == 401
    counts = httpx.get(f"{url}/v1/registrations/counts", headers={"Authorization": f"Bearer {key}"}).json()
    assert counts["counts"]["COMPLETED"] >= 1 and counts["total"] == sum(counts["counts"].values())
    assert set(counts["counts"]) >= {"STARTED", "BRAND_REVIEW", "NEEDS_ATTENTION", "OTP_EXPIRED", "CANCELLED"}


def test_ctrl_c_during_a_registration_stops_every_process_and_the_next_run_starts_clean(tmp_path):
    """`python3 dev.py demo`, the README's command, stopped by Ctrl-C while its registration runs
    (dev.py waits for the demo's own stop); then a second run in the same directory: it starts from
    a clean state — the first run's unfinished registration is gone, not moved to NEEDS_ATTENTION —
    runs to its end, and says how to keep the stack up."""
    first = start_demo(tmp_path, dev_py=True)  # no A2P_PAYLOAD_KEYS
    interrupted = first.wait_for(r"registration (\S+) started", 180).group(1)
    assert "payloads  in clear (A2P_PAYLOAD_KEYS unset)" in first.output()
    code, took, left = first.stop(signal.SIGINT, group=True)  # a terminal's Ctrl-C: the whole foreground group
    assert code == 130 and took < STOP_BOUND and left == set(), (code, took, left, first.output()[-2000:])
    assert "Traceback" not in first.output()

    second = start_demo(tmp_path)  # the same A2P_DEMO_DIR
    own = second.wait_for(r"registration (\S+) started", 180).group(1)
    assert own != interrupted
    env = cli_env(second, keys=False)
    listed = eventually_sync(lambda: [r["workflow_id"] for r in json.loads(a2p(env, "list", "--json").stdout)],
                             30, "the registration listed (visibility lags a moment)", until=lambda ids: own in ids)
    assert listed == [own]
    counted = eventually_sync(lambda: a2p(env, "list", "--counts", "--json"), 30, "the counts per phase",
                              until=lambda done: done.returncode == 0)
    counts = json.loads(counted.stdout)
    assert counts["total"] == 1 and counts["counts"]["NEEDS_ATTENTION"] == 0, counts
    assert second.process.wait(180) == 0, second.output()[-3000:]
    out = second.output()
    assert "result: COMPLETED" in out and "Traceback" not in out
    assert "`python3 dev.py demo --keep-up` keeps it up to browse the Web UI and call the API" in out


def test_ctrl_c_while_the_stack_starts_stops_every_process_within_10_s(tmp_path):
    """With its service's default port (8080) taken: the demo says where the service went instead."""
    service_port = hold(8080)
    try:
        demo = start_demo(tmp_path)
        def starting() -> set:
            assert demo.process.poll() is None, demo.output()
            return descendants(demo.process.pid)

        eventually_sync(starting, 60, "the dev server or the sandbox starting", interval=0.05)
        code, took, left = demo.stop(signal.SIGINT, group=True)
    finally:
        service_port.close()
    assert code == 130 and took < STOP_BOUND and left == set(), (code, took, left, demo.output()[-2000:])
    assert "Traceback" not in demo.output()
    assert re.search(r"note: port 8080 is taken; the service is on (?!8080\b)\d+", demo.output()), demo.output()


def test_a_service_without_the_keys_says_which_setting_is_missing(kept_up_demo, tmp_path):
    """`a2p service` pointed at the demo's Temporal, without A2P_PAYLOAD_KEYS: asked for an
    encrypted registration, it names the setting instead of a bare 500."""
    env = cli_env(kept_up_demo, keys=False)
    for pair in kept_up_demo.value(r"export (TWILIO_API_BASE_URL=.*)").split():
        name, _, value = pair.partition("=")
        env[name] = value
    port = free_port()
    env |= {"A2P_SERVICE_PORT": str(port), "A2P_SERVICE_API_KEY": "operator-test-key", "LOG_LEVEL": "ERROR"}
    service = subprocess.Popen([A2P, "service"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        def healthy() -> bool:
            assert service.poll() is None, service.stderr.read()
            return httpx.get(f"{url}/healthz").status_code == 200

        eventually_sync(healthy, 60, "the service answering /healthz")
        answer = httpx.get(f"{url}/v1/registrations/{workflow_id(kept_up_demo)}",
                           headers={"Authorization": "Bearer operator-test-key"}, timeout=30)
        assert answer.status_code == 500
        assert "set A2P_PAYLOAD_KEYS" in answer.json()["reason"]
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(15)


def test_convert_wait_beats_every_30_s_and_ctrl_c_prints_the_summary_so_far(kept_up_demo, tmp_path):
    """No worker polls the task queue, so the conversion stays STARTED: `convert --wait` says it
    still waits at least every 30 s, and Ctrl-C prints the counts so far and exits 130."""
    env = cli_env(kept_up_demo)
    for pair in kept_up_demo.value(r"export (TWILIO_API_BASE_URL=.*)").split():
        name, _, value = pair.partition("=")
        env[name] = value
    env["TEMPORAL_TASK_QUEUE"] = f"nobody-polls-{uuid.uuid4().hex[:8]}"
    request = tmp_path / "customer.json"
    request.write_text(json.dumps({
        "isv_customer_id": f"crm-wait-{uuid.uuid4().hex[:8]}", "trust_bundle_sid": "BU" + "a" * 32,
        "brand_sid": "BN" + "b" * 32, "brand_name": "Jane Doe Bakery", "mobile_number": "+14155550142"}))
    proc = subprocess.Popen([A2P, "convert", str(request), "--wait"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    follower = Demo(process=proc, env=env)
    threading.Thread(target=lambda: follower.lines.extend(line.rstrip("\n") for line in proc.stdout),
                     daemon=True).start()
    follower.wait_for(r"1 in file: 1 created", 30)
    follower.wait_for(r"\[\s*3\d\.\ds\] still waiting: STARTED 1", 45)
    code, took, _ = follower.stop(signal.SIGINT, group=True)
    assert code == 130 and took < 5, (code, took, follower.output())
    assert re.search(r"so far: STARTED 1", follower.output()) and "interrupted" in follower.output()
    assert "Traceback" not in follower.output()


async def pending_activities(address: str, workflow_id: str) -> tuple[list, list]:
    """The workflow's pending activities as Temporal describes them, and its ActivityTaskScheduled
    events (the Web UI's Pending Activities and Event History)."""
    handle = (await Client.connect(address)).get_workflow_handle(workflow_id)
    pending = list((await handle.describe()).raw_description.pending_activities)
    scheduled = [e.activity_task_scheduled_event_attributes async for e in handle.fetch_history_events()
                 if e.HasField("activity_task_scheduled_event_attributes")]
    return pending, scheduled


def test_status_shows_the_twilio_call_being_retried_and_the_console_one_line_per_failure(kept_up_demo, tmp_path):
    """Twilio answers 500 to every new customer profile: `a2p status` shows the call, its attempt
    and its last failure (from Temporal's pending activity), Temporal shows the retries unlimited
    in number and bounded in time (6 h); the demo's console has one line per failed attempt and no
    traceback."""
    url = kept_up_demo.value(r"service   (http://\S+)")
    key = kept_up_demo.value(r"\(API key (\S+)\)")
    sandbox = SyncSandboxControl(kept_up_demo.value(r"sandbox   (http://\S+)"))
    sandbox.set_faults(rate_500=1.0, path_regex="CustomerProfiles$", methods=["POST"])
    try:
        data = json.loads((REPO / "a2p" / "examples" / "registration.json").read_text())
        data["isv_customer_id"] = f"crm-retry-{uuid.uuid4().hex[:8]}"
        data["messaging_service"]["phone_number_sid"] = sandbox.create_phone_number()["sid"]
        posted = datetime.now(timezone.utc)
        started = httpx.post(f"{url}/v1/registrations", json=data, headers={"Authorization": f"Bearer {key}"},
                             timeout=30)
        assert started.status_code == 201, started.text
        wid, env = started.json()["workflow_id"], cli_env(kept_up_demo)
        eventually_sync(lambda: a2p(env, "status", wid).stdout, 90, "a2p status showing the call being retried",
                        until=lambda out: re.search(r"calling    create_bundle \(attempt [2-9]", out)
                        and "last failure: Twilio 500" in out)
        view = httpx.get(f"{url}/v1/registrations/{wid}", headers={"Authorization": f"Bearer {key}"}).json()
        [call] = view["pending_calls"]
        assert call["call"] == "create_bundle" and call["attempt"] >= 2 and call["retries_until"]
        # As the README says: unlimited attempts (the Web UI's "Attempt N / UNLIMITED"), bounded in
        # time — the call expires 6 h after it was first scheduled, its schedule-to-close timeout
        # (the Web UI's "Schedule To Close Timeout 6 hours" in the scheduled event).
        [pending], [scheduled] = asyncio.run(pending_activities(env["TEMPORAL_ADDRESS"], wid))
        assert pending.activity_type.name == "create_bundle" and pending.maximum_attempts == 0
        expires = pending.expiration_time.ToDatetime(tzinfo=timezone.utc)
        assert posted + timedelta(hours=6) - timedelta(seconds=1) <= expires <= \
            datetime.now(timezone.utc) + timedelta(hours=6), (posted, expires)
        assert scheduled.activity_type.name == "create_bundle"
        assert scheduled.schedule_to_close_timeout.ToTimedelta() == timedelta(hours=6)
        assert scheduled.retry_policy.maximum_attempts == 0
    finally:
        sandbox.clear_faults()
        sandbox.close()
    failures = [line for line in kept_up_demo.lines if "twilio_call_failed" in line]
    assert failures and all("status=500" in line and "attempt=" in line for line in failures)
    assert "Traceback" not in kept_up_demo.output()


def test_sigterm_stops_the_kept_up_demo_and_every_process_it_started(kept_up_demo):
    """Last of this package's uses of the kept-up demo (it ends it)."""
    code, took, left = kept_up_demo.stop(signal.SIGTERM, group=False)
    assert code == 143 and took < STOP_BOUND and left == set(), (code, took, left)
    assert "Traceback" not in kept_up_demo.output()
