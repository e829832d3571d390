"""Item 5: registrations parked in the OTP wait — the memory they hold, the CPU they cost while
they wait, and how fast they react to a burst of brand-verified signals."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from a2p import search_attributes as sa
from a2p.progress import BrandEvent, Phase
from a2p.timings import Timings
from bench import procs
from bench.figures import Meter
from bench.stack import BenchError, Stack
from starter import registrations


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
