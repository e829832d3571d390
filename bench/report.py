"""The printed table: one block per measured item, then the targets, met or missed."""

from __future__ import annotations

import math
from typing import Any

HISTORY_WARNING = 10_240   # Temporal warns at this many events in one history (and fails at 51,200)

TARGETS = {
    "efficiency": 0.7, "calls": "minimum", "happy_events": 400, "otp29_events": 2000,
    "parked_worker_rss_mb": 300, "rate_share": 0.8, "speedup": 20,
}


def _f(x: Any, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def _mark(ok: bool | None) -> str:
    return {True: "MET", False: "MISSED", None: "n/a"}[ok]


def _split(time: dict[str, float]) -> str:
    names = {"timers": "timers", "timer_late": "timers late", "activities": "activities",
             "wft_queue": "wf-task queue", "wft_run": "wf-task run"}
    return ", ".join(f"{names[k]} {v:.1f} s" for k, v in time.items())


class Table:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def head(self, text: str) -> None:
        self.lines += ["", text, "-" * min(len(text), 100)]

    def row(self, label: str, value: str, note: str = "") -> None:
        self.lines.append(f"  {label:<46} {value:<30} {note}".rstrip())

    def text(self, text: str) -> None:
        self.lines.append(f"  {text}")

    def render(self) -> str:
        return "\n".join(self.lines)


def render(r: dict[str, Any]) -> str:
    t = Table()
    t.lines.append(f"a2p-registrar benchmark — {r['date']}")
    t.lines.append(f"command: {r['command']}")
    t.lines.append("machine: " + ", ".join(f"{k} {v}" for k, v in r["machine"].items()))
    t.lines.append(f"setup:   {r['setup']}")
    targets: list[tuple[str, str, bool | None]] = []
    errors = r.get("errors", {})

    tp, noop = r.get("throughput"), r.get("noop")
    if tp:
        t.head(f"1. Throughput: {tp['n']} happy-path registrations started at once ({r['timings_note']})")
        t.row("registrations/s (first start -> last end)", _f(tp["rate"]), f"{_f(tp['window_s'], 1)} s for {tp['n']}")
        t.row("end-to-end p50 / p95 / max", f"{_f(tp['p50_s'], 1)} / {_f(tp['p95_s'], 1)} / {_f(tp['max_s'], 1)} s")
        t.row("  median registration's time went to", _split(tp["time"]))
        c = tp["cpu_per_reg"]
        t.row("CPU-s per registration: worker / server", f"{_f(c['worker'], 3)} / {_f(c['server'], 3)}",
              f"(sandbox {_f(c['sandbox'], 3)}, bench driver {_f(c['bench'], 3)})")
        total = c["worker"] + c["server"] + c["sandbox"] + c["bench"]
        t.row("CPU-bound ceiling on this machine", f"~{_f(r['cores'] / total, 1)} registrations/s",
              f"{r['cores']} cores ÷ {_f(total, 3)} CPU-s (worker+server+sandbox+driver)")
        t.row("ended", ", ".join(f"{k} {v}" for k, v in tp["phases"].items()))
        t.row("RSS after the run: worker / server", f"{_f(tp['worker_rss_mb'], 0)} / {_f(tp['server_rss_mb'], 0)} MB")
    if noop:
        t.head(f"2. Limit: {noop['n']} no-op workflows, {noop['activities']} no-op activities + {noop['timers']} timers "
               "each (a registration's, same order and durations)")
        t.row("no-op workflows/s (first start -> last end)", _f(noop["rate"]), f"{_f(noop['window_s'], 1)} s for {noop['n']}")
        t.row("end-to-end p50 / p95", f"{_f(noop['p50_s'], 1)} / {_f(noop['p95_s'], 1)} s")
        t.row("  median no-op's time went to", _split(noop["time"]))
        c = noop["cpu_per_wf"]
        t.row("CPU-s per workflow: worker / server", f"{_f(c['worker'], 3)} / {_f(c['server'], 3)}")
        if tp:
            eff = tp["rate"] / noop["rate"]
            cpu_eff = (c["worker"] + c["server"]) / (tp["cpu_per_reg"]["worker"] + tp["cpu_per_reg"]["server"])
            t.row("orchestration efficiency = reg/s ÷ no-op/s", _f(eff), f"target >= {TARGETS['efficiency']}")
            t.row("CPU efficiency = no-op CPU ÷ registration CPU", _f(cpu_eff),
                  "(worker+server CPU-s per workflow)")
            t.row("worker CPU: registration ÷ no-op", _f(tp["cpu_per_reg"]["worker"] / c["worker"]) + "x")
            targets.append(("orchestration efficiency >= 0.7", _f(eff), eff >= TARGETS["efficiency"]))

    calls = r.get("calls")
    if calls:
        t.head(f"3. Twilio calls per registration (sandbox counts, happy path; documented minimum {calls['minimum']}: "
               f"{calls['minimum_writes']} writes + {calls['minimum_reads']} reads)")
        t.text(f"{'endpoint':<52} {'min':>4} {'measured':>9}  why")
        for kind in ("write", "read"):
            for row in [x for x in calls["rows"] if x["kind"] == kind]:
                extra = f"  (+{row['other']})" if row["other"] else ""
                t.text(f"{row['endpoint']:<52} {row['minimum']:>4} {row['per_reg']:>9.2f}  {row['why']}{extra}")
        t.row("writes / reads / total per registration",
              f"{_f(calls['writes'])} / {_f(calls['reads'])} / {_f(calls['total'])}",
              f"minimum {calls['minimum_writes']} / {calls['minimum_reads']} / {calls['minimum']}")
        t.row("idempotency lookups (list GETs) / retried activities", f"{calls['lookups']} / {tp['retried_activities'] if tp else '-'}",
              "first attempts create straight away: 0 extra calls")
        ok = abs(calls["total"] - calls["minimum"]) < 1e-9
        targets.append(("Twilio calls per happy-path registration = minimum",
                        f"{_f(calls['total'])} vs {calls['minimum']}", ok))

    hist = r.get("history", {})
    if tp or hist:
        t.head(f"4. History events per registration (Temporal warns at {HISTORY_WARNING:,})")
        if tp:
            ev = tp["events"]
            t.row("happy path (min / median / max)", f"{ev[0]} / {_f(float(sorted(ev)[len(ev) // 2]), 0)} / {ev[-1]}",
                  f"{ev[-1] / HISTORY_WARNING:.1%} of the warning; {tp['activities_per_reg']:.0f} activities, "
                  f"{tp['timers_per_reg']:.0f} timers, {tp['workflow_tasks']:.0f} workflow tasks")
            targets.append(("happy-path history <= 400 events", str(ev[-1]), ev[-1] <= TARGETS["happy_events"]))
        o = hist.get("otp29")
        if o:
            t.row(f"OTP answered at day {o['answered_after_days']:.0f} of the wait (1 day = {o['day_s']:g} s)", str(o["events"]),
                  f"{o['events'] / HISTORY_WARNING:.1%} of the warning; {o['resends']} re-sends, {o['brand_polls']} "
                  f"brand polls, {o['phase']}; ~{o['events_per_day']:.0f} events/day")
            targets.append(("29-day OTP wait <= 2,000 events", str(o["events"]), o["events"] <= TARGETS["otp29_events"]))
        f = hist.get("remediation")
        if f:
            t.row("remediation (1 Jersey Str -> 1 Jersey St)", str(f["events"]),
                  f"{f['events'] / HISTORY_WARNING:.1%} of the warning; {f['activities']} activities, {f['phase']}")
        if hist.get("note"):
            t.text(hist["note"])

    pk = r.get("parked")
    if pk:
        t.head(f"5. Parked: {pk['m']:,} registrations waiting for the OTP (24 h re-sends, 6 h polls)")
        if pk["asked"] > pk["m"]:
            t.text(f"  {pk['asked']:,} asked; parking stopped after {pk['max_minutes']:g} min (--parked-minutes)")
        t.row("time to park them all", f"{_f(pk['park_s'], 1)} s", f"{_f(pk['park_rate'], 1)}/s, at most {pk['window']} on the way at once")
        t.row("worker RSS: idle -> parked (peak while parking)",
              f"{_f(pk['baseline_rss']['worker'], 0)} -> {_f(pk['rss']['worker'], 0)} MB ({_f(pk['worker_peak_mb'], 0)})",
              f"{_f(pk['worker_per_reg_kb'], 1)} kB per parked registration")
        if pk["curve"]:
            t.text("  worker RSS while parking (parked: MB): "
                   + ", ".join(f"{n:,}: {mb:.0f}" for _, n, mb in pk["curve"][4::5] + pk["curve"][-1:]))
        t.row("worker cache (A2P_MAX_CACHED_WORKFLOWS)", f"{pk['cache']:,} registrations",
              "the others are replayed from history when they wake")
        t.row("server RSS: before -> parked", f"{_f(pk['baseline_rss']['server'], 0)} -> {_f(pk['rss']['server'], 0)} MB",
              f"{_f(pk['server_per_reg_kb'], 1)} kB per parked registration")
        t.row("sandbox RSS: before -> parked", f"{_f(pk['baseline_rss']['sandbox'], 0)} -> {_f(pk['rss']['sandbox'], 0)} MB")
        t.row("worker CPU while they wait", f"{pk['idle_cpu_share']:.1%} of a core")
        t.row(f"burst: {pk['signalled']:,} brand-verified signals", f"all reacted in {_f(pk['react_s'], 1)} s",
              f"(sent in {_f(pk['signals_sent_s'], 1)} s; worker peak {_f(pk['burst_worker_peak_mb'], 0)} MB)")
        targets.append((f"{pk['m']:,} parked: worker RSS <= 300 MB", f"{_f(pk['rss']['worker'], 0)} MB",
                        pk["rss"]["worker"] <= TARGETS["parked_worker_rss_mb"]))

    rl = r.get("ratelimit")
    if rl and rl.get("stalled"):
        t.head(f"6. Rate-limit ceiling: {rl['n']} registrations in ONE account, {rl['latency_ms']:.0f} ms per call, "
               f"at most {rl['cap']} in flight (else 429), SmsOtp 10/s")
        t.row("bound = cap ÷ latency ÷ calls per registration", f"{_f(rl['bound'])} registrations/s")
        t.row(f"STALLED: ended within {rl['limit_s']:.0f} s", f"{rl['completed']} of {rl['n']}",
              f"{_f(rl['rate'])} registrations/s = {rl['rate'] / rl['bound']:.0%} of the bound")
        t.text(rl["stalled"])
        t.row("429s seen; calls per registration (lookups)", f"{rl['n429']:,}; {rl['ok_calls_per_reg']:.1f} "
              f"({rl['lookups_per_reg']:.1f})")
        targets.append(("rate-limited: >= 80% of the bound", f"{rl['rate'] / rl['bound']:.0%} (stalled)", False))
    elif rl:
        t.head(f"6. Rate-limit ceiling: {rl['n']} registrations in ONE account, {rl['latency_ms']:.0f} ms per call, "
               f"at most {rl['cap']} in flight (else 429), SmsOtp 10/s")
        t.row("bound = cap ÷ latency ÷ calls per registration",
              f"{_f(rl['bound'])} registrations/s", f"{rl['cap']} ÷ {rl['latency_ms'] / 1000:g} s ÷ {r['calls_minimum']}")
        share = rl["steady_rate"] / rl["bound"]
        t.row("achieved, steady state (middle half of the run)", f"{_f(rl['steady_rate'])} registrations/s",
              f"{share:.0%} of the bound")
        t.row("achieved, all N (first start -> last end)", f"{_f(rl['rate'])} registrations/s",
              f"{rl['rate'] / rl['bound']:.0%} of the bound; {_f(rl['window_s'], 0)} s, p50 {_f(rl['p50_s'], 0)} s each")
        t.row("Twilio calls/s that went through (steady / all)",
              f"{_f(rl['steady_calls_per_s'], 1)} / {_f(rl['calls_per_s'], 1)} of {_f(rl['cap_calls_per_s'], 1)}",
              f"{rl['ok_calls_per_reg']:.1f} per registration, {rl['lookups_per_reg']:.1f} of them lookups by retries")
        t.row("  median registration's time went to", _split(rl["time"]))
        t.row("429s seen / retried activities", f"{rl['n429']:,} / {rl['retried_activities']:,}")
        failures = rl["failed_activities"] + (rl["n"] - rl["completed"])
        t.row("429s that reached workflows as failures", str(failures), ", ".join(f"{k} {v}" for k, v in rl["phases"].items()))
        targets.append(("rate-limited: >= 80% of the bound", f"{share:.0%}", share >= TARGETS["rate_share"]))
        targets.append(("rate-limited: zero 429s reaching workflows", str(failures), failures == 0))

    p = r.get("peer")
    if p:
        t.head(f"7. Peer: {p['n']} registrations, {p['latency_ms']:.0f} ms per Twilio call, orchestrated vs a "
               "sequential script (bench/peer.py)")
        t.row("a2p-registrar (all at once)", f"{_f(p['orchestrated_s'], 1)} s",
              f"p50 / p95 {_f(p['orchestrated_p50_s'], 1)} / {_f(p.get('orchestrated_p95_s'), 1)} s each; "
              + ", ".join(f"{k} {v}" for k, v in p["phases"].items()))
        t.row("sequential peer, per customer", f"{_f(p['peer_per_customer_s'], 1)} s",
              f"{p['peer_calls_per_customer']:.0f} calls each; {p['peer_outcomes']}")
        how = f"extrapolated from a sample of {p['sample']}" if p["extrapolated"] else "measured"
        t.row(f"sequential peer, {p['n']} customers", f"{_f(p['peer_total_s'], 0)} s", how)
        t.row("speed-up", f"{_f(p['speedup'], 1)}x", "" if p["n"] >= 200 else "(the target is for N = 200)")
        targets.append((f">= 20x faster than the peer (N={p['n']}; target at 200)", f"{_f(p['speedup'], 1)}x",
                        p["speedup"] >= TARGETS["speedup"] if p["n"] >= 200 else None))

    for phase, err in errors.items():
        t.head(f"{phase}: FAILED")
        t.text(err)

    t.head("Targets")
    for label, value, ok in targets:
        t.row(label, value, _mark(ok))
    if r.get("elapsed_s"):
        t.lines.append(f"\nbenchmark took {r['elapsed_s']:.0f} s")
    return t.render()
