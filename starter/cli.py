"""`a2p`: the command line of a2p-registrar.

  a2p demo [--keep-up]          the local stack + a sample registration to a VERIFIED campaign
  a2p sandbox [--port N]        run the Twilio sandbox
  a2p worker                    run a worker (settings from the environment)
  a2p service                   run the registration service (HTTP API + Twilio webhooks)
  a2p start FILE.json           start a registration (see a2p/examples/registration.json)
  a2p status WORKFLOW_ID        where a registration stands
  a2p correct WORKFLOW_ID FILE  send a correction (JSON, see README)
  a2p decide WORKFLOW_ID ACTION retry | end | resend_otp_and_wait
  a2p resend-otp WORKFLOW_ID    re-send the OTP now
  a2p cancel WORKFLOW_ID        cancel a registration
  a2p list [--phase P] [--brand-status S] [--campaign-status S]
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
    return p


async def _client_command(args: argparse.Namespace) -> int:
    from a2p.progress import OperatorDecision
    from a2p.requests import Correction, RegistrationRequest, describe_validation_error
    from a2p.settings import SettingsError, load_settings
    from a2p.temporal_client import connect, web_ui_link
    from starter import registrations

    try:
        settings = load_settings()
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2
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
    if args.command == "list":
        rows = await registrations.list_registrations(
            client, phase=args.phase, brand_status=args.brand_status, campaign_status=args.campaign_status)
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


async def _service() -> int:
    from a2p.logging import configure_logging
    from a2p.settings import SettingsError, load_settings
    from starter.service import run_service

    try:
        settings = load_settings()
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    await run_service(settings)
    return 0


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "sandbox":
        from sandbox.__main__ import main as sandbox_main

        sys.exit(sandbox_main(args.rest))
    if args.command == "worker":
        from worker.__main__ import main as worker_main

        _exit(asyncio.run(worker_main()))
    if args.command == "service":
        _exit(asyncio.run(_service()))
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
