"""The demo's codec endpoint for the Temporal Web UI on this machine: decrypted payloads in the
browser without a key.

Why not the service's `/codec`: the Web UI of `temporal server start-dev` sends no credentials (its
"pass access token" option is refused over http, and there is no login to take a token from), so a
browser cannot present `A2P_CODEC_API_KEY`. Production keeps that key (behind HTTPS or an
authenticating proxy). The demo instead serves this small app while it runs with A2P_PAYLOAD_KEYS,
on a loopback port of its own, and points the Web UI at it (`--ui-codec-endpoint`). It answers only

* requests to a loopback address, with a loopback ``Host`` (a page on another site cannot reach it
  through DNS rebinding), and
* from a browser page of the demo's Web UI: the ``Origin`` header must be one of the UI's origins
  (browsers always send it on these cross-origin calls, and no page of another origin can set it);
  CORS allows only those origins.

The Origin check keeps out browser pages of other origins, not programs: any process on this
machine can send that header. The boundary is loopback (this machine's users and processes), as for
the dev server itself. It is never part of `a2p service`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra.codec import EncryptionCodec, parse_keys
from infra.settings import TemporalSettings

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


def ui_origins(ui_port: int) -> list[str]:
    """The origins a browser on this machine shows the demo's Web UI under."""
    return [f"http://127.0.0.1:{ui_port}", f"http://localhost:{ui_port}"]


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def create_local_codec_app(settings: TemporalSettings, origins: list[str]) -> FastAPI:
    if settings.a2p_payload_keys is None:
        raise ValueError("the local codec needs A2P_PAYLOAD_KEYS")
    codec = EncryptionCodec(parse_keys(settings.a2p_payload_keys.get_secret_value()))
    app = FastAPI(title="a2p-registrar demo codec", docs_url=None, redoc_url=None, openapi_url=None)

    def check(request: Request) -> None:
        host = request.headers.get("host", "").rsplit(":", 1)[0]
        if not (_loopback(request.client.host if request.client else None) and host in LOOPBACK_HOSTS):
            raise HTTPException(status_code=403, detail="only for a browser on this machine")
        if request.headers.get("origin") not in origins:
            raise HTTPException(status_code=403, detail="only for the demo's Web UI: " + ", ".join(origins))

    async def run(transform: Any, request: Request) -> JSONResponse:
        check(request)
        try:
            payloads = json_format.Parse(await request.body() or b"{}", Payloads())
        except json_format.ParseError:
            raise HTTPException(status_code=400, detail="not Temporal payloads JSON") from None
        out = await transform(list(payloads.payloads))
        return JSONResponse(json_format.MessageToDict(Payloads(payloads=out)))

    @app.post("/codec/decode")
    async def decode(request: Request) -> JSONResponse:
        return await run(codec.decode, request)

    @app.post("/codec/encode")
    async def encode(request: Request) -> JSONResponse:
        return await run(codec.encode, request)

    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["POST", "OPTIONS"],
                       allow_headers=["Content-Type", "X-Namespace", "Authorization"])
    return app
