"""The benchmark's measurements, one coroutine per phase; each returns a dict of figures that
bench/report.py prints. Phases run one after another on one stack (bench/stack.py)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from a2p import search_attributes as sa
from a2p.progress import BrandEvent, Phase
from a2p.requests import Correction
from a2p.timings import Timings
from bench import procs
from bench.noop import NOOP_WORKFLOW
from bench.figures import History, Meter, faults_delta, histories, median, percentile, stats_delta, time_split
from bench.stack import BenchError, Stack, Stalled, run_registrations
from starter import registrations

# The documented minimum of Twilio calls for one new customer, happy path (seed 000 sections 1-4),
# by sandbox endpoint: (endpoint, calls, why).
MINIMUM_WRITES = [
    ("POST /v1/CustomerProfiles", 1, "1.2 starter customer profile"),
    ("POST /v1/EndUsers", 2, "1.3 starter end user + 2.3 sole proprietor end user"),
    ("POST /2010-04-01/Accounts/{Sid}/Addresses.json", 1, "1.4 the customer's address"),
    ("POST /v1/SupportingDocuments", 1, "1.5 address supporting document"),
    ("POST /v1/CustomerProfiles/{Sid}/EntityAssignments", 3, "1.6 end user, document, ISV primary profile"),
    ("POST /v1/CustomerProfiles/{Sid}/Evaluations", 1, "1.7 evaluate before submitting"),
    ("POST /v1/CustomerProfiles/{Sid}", 1, "1.8 submit (pending-review)"),
    ("POST /v1/TrustProducts", 1, "2.2 sole proprietor trust bundle"),
    ("POST /v1/TrustProducts/{Sid}/EntityAssignments", 2, "2.4 end user, starter profile"),
    ("POST /v1/TrustProducts/{Sid}/Evaluations", 1, "2.5 evaluate"),
    ("POST /v1/TrustProducts/{Sid}", 1, "2.6 submit"),
    ("POST /v1/a2p/BrandRegistrations", 1, "3.1 sole proprietor brand"),
    ("POST /v1/Services", 1, "4.1 messaging service"),
    ("POST /v1/Services/{Sid}/PhoneNumbers", 1, "4.2 the 10DLC number"),
    ("POST /v1/Services/{Sid}/Compliance/Usa2p", 1, "4.3 sole proprietor campaign"),
]
MINIMUM_READS = [
    ("GET /v1/a2p/BrandRegistrations", 1,
     "a brand is looked for before it is registered, every time (a reset run may repeat it): one page"),
    ("GET /v1/CustomerProfiles/{Sid}", 1, "check after the 30 s settle wait: a rejection surfaces here"),
    ("GET /v1/TrustProducts/{Sid}", 1, "the same for the trust bundle"),
    ("GET /v1/a2p/BrandRegistrations/{Sid}", 1,
     "no webhooks: one poll sees APPROVED (+ VERIFIED if the customer replied YES by then; else 1 more)"),
    ("GET /v1/Services/{Sid}/Compliance/Usa2p/{Sid}", 1, "no webhooks: one poll sees VERIFIED"),
]
MINIMUM_TOTAL = sum(n for _, n, _ in MINIMUM_WRITES + MINIMUM_READS)


def _is_lookup(endpoint: str) -> bool:
    """A GET of a list (what a retried create looks through), not of one resource."""
    method, path = endpoint.split(" ", 1)
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return method == "GET" and last not in ("{Sid}", "{Sid}.json")


def _ok(statuses: dict[str, int]) -> int:
    return sum(n for code, n in statuses.items() if code.startswith("2"))


def _window(hs: list[History]) -> float:
    first = min(h.started for h in hs)
    last = max(h.closed for h in hs if h.closed)
    return (last - first).total_seconds()


def _phases(finals: list) -> dict[str, int]:
    return dict(Counter(f.phase.value for f in finals))


# ---- 1 + 3 + 4 (happy path): throughput ---------------------------------------------------------


async def throughput(stack: Stack, n: int, timings: Timings) -> dict[str, Any]:
    queue, worker = stack.queues["worker"], stack.workers["worker"]
    requests = await stack.customers("tp", n, timings)
    before = await stack.control.stats()
    meter = Meter(worker=worker.pid, server=stack.server.pid, sandbox=stack.sandbox_pid)
    finals = await run_registrations(stack, queue, requests)
    meter.stop()
    after = await stack.control.stats()
    hs = await histories(stack.client, [r.workflow_id for r in requests])
    window = _window(hs)
    e2e = [h.seconds for h in hs if h.seconds is not None]
    calls = stats_delta(after, before)
    shape, shape_count = Counter(h.steps for h in hs).most_common(1)[0]
    return {
        "n": n, "phases": _phases(finals), "completed": sum(f.phase == Phase.COMPLETED for f in finals),
        "window_s": window, "rate": n / window, "time": time_split(hs),
        "p50_s": percentile(e2e, 50), "p95_s": percentile(e2e, 95), "max_s": max(e2e),
        "cpu_s": meter.cpu, "wall_s": meter.wall,
        "cpu_per_reg": {k: v / n for k, v in meter.cpu.items()},
        "worker_rss_mb": procs.rss_mb(worker.pid), "server_rss_mb": procs.rss_mb(stack.server.pid),
        "calls": calls,
        "events": sorted(h.events for h in hs),
        "workflow_tasks": median([h.workflow_tasks for h in hs]),
        "event_types": dict(Counter(hs[0].types)),
        "activities_per_reg": median([sum(h.activities.values()) for h in hs]),
        "timers_per_reg": median([h.timers for h in hs]),
        "retried_activities": sum(h.retried_activities for h in hs),
        "failed_activities": sum(h.failed_activities for h in hs),
        "shape": list(shape), "shape_share": shape_count / n,
    }


def calls_table(calls: dict[str, dict[str, int]], n: int) -> dict[str, Any]:
    """Item 3: measured calls per registration by endpoint against the documented minimum."""
    rows = []
    known = set()
    for kind, table in (("write", MINIMUM_WRITES), ("read", MINIMUM_READS)):
        for endpoint, minimum, why in table:
            known.add(endpoint)
            statuses = calls.get(endpoint, {})
            rows.append({"kind": kind, "endpoint": endpoint, "minimum": minimum, "why": why,
                         "per_reg": _ok(statuses) / n, "other": {c: k for c, k in statuses.items() if not c.startswith("2")}})
    for endpoint, statuses in sorted(calls.items()):
        if endpoint not in known:
            rows.append({"kind": "read" if endpoint.startswith("GET") else "write", "endpoint": endpoint,
                         "minimum": 0, "why": "not needed on the happy path", "per_reg": _ok(statuses) / n,
                         "other": {c: k for c, k in statuses.items() if not c.startswith("2")}})
    writes = sum(r["per_reg"] for r in rows if r["kind"] == "write")
    reads = sum(r["per_reg"] for r in rows if r["kind"] == "read")
    lookups = sum(_ok(s) + sum(v for c, v in s.items() if not c.startswith("2"))
                  for e, s in calls.items() if _is_lookup(e))
    return {"rows": rows, "writes": writes, "reads": reads, "total": writes + reads,
            "minimum_writes": sum(n for _, n, _ in MINIMUM_WRITES),
            "minimum_reads": sum(n for _, n, _ in MINIMUM_READS), "minimum": MINIMUM_TOTAL,
            "lookups": lookups, "non_2xx": sum(sum(r["other"].values()) for r in rows)}


# ---- 2: the no-op limit -------------------------------------------------------------------------


async def noop_limit(stack: Stack, n: int, shape: list[float]) -> dict[str, Any]:
    child, queue = await stack.start_worker("noop", "bench.noop_worker")
    try:
        ids = [f"bench-{stack.run_id}-noop-{i}" for i in range(n)]
        sem = asyncio.Semaphore(100)
        meter = Meter(worker=child.pid, server=stack.server.pid)

        async def one(wid: str) -> None:
            async with sem:
                handle = await stack.client.start_workflow(NOOP_WORKFLOW, shape, id=wid, task_queue=queue)
            await handle.result()

        await asyncio.wait_for(asyncio.gather(*(one(w) for w in ids)), 1800)
        meter.stop()
        hs = await histories(stack.client, ids)
        window = _window(hs)
        e2e = [h.seconds for h in hs]
        return {
            "n": n, "activities": sum(1 for s in shape if s == 0), "timers": sum(1 for s in shape if s > 0),
            "window_s": window, "rate": n / window, "time": time_split(hs),
            "p50_s": percentile(e2e, 50), "p95_s": percentile(e2e, 95),
            "cpu_s": meter.cpu, "cpu_per_wf": {k: v / n for k, v in meter.cpu.items()},
            "events": median([h.events for h in hs]),
        }
    finally:
        stack.stop_worker("noop")


# ---- 4: histories of the long OTP wait and of a remediation --------------------------------------


async def _wait_phase(stack: Stack, wid: str, phases: set[Phase], timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = await registrations.get_status(stack.client, wid)
            if status.phase in phases:
                return status
        except Exception:  # noqa: BLE001 - its first workflow task may not have run yet
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"{wid} did not reach {', '.join(sorted(phases))} within {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def _wait_end(stack: Stack, wid: str, timeout: float):
    """Wait for the registration to end; one that stops for a person is an error here."""
    status = await _wait_phase(stack, wid, {Phase.COMPLETED, Phase.FAILED, Phase.CANCELLED, Phase.NEEDS_ATTENTION,
                                            Phase.OTP_EXPIRED}, timeout)
    if status.phase != Phase.COMPLETED:
        problem = status.problem.summary if status.problem else "-"
        raise BenchError(f"{wid} stopped in {status.phase.value}: {problem}")
    return status


async def long_otp(stack: Stack, day: float = 2.0, answer_day: int = 29) -> dict[str, Any]:
    """The default timings compressed so that 1 day lasts ``day`` seconds; the customer answers
    at day ``answer_day`` of the OTP wait — right after a re-send, because a YES between a status
    poll and a due re-send makes that re-send fail (see the README's Benchmark section) — or right
    after the last re-send before the 30-day deadline, if that comes first."""
    timings = Timings.compressed(day / 86400)
    queue = stack.queues["worker"]
    [request] = await stack.customers("otp29", 1, timings)
    mobile = request.customer.mobile_number
    await registrations.start_registration(stack.client, stack.settings, request, task_queue=queue)
    status = await _wait_phase(stack, request.workflow_id, {Phase.OTP_VERIFICATION}, 120)
    entered = time.monotonic()
    deadline = entered + (status.otp.deadline_at - datetime.now(timezone.utc)).total_seconds()
    sent = 1
    while True:
        count = sum(1 for m in (await stack.control.otp_messages(to=mobile))["messages"] if m["kind"] == "otp")
        now = time.monotonic()
        if count > sent:   # a re-send just went out: the next one is a day away, polls come first
            interval = (now - entered) / (count - 1)
            sent = count
            if now - entered >= answer_day * day or now + interval > deadline - 0.1 * day:
                break
        if now > deadline:
            raise BenchError(f"the 30-day deadline passed after {sent - 1} re-sends")
        await asyncio.sleep(0.01)
    answered_after = time.monotonic() - entered
    reply = await stack.control.reply_otp(mobile, "YES")
    final = await _wait_end(stack, request.workflow_id, 120)
    [h] = await histories(stack.client, [request.workflow_id])
    return {"events": h.events, "phase": final.phase.value, "resends": final.otp.resends, "day_s": day,
            "answered_after_days": answered_after / day, "reply_accepted": reply.get("accepted"),
            "brand_polls": h.activities.get("fetch_brand", 0), "activities": sum(h.activities.values()),
            "timers": h.timers, "workflow_tasks": h.workflow_tasks,
            "events_per_day": h.events / ((h.closed - h.started).total_seconds() / day)}


async def remediation(stack: Stack, timings: Timings) -> dict[str, Any]:
    """Street "1 Jersey Str" (the seed's Invalid Street), corrected to "1 Jersey St"."""
    queue = stack.queues["worker"]
    [request] = await stack.customers("fix", 1, timings, customer__address__street="1 Jersey Str")
    await registrations.start_registration(stack.client, stack.settings, request, task_queue=queue)
    status = await _wait_phase(stack, request.workflow_id, {Phase.NEEDS_ATTENTION, Phase.COMPLETED, Phase.FAILED}, 120)
    if status.phase != Phase.NEEDS_ATTENTION:
        raise BenchError(f"the remediation registration did not stop for a correction: {status.phase}")
    problem = status.problem.summary if status.problem else "?"
    stack.phones.expect([request.customer.mobile_number])
    await registrations.correct(stack.client, request.workflow_id, Correction(address={"street": "1 Jersey St"}))
    final = await _wait_end(stack, request.workflow_id, 120)
    [h] = await histories(stack.client, [request.workflow_id])
    return {"events": h.events, "phase": final.phase.value, "problem": problem[:120],
            "activities": sum(h.activities.values()), "timers": h.timers}


# ---- 6: the rate-limit ceiling ------------------------------------------------------------------


async def _sample_calls(stack: Stack, samples: list[tuple[float, int]]) -> None:
    """Every second: (time, successful Twilio calls so far) — for the steady-state rate."""
    while True:
        stats = await stack.control.stats()
        samples.append((time.monotonic(), sum(_ok(s) for s in stats.get("requests", {}).values())))
        await asyncio.sleep(1.0)


async def rate_limit(stack: Stack, n: int, timings: Timings, cap: int, latency_ms: float) -> dict[str, Any]:
    # A worker of its own, told Twilio's per-account concurrency limit (TWILIO_MAX_CONCURRENT_REQUESTS):
    # requests past it wait in the worker rather than draw 429s.
    worker, queue = await stack.start_worker("rl", TWILIO_MAX_CONCURRENT_REQUESTS=str(cap))
    requests = await stack.customers("rl", n, timings)
    await stack.control.set_config(smsotp_rate_per_second=10)
    await stack.control.set_faults(latency_ms=latency_ms, concurrency_limit=cap)
    samples: list[tuple[float, int]] = []
    bound = cap / (latency_ms / 1000) / MINIMUM_TOTAL
    limit = max(300.0, 4 * n / bound)   # 4x the time the bound allows: long enough to call it a stall
    stalled: Stalled | None = None
    try:
        before = await stack.control.stats()
        meter = Meter(worker=worker.pid, server=stack.server.pid, sandbox=stack.sandbox_pid)
        sampler = asyncio.create_task(_sample_calls(stack, samples))
        try:
            finals = await run_registrations(stack, queue, requests, timeout=limit)
        except Stalled as err:
            stalled, finals = err, []
        finally:
            sampler.cancel()
        meter.stop()
        after = await stack.control.stats()
    finally:
        await stack.control.clear_faults()
        stack.stop_worker("rl")
    if stalled is not None:
        calls = stats_delta(after, before)
        return {"n": n, "cap": cap, "latency_ms": latency_ms, "bound": bound, "stalled": str(stalled),
                "completed": stalled.ended, "limit_s": limit, "rate": stalled.ended / limit,
                "n429": sum(s.get("429", 0) for s in calls.values()), "faults": faults_delta(after, before),
                "ok_calls_per_reg": sum(_ok(s) for s in calls.values()) / n,
                "lookups_per_reg": sum(sum(s.values()) for e, s in calls.items() if _is_lookup(e)) / n}
    hs = await histories(stack.client, [r.workflow_id for r in requests])
    calls = stats_delta(after, before)
    ok = sum(_ok(s) for s in calls.values())
    n429 = sum(s.get("429", 0) for s in calls.values())
    window = _window(hs)
    lookups = sum(sum(s.values()) for e, s in calls.items() if _is_lookup(e))
    # Steady state: the calls that went through in the middle half of the run (ramp-up and tail
    # left out), turned into registrations by this run's calls per registration.
    steady_calls = float("nan")
    if len(samples) >= 8:
        lo, hi = samples[len(samples) // 4], samples[3 * len(samples) // 4]
        steady_calls = (hi[1] - lo[1]) / (hi[0] - lo[0])
    return {
        "n": n, "cap": cap, "latency_ms": latency_ms, "phases": _phases(finals),
        "completed": sum(f.phase == Phase.COMPLETED for f in finals),
        "bound": bound, "rate": n / window, "window_s": window,
        "steady_calls_per_s": steady_calls, "steady_rate": steady_calls / (ok / n),
        "ok_calls_per_reg": ok / n, "lookups_per_reg": lookups / n, "calls_per_s": ok / window,
        "cap_calls_per_s": cap / (latency_ms / 1000),
        "n429": n429, "faults": faults_delta(after, before),
        "retried_activities": sum(h.retried_activities for h in hs),
        "failed_activities": sum(h.failed_activities for h in hs),
        "p50_s": percentile([h.seconds for h in hs], 50), "time": time_split(hs),
        "cpu_per_reg": {k: v / n for k, v in meter.cpu.items()},
    }


# ---- 7: the sequential peer ---------------------------------------------------------------------


async def peer(stack: Stack, n: int, sample: int, timings: Timings, latency_ms: float) -> dict[str, Any]:
    queue = stack.queues["worker"]
    orchestrated = await stack.customers("po", n, timings)
    sequential = await stack.customers("pp", sample, timings)
    await stack.control.set_faults(latency_ms=latency_ms)
    try:
        t0 = time.monotonic()
        finals = await run_registrations(stack, queue, orchestrated)
        orchestrated_s = time.monotonic() - t0
        hs = await histories(stack.client, [r.workflow_id for r in orchestrated])

        workdir = Path(tempfile.mkdtemp(prefix="a2p-bench-peer-"))
        (workdir / "requests.json").write_text(json.dumps([r.model_dump(mode="json") for r in sequential]))
        stack.phones.expect(r.customer.mobile_number for r in sequential)
        before = await stack.control.stats()
        child = procs.python_module("peer", "bench.peer", stack.worker_env("unused"), [
            "--base-url", stack.sandbox.base_url, "--requests", str(workdir / "requests.json"),
            "--out", str(workdir / "times.json")])
        t1 = time.monotonic()
        limit = 600 + sample * 120
        while child.alive():
            if time.monotonic() - t1 > limit:
                child.stop()
                raise BenchError(f"the peer did not finish {sample} customers within {limit} s")
            await asyncio.sleep(0.2)
        peer_wall = time.monotonic() - t1
        after = await stack.control.stats()
        code, log = child.proc.returncode, child.tail()
        child.stop()
        times = json.loads((workdir / "times.json").read_text()) if (workdir / "times.json").exists() else []
        for f in workdir.iterdir():
            f.unlink()
        workdir.rmdir()
    finally:
        await stack.control.clear_faults()
    if code != 0 or len(times) != sample:
        raise BenchError(f"the peer failed ({code}):\n{log}")
    per_customer = sum(t["seconds"] for t in times) / sample
    peer_calls = sum(_ok(s) for s in stats_delta(after, before).values()) / sample
    extrapolated = per_customer * n
    return {
        "n": n, "sample": sample, "latency_ms": latency_ms, "phases": _phases(finals),
        "completed": sum(f.phase == Phase.COMPLETED for f in finals),
        "orchestrated_s": orchestrated_s, "orchestrated_window_s": _window(hs),
        "orchestrated_p50_s": percentile([h.seconds for h in hs], 50),
        "orchestrated_p95_s": percentile([h.seconds for h in hs], 95),
        "orchestrated_polls": dict(Counter(h.activities.get("fetch_brand", 0) + h.activities.get("fetch_campaign", 0)
                                           for h in hs)),
        "orchestrated_time": time_split(hs),
        "peer_per_customer_s": per_customer, "peer_wall_s": peer_wall, "peer_calls_per_customer": peer_calls,
        "peer_outcomes": dict(Counter(t["outcome"] for t in times)),
        "peer_total_s": extrapolated, "extrapolated": sample < n,
        "speedup": extrapolated / orchestrated_s,
    }


# ---- 5: parked registrations --------------------------------------------------------------------


async def _count(stack: Stack, query: str) -> int:
    return (await stack.client.count_workflows(query)).count


async def _quiet(pid: int, threshold: float = 0.05, window: float = 3.0, timeout: float = 120.0) -> float:
    """Wait until the process uses less than ``threshold`` of a core over ``window`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        c0 = procs.cpu_seconds(pid)
        await asyncio.sleep(window)
        share = (procs.cpu_seconds(pid) - c0) / window
        if share < threshold or time.monotonic() > deadline:
            return share


async def parked(stack: Stack, m: int, window: int, max_minutes: float | None = None) -> dict[str, Any]:
    """Park ``m`` registrations in the OTP wait (or as many as ``max_minutes`` of parking allow:
    the dev server slows as registrations accumulate), then measure memory and a signal burst."""
    # A fresh worker: its memory is that of the parked registrations, not of earlier phases.
    stack.stop_worker("worker")
    worker, queue = await stack.start_worker("parked")
    await asyncio.sleep(2)
    base = {"worker": procs.rss_mb(worker.pid), "server": procs.rss_mb(stack.server.pid),
            "sandbox": procs.rss_mb(stack.sandbox_pid)}
    # The fastest honest way to OTP_VERIFICATION: reviews of 0 s at the sandbox, a 10 ms settle
    # wait, the first status poll after 1 s; from then on the real timings (polls every 6 h,
    # OTP re-sent every 24 h, 30-day deadline) so that a parked registration waits as in production.
    timings = Timings(settle_wait=timedelta(milliseconds=10), poll_initial=timedelta(seconds=1),
                      poll_max=timedelta(hours=6), poll_backoff=100000.0)
    await stack.control.set_config(profile_review_seconds=0, trust_product_review_seconds=0, brand_review_seconds=0)
    requests = await stack.customers("pk", m, timings, with_number=False)
    in_queue = f"TaskQueue = '{queue}'"
    waiting = f"{in_queue} AND {sa.PHASE.name} = '{Phase.OTP_VERIFICATION.value}'"
    stuck = (f"{in_queue} AND ({sa.PHASE.name} = '{Phase.NEEDS_ATTENTION.value}' "
             f"OR ExecutionStatus != 'Running')")
    sem = asyncio.Semaphore(100)

    async def start(r) -> None:
        async with sem:
            await registrations.start_registration(stack.client, stack.settings, r, task_queue=queue)

    meter = Meter(worker=worker.pid, server=stack.server.pid, sandbox=stack.sandbox_pid)
    t0 = time.monotonic()
    started, parked_now, tasks, last_progress = 0, 0, [], (0, time.monotonic())
    target, curve, next_sample = m, [], t0
    while parked_now < target:
        if max_minutes is not None and target == m and time.monotonic() - t0 > max_minutes * 60:
            target = started   # time is up: no more starts; those on their way still park
        while started < target and started - parked_now < window:
            tasks.append(asyncio.create_task(start(requests[started])))
            started += 1
        await asyncio.sleep(1.0)
        parked_now = await _count(stack, waiting)
        if time.monotonic() >= next_sample:
            curve.append((round(time.monotonic() - t0), parked_now, procs.rss_mb(worker.pid)))
            next_sample += 60
        if parked_now > last_progress[0]:
            last_progress = (parked_now, time.monotonic())
        elif time.monotonic() - last_progress[1] > 120:
            bad = await _count(stack, stuck)
            raise BenchError(f"parking stalled at {parked_now}/{target} ({bad} need attention or ended)")
    await asyncio.gather(*tasks)
    park_s = time.monotonic() - t0
    asked, m = m, parked_now
    meter.stop()
    idle_share = await _quiet(worker.pid)   # the last ones' first OTP-phase poll is done
    await asyncio.sleep(2)
    rss = {"worker": procs.rss_mb(worker.pid), "server": procs.rss_mb(stack.server.pid),
           "sandbox": procs.rss_mb(stack.sandbox_pid)}
    worker_peak = procs.peak_rss_mb(worker.pid)

    # The burst: every registration gets the brand-verified webhook at once, as the service
    # would signal it on Twilio's Event Streams event.
    targets = [(wf.id, wf.typed_search_attributes.get(sa.BRAND_SID)) async for wf in stack.client.list_workflows(waiting)]
    now = datetime.now(timezone.utc)
    burst_sem = asyncio.Semaphore(200)

    async def signal(i: int, wid: str, brand_sid: str) -> None:
        async with burst_sem:
            await stack.client.get_workflow_handle(wid).signal("brand_event", BrandEvent(
                event_id=f"bench-burst-{i}", occurred_at=now, brand_sid=brand_sid,
                status="APPROVED", identity_status="VERIFIED"))

    t1 = time.monotonic()
    send = asyncio.gather(*(signal(i, wid, sid) for i, (wid, sid) in enumerate(targets)))
    sent_s = None
    remaining = len(targets)
    burst_peak = rss["worker"]
    while remaining:
        await asyncio.sleep(0.5)
        if sent_s is None and send.done():
            send.result()
            sent_s = time.monotonic() - t1
        remaining = await _count(stack, waiting)
        burst_peak = max(burst_peak, procs.rss_mb(worker.pid))
        if time.monotonic() - t1 > 1800:
            raise BenchError(f"{remaining} registrations still wait for the OTP 30 min after the burst")
    react_s = time.monotonic() - t1
    if sent_s is None:
        await send
        sent_s = time.monotonic() - t1
    server_after = procs.rss_mb(stack.server.pid)
    stack.stop_worker("parked")   # what they do next (campaign) is not measured
    return {
        "m": m, "asked": asked, "max_minutes": max_minutes, "curve": curve, "window": window,
        "cache": stack.settings.a2p_max_cached_workflows, "park_s": park_s, "park_rate": m / park_s,
        "parking_cpu_per_reg": {k: v / m for k, v in meter.cpu.items()},
        "idle_cpu_share": idle_share, "baseline_rss": base, "rss": rss, "worker_peak_mb": worker_peak,
        "worker_per_reg_kb": (rss["worker"] - base["worker"]) * 1024 / m,
        "server_per_reg_kb": (rss["server"] - base["server"]) * 1024 / m,
        "signalled": len(targets), "signals_sent_s": sent_s, "react_s": react_s,
        "burst_worker_peak_mb": burst_peak, "server_rss_after_burst": server_after,
    }
