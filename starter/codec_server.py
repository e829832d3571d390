"""The Temporal Web UI's remote codec: decrypted (or encrypted) payloads for operators holding
``A2P_CODEC_API_KEY``. The only part of the service with CORS (the Web UI calls it from the
browser; see starter/gate.py).

Answers: **200** the payloads; **401** any missing or wrong key (compared as bytes, so a key in
any script is just wrong); **400** a body that is not Temporal's payloads JSON, or a payload that
cannot be decrypted (tampered, or encrypted with a key that is not configured).
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payloads

from infra.codec import EncryptionCodec, parse_keys
from infra.settings import Settings
from starter.webhooks import same_secret

PREFIX = "/codec"


def codec_key_refusal(settings: Settings, authorization: str | None) -> dict[str, Any] | None:
    """None when ``authorization`` is ``Bearer <A2P_CODEC_API_KEY>``, else the 401 body."""
    expected = settings.a2p_codec_api_key
    scheme, _, given = (authorization or "").partition(" ")
    if expected is not None and scheme.lower() == "bearer" and same_secret(given.strip(), expected.get_secret_value()):
        return None
    return {"error": "a valid 'Authorization: Bearer <A2P_CODEC_API_KEY>' is required"}


def router(settings: Settings) -> APIRouter:
    codec = (EncryptionCodec(parse_keys(settings.a2p_payload_keys.get_secret_value()))
             if settings.a2p_payload_keys is not None else None)
    bearer = HTTPBearer(auto_error=False, description="A2P_CODEC_API_KEY")

    def codec_key(request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        refusal = codec_key_refusal(settings, request.headers.get("Authorization"))
        if refusal is not None:
            raise HTTPException(status_code=401, detail=refusal, headers={"WWW-Authenticate": "Bearer"})

    api = APIRouter(prefix=PREFIX, tags=["codec"], dependencies=[Depends(codec_key)])

    @api.post("/decode", responses={400: {"description": "not payloads JSON, or a payload that cannot be "
                                                         "decrypted"}, 401: {"description": "bad key"}})
    async def codec_decode(request: Request) -> JSONResponse:
        """Temporal's remote codec protocol: `{"payloads": [...]}` decrypted, for the Web UI/CLI."""
        return JSONResponse(await _run(codec.decode if codec else None, await request.body()))

    @api.post("/encode", responses={400: {"description": "not payloads JSON"}, 401: {"description": "bad key"}})
    async def codec_encode(request: Request) -> JSONResponse:
        """Temporal's remote codec protocol: `{"payloads": [...]}` encrypted."""
        return JSONResponse(await _run(codec.encode if codec else None, await request.body()))

    return api


async def _run(transform, body: bytes) -> dict[str, Any]:
    try:
        payloads = json_format.Parse(body or b"{}", Payloads())
    except (json_format.ParseError, DecodeError, ValueError, RecursionError, UnicodeDecodeError) as err:
        raise HTTPException(status_code=400, detail={"error": f"not Temporal payloads JSON: {err}"}) from None
    try:
        out = list(payloads.payloads) if transform is None else await transform(list(payloads.payloads))
    except InvalidTag:
        raise HTTPException(status_code=400, detail={"error": "a payload cannot be decrypted: it was altered, or "
                                                              "encrypted with another key of the same id"}) from None
    except (ValueError, DecodeError, UnicodeDecodeError) as err:
        raise HTTPException(status_code=400, detail={"error": f"a payload cannot be decoded: {err}"}) from None
    return json_format.MessageToDict(Payloads(payloads=out))
