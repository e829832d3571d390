"""``python -m sandbox [--host 127.0.0.1] [--port 8010] [--db FILE] [--event-sink-url URL] [--<setting> VALUE ...]``

Every field of :class:`sandbox.config.SandboxConfig` is a flag (``profile_review_seconds`` ->
``--profile-review-seconds``); ``--config-json '{...}'`` sets several at once (flags win).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import uvicorn

from . import defaults
from .app import create_app
from .config import SandboxConfig


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {value!r}")


def parser(prog: str = "python -m sandbox") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Local, stateful Twilio API sandbox "
                                "(Trust Hub, Addresses, A2P brands and campaigns) for a2p-registrar.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=defaults.DEFAULT_PORT)
    p.add_argument("--db", default=None, help="SQLite file: persist every resource and scheduled event")
    p.add_argument("--config-json", default=None, help="JSON object of SandboxConfig fields")
    p.add_argument("--log-level", default="warning")
    for name, field in SandboxConfig.model_fields.items():
        flag = "--" + name.replace("_", "-")
        annotation = field.annotation
        if annotation is bool:
            p.add_argument(flag, dest=name, type=_bool, nargs="?", const=True, default=None, help=field.description)
        elif annotation in (int, float):
            p.add_argument(flag, dest=name, type=annotation, default=None, help=field.description)
        else:
            p.add_argument(flag, dest=name, default=None, help=field.description)
    return p


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    values: dict[str, Any] = json.loads(args.config_json) if args.config_json else {}
    for name in SandboxConfig.model_fields:
        value = getattr(args, name)
        if value is not None:
            values[name] = value
    return SandboxConfig.model_validate(values)


def main(argv: list[str] | None = None, prog: str = "python -m sandbox") -> None:
    args = parser(prog).parse_args(argv)
    config = config_from_args(args)
    app = create_app(config, args.db)
    print(f"a2p sandbox on http://{args.host}:{args.port} (db: {args.db or 'memory'})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
