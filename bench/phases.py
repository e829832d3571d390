"""The benchmark's measurements, one coroutine per phase; each returns a dict of figures that
bench/report.py prints. Phases run one after another on one stack (bench/stack.py). Item 5,
the parked registrations: bench/parking.py."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from a2p.progress import Phase
from a2p.requests import Correction
from a2p.timings import Timings
from bench import procs
from bench.calls import MINIMUM_TOTAL, is_lookup, ok_calls
from bench.figures import History, Meter, faults_delta, histories, median, percentile, stats_delta, time_split
from bench.noop import NOOP_WORKFLOW
from bench.stack import BenchError, Stack, Stalled, run_registrations
from starter import registrations


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
        samples.append((time.monotonic(), sum(ok_calls(s) for s in stats.get("requests", {}).values())))
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
                "ok_calls_per_reg": sum(ok_calls(s) for s in calls.values()) / n,
                "lookups_per_reg": sum(sum(s.values()) for e, s in calls.items() if is_lookup(e)) / n}
    hs = await histories(stack.client, [r.workflow_id for r in requests])
    calls = stats_delta(after, before)
    ok = sum(ok_calls(s) for s in calls.values())
    n429 = sum(s.get("429", 0) for s in calls.values())
    window = _window(hs)
    lookups = sum(sum(s.values()) for e, s in calls.items() if is_lookup(e))
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
    peer_calls = sum(ok_calls(s) for s in stats_delta(after, before).values()) / sample
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
