"""`python -m bench [--quick | --full] [...]`: the benchmark (figures: bench/RESULTS.md).

Starts its own Temporal dev server (`temporal server start-dev --headless`, free ports, a temp
SQLite file), its own Twilio sandbox and `python -m worker` as subprocesses, then measures:

  throughput  1. N happy-path registrations at once: registrations/s, p50/p95, CPU-s per registration
              3. Twilio calls per registration by endpoint vs the documented minimum
              4. history events of the happy path
  noop        2. the same N no-op workflows of the registration's shape: the orchestration efficiency
  history     4. history events of a 29-day OTP wait (1 day = 1 s) and of a remediation
  ratelimit   6. one account, 150 ms per call, a concurrency cap: registrations/s vs the bound, 429s
  peer        7. N registrations at 150 ms per call vs a sequential script (bench/peer.py)
  parked      5. M registrations parked in OTP_VERIFICATION: RSS, and the reaction to a signal burst

and prints a table with the targets. Everything it started is stopped at the end, on an
error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import signal
import sys
import time
import traceback
from datetime import datetime, timezone

PHASES = ("throughput", "noop", "history", "ratelimit", "peer", "parked")

QUICK = {"registrations": 50, "parked": 100, "ratelimit_registrations": 60, "peer_sample": 2, "otp_day_seconds": 2.0}
FULL = {"registrations": 200, "parked": 10_000, "ratelimit_registrations": 300, "peer_sample": 10,
        "otp_day_seconds": 10.0}

# By default Temporal fires a timer shorter than 1 s only after ~1 s (timers are shifted by up to
# history.timerProcessorMaxTimeShift = 1 s). Production timings never go below 30 s, so it changes
# nothing there, but it would stretch the compressed timings of the benchmark (a 0.3 s settle wait
# would last 1 s). The no-op limit runs on the same server, with the same setting.
SERVER_CONFIG = ['history.timerProcessorMaxTimeShift="10ms"']

SERVER_DB = {"file": "temp SQLite file, synchronous=OFF", "file-sync": "temp SQLite file, fsync per commit",
             "memory": "in memory"}

SANDBOX_CONFIG = {
    # Reviews (sandbox seconds) shorter than the compressed first poll (3 s at scale 1/100), so that
    # each follow-up takes exactly one status poll, as the documented minimum assumes; the profile
    # review shorter than the settle wait (0.3 s), so that a rejection is caught at the bundle check.
    "profile_review_seconds": 0.2, "trust_product_review_seconds": 0.2, "brand_review_seconds": 1.0,
    "campaign_in_progress_seconds": 0.5, "campaign_review_seconds": 1.0,
    # Every customer has the example's email and address; mobile numbers are unique per customer.
    "count_email_and_address_reuse": False,
    "smsotp_rate_per_second": 10,
}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help=f"small sizes, a few minutes (default): {QUICK}")
    mode.add_argument("--full", action="store_true", help=f"the target sizes, takes long: {FULL}")
    p.add_argument("-n", "--registrations", type=int, help="N of items 1, 2, 3 and 7")
    p.add_argument("--parked", type=int, help="M of item 5")
    # Parking is bound by the dev server's CPU: a wider window would not park faster, only make
    # the registrations on their way outnumber the worker's cache (A2P_MAX_CACHED_WORKFLOWS).
    p.add_argument("--parked-window", type=int, default=200,
                   help="at most this many registrations on their way to the OTP at once (200)")
    p.add_argument("--parked-minutes", type=float,
                   help="item 5: stop starting registrations after this long and measure those parked by then")
    p.add_argument("--ratelimit-registrations", type=int, help="registrations of item 6")
    p.add_argument("--concurrency-limit", type=int, default=10, help="item 6: in-flight requests per account (10)")
    p.add_argument("--latency-ms", type=float, default=150, help="items 6 and 7: sandbox latency per call (150)")
    p.add_argument("--peer-sample", type=int, help="item 7: customers the sequential peer really does")
    p.add_argument("--scale", type=float, default=0.01,
                   help="compressed timings: every default duration times this (0.01: 30 s settle -> 0.3 s)")
    p.add_argument("--only", help=f"comma-separated phases to run: {', '.join(PHASES)}")
    p.add_argument("--skip", help="comma-separated phases to leave out")
    p.add_argument("--server-db", choices=("file", "file-sync", "memory"), default="file",
                   help="dev server persistence: a temp SQLite file without fsync (default), the same with "
                        "fsync on every commit, or in memory")
    p.add_argument("--server-config", action="append", metavar="KEY=VALUE",
                   help="dev server dynamic config (repeatable); default: " + " ".join(SERVER_CONFIG))
    p.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                   help="more `temporal server start-dev` arguments (repeatable), e.g. --server-arg=--sqlite-pragma=...")
    p.add_argument("--otp-day-seconds", type=float,
                   help="item 4's long OTP wait: real seconds per day (quick 2, full 10)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    args = p.parse_args(argv)
    sizes = FULL if args.full else QUICK
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    chosen = set(args.only.split(",")) if args.only else set(PHASES)
    chosen -= set(args.skip.split(",")) if args.skip else set()
    unknown = chosen - set(PHASES)
    if unknown:
        p.error(f"unknown phase(s): {', '.join(sorted(unknown))}; phases: {', '.join(PHASES)}")
    args.phases = [ph for ph in PHASES if ph in chosen]
    args.server_config = [v for v in (SERVER_CONFIG if args.server_config is None else args.server_config) if v]
    return args


async def run(args: argparse.Namespace, results: dict) -> None:
    from infra.logging import configure_logging
    from a2p.timings import Timings
    from bench import calls, parking, phases, stack as stk

    configure_logging("WARNING")
    task = asyncio.current_task()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    timings = Timings.compressed(args.scale)
    results["timings_note"] = (f"timings x{args.scale:g}: settle {timings.settle_wait.total_seconds():g} s, "
                               f"polls {timings.poll_initial.total_seconds():g} s -> {timings.poll_max.total_seconds():g} s")
    results["calls_minimum"] = calls.MINIMUM_TOTAL
    print(f"starting: Temporal dev server ({args.server_db}), Twilio sandbox, worker ...", flush=True)
    stack = None
    try:
        stack = await stk.start_stack(SANDBOX_CONFIG, args.server_db, args.server_config, args.server_arg)
        await stack.start_worker("worker")
        results["setup"] = (f"dev server pid {stack.server.pid} ({SERVER_DB[args.server_db]}; "
                            f"{' '.join(args.server_config) or 'default config'}), "
                            f"sandbox pid {stack.sandbox_pid}, `python -m worker` subprocess; one Twilio account "
                            f"(the parent), unique mobile per customer")

        async def phase(name: str, coro) -> object | None:
            print(f"[{time.strftime('%H:%M:%S')}] {name} ...", flush=True)
            t0 = time.monotonic()
            try:
                value = await coro
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as err:  # noqa: BLE001 - one phase failing must not hide the others
                results.setdefault("errors", {})[name] = f"{type(err).__name__}: {err}\n" + traceback.format_exc(limit=4)
                print(f"    {name} failed: {type(err).__name__}: {err}", flush=True)
                return None
            print(f"    done in {time.monotonic() - t0:.0f} s", flush=True)
            return value

        shape = None
        if "throughput" in args.phases:
            tp = await phase("throughput", phases.throughput(stack, args.registrations, timings))
            if tp:
                results["throughput"] = tp
                results["calls"] = calls.calls_table(tp["calls"], tp["n"])
                shape = tp["shape"]
        if "noop" in args.phases:
            if shape is None:   # the registration's shape, from one real registration
                one = await phase("one registration (for the no-op's shape)", phases.throughput(stack, 1, timings))
                shape = one["shape"] if one else None
            if shape is not None:
                noop = await phase("noop", phases.noop_limit(stack, args.registrations, shape))
                if noop:
                    results["noop"] = noop
        if "history" in args.phases:
            # The brand review ~1 h at the long OTP wait's compression.
            await stack.control.set_config(brand_review_seconds=args.otp_day_seconds / 24)
            try:
                otp29, fix = await asyncio.gather(
                    phase(f"history: 29-day OTP wait (1 day = {args.otp_day_seconds:g} s)",
                          phases.long_otp(stack, day=args.otp_day_seconds)),
                    phase("history: remediation", phases.remediation(stack, timings)))
            finally:
                await stack.control.set_config(brand_review_seconds=SANDBOX_CONFIG["brand_review_seconds"])
            results["history"] = {k: v for k, v in (("otp29", otp29), ("remediation", fix)) if v}
        if "ratelimit" in args.phases:
            rl = await phase("ratelimit", phases.rate_limit(stack, args.ratelimit_registrations, timings,
                                                            args.concurrency_limit, args.latency_ms))
            if rl:
                results["ratelimit"] = rl
        if "peer" in args.phases:
            pr = await phase("peer", phases.peer(stack, args.registrations, min(args.peer_sample, args.registrations),
                                                 timings, args.latency_ms))
            if pr:
                results["peer"] = pr
        if "parked" in args.phases:
            pk = await phase("parked", parking.parked(stack, args.parked, args.parked_window, args.parked_minutes))
            if pk:
                results["parked"] = pk
    except asyncio.CancelledError:
        # Interrupted: the gathers cancelled with us have nothing left to say.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise
    finally:
        print("stopping everything ...", flush=True)
        await stk.stop_stack(stack)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    from bench import procs, report

    results: dict = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv),
        "machine": procs.machine(), "cores": os.cpu_count(), "setup": "-", "timings_note": "",
    }
    t0 = time.monotonic()
    code = 0
    try:
        asyncio.run(run(args, results))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\ninterrupted: everything started has been stopped", flush=True)
        code = 130
    except Exception as err:  # noqa: BLE001 - the stack did not come up: say why, in one place
        results.setdefault("errors", {})["setup"] = f"{type(err).__name__}: {err}"
        code = 1
    finally:
        procs.Child.stop_all()   # a last resort: normally everything is stopped already
    results["elapsed_s"] = time.monotonic() - t0
    if code != 130:
        if results.get("errors"):
            code = 1
        print(report.render(results), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    return code


if __name__ == "__main__":
    from infra.process import exit_now

    exit_now(main())
