"""`a2p`: the command line of a2p-registrar — `a2p --help` lists the commands (COMMANDS below),
`a2p COMMAND --help` their options. Read-only commands (status, list) need only Temporal's
settings; errors are one line that names what to fix."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any
from pathlib import Path

from pydantic import ValidationError

from infra.process import exit_now as _exit


COMMANDS = {  # name -> one line: what it does (top-level help lists them)
    "demo": "run the local stack (Temporal + Web UI, sandbox, worker, service) and a sample registration",
    "sandbox": "run the local Twilio sandbox server",
    "worker": "run a worker: the registration workflows and their Twilio calls",
    "service": "run the registration service: HTTP API, Twilio webhooks, Web UI codec",
    "start": "start a registration from a JSON request (idempotent per customer)",
    "convert": "start legacy Starter brand conversions from a JSON or CSV file",
    "status": "where a registration stands (--json: the whole status document)",
    "list": "list registrations as a table, filtered by phase or status (--counts: per phase)",
    "correct": "send a correction (JSON) to a registration waiting for one",
    "decide": "an operator's decision for a parked registration: retry | end | resend_otp_and_wait",
    "resend-otp": "re-send the OTP to the customer's mobile now",
    "cancel": "cancel a registration",
}
# Commands that only read: they need Temporal's settings, not Twilio's.
READ_ONLY = {"status", "list"}


def _parser() -> argparse.ArgumentParser:
    from a2p.progress import Phase

    p = argparse.ArgumentParser(
        prog="a2p", description="A2P 10DLC Sole Proprietor registrations on Temporal: run the stack, start, watch "
                                "and steer registrations.",
        epilog="Settings come from the environment (or .env): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, "
               "A2P_PAYLOAD_KEYS for every command; Twilio's only for worker, service, start, convert, correct, "
               "decide, resend-otp and cancel. See README, Configuration.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    def add(name: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=COMMANDS[name], description=COMMANDS[name])

    demo = add("demo")
    demo.add_argument("--keep-up", action="store_true", help="keep the stack (and Web UI) up afterwards")
    demo.add_argument("--request", type=Path, help="a registration request JSON (default: the example)")
    sb = add("sandbox")
    sb.add_argument("rest", nargs=argparse.REMAINDER)
    add("worker")
    add("service")
    start = add("start")
    start.add_argument("file", type=Path)
    conv = add("convert")
    conv.add_argument("file", type=Path, help="a JSON object, a JSON array of objects, or a CSV file")
    conv.add_argument("--campaign-file", type=Path,
                      help="a campaign (JSON) for every customer without one of its own")
    conv.add_argument("--wait", action="store_true",
                      help="follow the conversions until each has ended or waits for a person (Ctrl-C stops "
                           "following; the conversions go on)")
    conv.add_argument("--timeout", type=float, help="with --wait: stop following after this many seconds")
    conv.add_argument("--concurrency", type=int, default=20, help="workflow starts in flight at once (20)")
    conv.add_argument("--json", action="store_true", help="print every item's outcome as JSON")
    status = add("status")
    status.add_argument("workflow_id")
    status.add_argument("--json", action="store_true", help="the whole status document, as JSON")
    add("resend-otp").add_argument("workflow_id")
    corr = add("correct")
    corr.add_argument("workflow_id")
    corr.add_argument("file", type=Path)
    dec = add("decide")
    dec.add_argument("workflow_id")
    dec.add_argument("action", choices=["retry", "end", "resend_otp_and_wait"])
    dec.add_argument("--reason")
    can = add("cancel")
    can.add_argument("workflow_id")
    can.add_argument("--reason", default="cancelled from the command line")
    ls = add("list")
    ls.add_argument("--phase", choices=[ph.value for ph in Phase], metavar="PHASE",
                    help="one of: " + ", ".join(ph.value for ph in Phase))
    ls.add_argument("--brand-status")
    ls.add_argument("--campaign-status")
    ls.add_argument("--flow", choices=["new", "legacy"])
    ls.add_argument("--limit", type=int, default=100, help="at most this many rows, newest first (100)")
    ls.add_argument("--counts", action="store_true", help="how many registrations are in each phase")
    ls.add_argument("--json", action="store_true", help="JSON for machines")
    ls.add_argument("--stalled", action="store_true", help="only registrations whose workflow task is stuck")
    return p


def _table(rows: list[dict]) -> str:
    """Registrations as a table for people (no PII: ids, phase, statuses)."""
    if not rows:
        return "no registrations match"
    cols = [("workflow_id", "WORKFLOW ID"), ("phase", "PHASE"), ("brand_status", "BRAND"),
            ("identity_status", "IDENTITY"), ("campaign_status", "CAMPAIGN"), ("started_at", "STARTED")]

    def cell(r: dict, key: str) -> str:
        v = r.get(key)
        if key == "started_at" and v is not None:
            return v.strftime("%Y-%m-%d %H:%M")
        if key == "phase" and r.get("workflow_status") not in (None, "RUNNING") and v is None:
            return r["workflow_status"]
        return "-" if v is None else str(v)

    cells = [[cell(r, k) for k, _ in cols] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(cols)]
    lines = ["  ".join(h.ljust(w) for (_, h), w in zip(cols, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def describe_error(err: BaseException, settings: object | None = None, workflow_id: str | None = None) -> str:
    """One line naming what to fix, for the errors a person meets (never a traceback, never a secret)."""
    from temporalio.service import RPCError, RPCStatusCode

    from infra.codec import PayloadKeyMissing
    from starter.registrations import UpdateRefused

    address = getattr(settings, "temporal_address", None) or "TEMPORAL_ADDRESS"
    chain: list[BaseException] = []
    e: BaseException | None = err
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, PayloadKeyMissing):
            return str(e)
        if isinstance(e, UpdateRefused):
            return f"refused by the registration (nothing changed): {e}"
        if isinstance(e, RPCError):
            if e.status == RPCStatusCode.NOT_FOUND and workflow_id:
                return f"no registration {workflow_id} in namespace {getattr(settings, 'temporal_namespace', '?')}"
            if e.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
                return (f"Temporal unreachable at {address}: start it, or set TEMPORAL_ADDRESS "
                        f"(and TEMPORAL_NAMESPACE) to where it runs")
            return f"Temporal refused the call ({e.status.name if e.status else 'error'}): {e.message}"
        if isinstance(e, (ConnectionError, asyncio.TimeoutError)) or (
                isinstance(e, RuntimeError) and "client connect" in str(e).lower()):
            return (f"Temporal unreachable at {address}: start it, or set TEMPORAL_ADDRESS "
                    f"(and TEMPORAL_NAMESPACE) to where it runs")
        if "binary/encrypted" in str(e):
            return "the registration's payloads are encrypted: set A2P_PAYLOAD_KEYS to the keys the workers use"
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


async def _connect(settings) -> "object":
    from infra.temporal_client import connect

    return await asyncio.wait_for(connect(settings), 15)


async def _client_command(args: argparse.Namespace, settings) -> int:
    from a2p.progress import OperatorDecision
    from a2p.requests import Correction, RegistrationRequest, describe_validation_error
    from infra.temporal_client import web_ui_link
    from starter import overview, registrations

    try:
        if args.command == "start":
            request = RegistrationRequest.model_validate_json(args.file.read_text())
        elif args.command == "correct":
            correction = Correction.model_validate_json(args.file.read_text())
    except ValidationError as err:
        print(f"invalid {args.file}:\n{describe_validation_error(err)}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 2
    client = await _connect(settings)
    if args.command == "start":
        started = await registrations.start_registration(client, settings, request)
        print(json.dumps({"workflow_id": started.workflow_id, "created": started.created,
                          "web_ui": web_ui_link(settings, started.workflow_id)}, indent=2))
        return 0
    if args.command == "list" and args.stalled:
        from starter.stalls import stalled_rows

        print(json.dumps(await stalled_rows(client, settings), indent=2))
        return 0
    if args.command == "list":
        if args.counts:
            counts = await overview.count_by_phase(client)
            print(counts.model_dump_json(indent=2) if args.json else overview.render_counts(counts))
            return 0
        rows = await registrations.list_registrations(
            client, phase=args.phase, brand_status=args.brand_status, campaign_status=args.campaign_status,
            flow=args.flow, limit=args.limit)
        print(json.dumps(rows, indent=2, default=str) if args.json else _table(rows))
        return 0
    wid = args.workflow_id
    if args.command == "status":
        view = await overview.status_view(client, wid)
        print(view.model_dump_json(indent=2) if args.json
              else overview.render_status(view, web_ui_link(settings, wid)))
        return 0
    try:
        if args.command == "correct":
            result = await registrations.correct(client, wid, correction)
        elif args.command == "decide":
            result = await registrations.decide(client, wid, OperatorDecision(action=args.action, reason=args.reason))
        elif args.command == "resend-otp":
            result = await registrations.resend_otp(client, wid)
        else:
            result = await registrations.cancel(client, wid, args.reason)
    except registrations.BeingApplied as applying:
        print(f"accepted: {applying}")
        if applying.status is None:
            return 0
        result = applying.status
    from a2p.progress import TERMINAL_PHASES

    running = result.phase not in TERMINAL_PHASES
    print(overview.render_status(overview.StatusView(status=result, running=running,
                                                     workflow_status="RUNNING" if running else "CLOSED")))
    return 0


async def _convert(args: argparse.Namespace, settings) -> int:
    """`a2p convert FILE`: validate every customer, start one conversion each, print what happened
    (and, with --wait, per-phase counts until each has ended or waits for a person). Exit status: 0
    all started (and, with --wait, all completed), 1 some invalid / not started / not completed,
    2 the file or the settings are unusable."""
    from starter import batch, registrations

    try:
        items = batch.read_conversion_file(args.file)
        defaults = batch.read_campaign_defaults(args.campaign_file) if args.campaign_file else None
    except batch.BatchFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not items:
        print(f"{args.file}: no customers in the file", file=sys.stderr)
        return 2
    client = await _connect(settings)
    done = 0

    def progress(outcome: "batch.ItemOutcome") -> None:
        nonlocal done
        done += 1
        if outcome.outcome == "invalid":
            who = f" ({outcome.isv_customer_id})" if outcome.isv_customer_id else ""
            for f in outcome.fields:
                print(f"invalid {outcome.source}{who}: " + (f"{f['field']}: " if f["field"] else "") + f["message"],
                      file=sys.stderr)
        elif outcome.outcome == "error":
            print(f"not started {outcome.source} ({outcome.isv_customer_id}): {outcome.error}", file=sys.stderr)
        if not args.json and len(items) >= 100 and done % 100 == 0:
            print(f"  {done}/{len(items)} ...", flush=True)

    result = await batch.start_conversions(client, settings, items, campaign_defaults=defaults,
                                           concurrency=args.concurrency, on_outcome=progress)
    if args.json:
        print(json.dumps([o.model_dump(exclude_none=True) for o in result.items], indent=2))
    print(result.summary(), file=sys.stderr if args.json else sys.stdout, flush=True)
    code = 0 if result.invalid == 0 and result.errors == 0 else 1
    if not args.wait or not result.workflow_ids:
        return code

    ids = result.workflow_ids
    final = await _follow(client, ids, args.timeout)
    if final is None:  # Ctrl-C: the summary so far; the conversions go on in Temporal
        print(f"interrupted: stopped following {len(ids)} conversions (they go on; "
              "`a2p list --counts` shows where they stand)", flush=True)
        return 130
    not_completed = {wid: phase for wid, phase in final.items() if phase != "COMPLETED"}
    not_completed.update({wid: "STARTED" for wid in ids if wid not in final})
    for wid, phase in sorted(not_completed.items()):
        problem = ""
        try:
            status = await registrations.get_status(client, wid)
            if status.problem:
                problem = f": {status.problem.summary} — remedy: {status.problem.remedy}"
        except Exception:  # noqa: BLE001 - the listing is what matters; the detail is a bonus
            pass
        print(f"  {wid} {phase}{problem}")
    print(f"{len(ids) - len(not_completed)} of {len(ids)} completed", flush=True)
    return 1 if not_completed else code


HEARTBEAT_SECONDS = 30.0


async def _follow(client, ids: list[str], timeout: float | None) -> dict[str, str] | None:
    """batch.follow with a line at least every HEARTBEAT_SECONDS; None when interrupted (Ctrl-C /
    SIGTERM), after printing the counts so far."""
    import signal
    import time

    from starter import batch

    t0 = time.monotonic()
    last: dict[str, Any] = {"at": t0, "counts": "waiting for the first phases"}

    def changed(elapsed: float, counts: str) -> None:
        last.update(at=time.monotonic(), counts=counts)
        print(f"[{elapsed:6.1f}s] {counts}", flush=True)

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(max(0.5, HEARTBEAT_SECONDS - (time.monotonic() - last["at"])))
            if time.monotonic() - last["at"] >= HEARTBEAT_SECONDS:
                last["at"] = time.monotonic()
                print(f"[{time.monotonic() - t0:6.1f}s] still waiting: {last['counts']}", flush=True)

    task = asyncio.create_task(batch.follow(client, ids, timeout=timeout, on_change=changed))
    beat = asyncio.create_task(heartbeat())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        print(f"\n[{time.monotonic() - t0:6.1f}s] so far: {last['counts']}", flush=True)
        return None
    finally:
        beat.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _service(settings) -> int:
    from infra.logging import configure_logging
    from starter.service import run_service

    configure_logging(settings.log_level, settings.log_format)
    await _connect(settings)  # Temporal reachable, else one line saying where it was looked for
    await run_service(settings)
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:  # the sandbox parses its own options
        from sandbox.__main__ import main as sandbox_main

        sys.exit(sandbox_main(argv[1:], prog="a2p sandbox"))
    args = _parser().parse_args(argv)
    if args.command in ("worker", "service"):
        from infra.settings import settings_or_exit
        from worker.__main__ import main as worker_main

        settings = settings_or_exit()
        try:
            code = asyncio.run(worker_main() if args.command == "worker" else _service(settings))
        except Exception as err:  # noqa: BLE001 - e.g. Temporal unreachable: one line, not a traceback
            print(f"error: {describe_error(err, settings)}", file=sys.stderr)
            code = 1
        _exit(code)
    if args.command == "demo":
        import signal

        # Until the demo's own handlers are in place (its imports take a moment), Ctrl-C or SIGTERM
        # simply end it: nothing has been started yet.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, frame: _exit(128 + signum))
        from local_stack.demo import run_demo_process

        _exit(run_demo_process(keep_up=args.keep_up, request_file=args.request))
    from infra.settings import settings_or_exit

    settings = settings_or_exit(temporal_only=args.command in READ_ONLY)
    try:
        code = asyncio.run(_convert(args, settings) if args.command == "convert" else _client_command(args, settings))
    except KeyboardInterrupt:
        code = 130
    except Exception as err:  # noqa: BLE001 - a CLI says what went wrong in one line
        print(f"error: {describe_error(err, settings, getattr(args, 'workflow_id', None))}", file=sys.stderr)
        code = 1
    _exit(code)


if __name__ == "__main__":
    main()
