"""`a2p`: the command line of a2p-registrar.

  a2p demo [--keep-up]          the local stack + a sample registration to a VERIFIED campaign
  a2p sandbox [--port N]        run the Twilio sandbox
  a2p worker                    run a worker (settings from the environment)
  a2p service                   run the registration service (HTTP API + Twilio webhooks)
  a2p start FILE.json           start a registration (see a2p/examples/registration.json)
  a2p convert FILE [--wait]     start legacy Starter brand conversions: a JSON object, a JSON array
                                or a CSV file, one conversion per customer (see README)
  a2p status WORKFLOW_ID        where a registration stands
  a2p correct WORKFLOW_ID FILE  send a correction (JSON, see README)
  a2p decide WORKFLOW_ID ACTION retry | end | resend_otp_and_wait
  a2p resend-otp WORKFLOW_ID    re-send the OTP now
  a2p cancel WORKFLOW_ID        cancel a registration
  a2p list [--phase P] [--brand-status S] [--campaign-status S] [--flow new|legacy] [--stalled]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from pydantic import ValidationError


def _exit(code: int) -> None:
    # The Temporal SDK's native runtime can crash while the interpreter tears down
    # (temporalio/sdk-python#300): flush and leave without teardown so the exit code is ours.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="a2p", description="A2P 10DLC sole proprietor registrations on Temporal")
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the local stack and a sample registration")
    demo.add_argument("--keep-up", action="store_true", help="keep the stack (and Web UI) up afterwards")
    demo.add_argument("--request", type=Path, help="a registration request JSON (default: the example)")
    sb = sub.add_parser("sandbox", help="run the Twilio sandbox server")
    sb.add_argument("rest", nargs=argparse.REMAINDER)
    sub.add_parser("worker", help="run a worker")
    sub.add_parser("service", help="run the registration service (HTTP API + Twilio webhooks)")
    start = sub.add_parser("start", help="start a registration from a JSON file")
    start.add_argument("file", type=Path)
    conv = sub.add_parser("convert", help="start legacy Starter brand conversions from a JSON or CSV file")
    conv.add_argument("file", type=Path, help="a JSON object, a JSON array of objects, or a CSV file")
    conv.add_argument("--campaign-file", type=Path,
                      help="a campaign (JSON) for every customer without one of its own")
    conv.add_argument("--wait", action="store_true",
                      help="follow the conversions until each has ended or waits for a person")
    conv.add_argument("--timeout", type=float, help="with --wait: stop following after this many seconds")
    conv.add_argument("--concurrency", type=int, default=20, help="workflow starts in flight at once (20)")
    conv.add_argument("--json", action="store_true", help="print every item's outcome as JSON")
    for name in ("status", "resend-otp"):
        sub.add_parser(name).add_argument("workflow_id")
    corr = sub.add_parser("correct")
    corr.add_argument("workflow_id")
    corr.add_argument("file", type=Path)
    dec = sub.add_parser("decide")
    dec.add_argument("workflow_id")
    dec.add_argument("action", choices=["retry", "end", "resend_otp_and_wait"])
    dec.add_argument("--reason")
    can = sub.add_parser("cancel")
    can.add_argument("workflow_id")
    can.add_argument("--reason", default="cancelled from the command line")
    ls = sub.add_parser("list")
    ls.add_argument("--phase")
    ls.add_argument("--brand-status")
    ls.add_argument("--campaign-status")
    ls.add_argument("--flow", choices=["new", "legacy"])
    ls.add_argument("--stalled", action="store_true", help="only registrations whose workflow task is stuck")
    return p


async def _client_command(args: argparse.Namespace) -> int:
    from a2p.progress import OperatorDecision
    from a2p.requests import Correction, RegistrationRequest, describe_validation_error
    from a2p.settings import settings_or_exit
    from a2p.temporal_client import connect, web_ui_link
    from starter import registrations

    settings = settings_or_exit()
    try:
        if args.command == "start":
            request = RegistrationRequest.model_validate_json(args.file.read_text())
        elif args.command == "correct":
            correction = Correction.model_validate_json(args.file.read_text())
    except ValidationError as err:
        print(f"invalid {args.file}:\n{describe_validation_error(err)}", file=sys.stderr)
        return 2
    client = await connect(settings)
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
        rows = await registrations.list_registrations(
            client, phase=args.phase, brand_status=args.brand_status, campaign_status=args.campaign_status,
            flow=args.flow)
        print(json.dumps(rows, indent=2, default=str))
        return 0
    wid = args.workflow_id
    if args.command == "status":
        result = await registrations.get_status(client, wid)
    elif args.command == "correct":
        result = await registrations.correct(client, wid, correction)
    elif args.command == "decide":
        result = await registrations.decide(client, wid, OperatorDecision(action=args.action, reason=args.reason))
    elif args.command == "resend-otp":
        result = await registrations.resend_otp(client, wid)
    else:
        result = await registrations.cancel(client, wid, args.reason)
    print(result.model_dump_json(indent=2))
    return 0


async def _convert(args: argparse.Namespace) -> int:
    """`a2p convert FILE`: validate every customer, start one conversion each, print what happened
    (and, with --wait, per-phase counts until each has ended or waits for a person). Exit status: 0
    all started (and, with --wait, all completed), 1 some invalid / not started / not completed,
    2 the file or the settings are unusable."""
    from a2p.settings import settings_or_exit
    from a2p.temporal_client import connect
    from starter import batch, registrations

    settings = settings_or_exit()
    try:
        items = batch.read_conversion_file(args.file)
        defaults = batch.read_campaign_defaults(args.campaign_file) if args.campaign_file else None
    except batch.BatchFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not items:
        print(f"{args.file}: no customers in the file", file=sys.stderr)
        return 2
    client = await connect(settings)
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
    final = await batch.follow(
        client, ids, timeout=args.timeout,
        on_change=lambda t, counts: print(f"[{t:6.1f}s] {counts}", flush=True))
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


async def _service() -> int:
    from a2p.logging import configure_logging
    from a2p.settings import settings_or_exit
    from starter.service import run_service

    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_format)
    await run_service(settings)
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:  # the sandbox parses its own options
        from sandbox.__main__ import main as sandbox_main

        sys.exit(sandbox_main(argv[1:]))
    args = _parser().parse_args(argv)
    if args.command == "worker":
        from worker.__main__ import main as worker_main

        _exit(asyncio.run(worker_main()))
    if args.command == "service":
        _exit(asyncio.run(_service()))
    if args.command == "convert":
        try:
            code = asyncio.run(_convert(args))
        except Exception as err:  # noqa: BLE001 - a CLI says what went wrong in one line
            print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
            code = 1
        _exit(code)
    if args.command == "demo":
        from starter.local_stack import run_demo

        try:
            code = asyncio.run(run_demo(keep_up=args.keep_up, request_file=args.request))
        except KeyboardInterrupt:
            code = 0
        _exit(code)
    try:
        code = asyncio.run(_client_command(args))
    except Exception as err:  # noqa: BLE001 - a CLI says what went wrong in one line
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        code = 1
    _exit(code)


if __name__ == "__main__":
    main()
