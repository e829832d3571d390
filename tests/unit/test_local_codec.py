"""The demo's codec for the local Web UI (local_stack/codec.py) decrypts only for a browser page of
that Web UI on this machine: a page of another origin, a request without an Origin, a foreign Host
(DNS rebinding) or a client off loopback is refused and learns nothing."""

from __future__ import annotations

import httpx
import pytest
from google.protobuf import json_format
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload, Payloads

from infra.codec import EncryptionCodec, new_key_spec, parse_keys
from infra.settings import load_temporal_settings
from local_stack.codec import create_local_codec_app, ui_origins

UI_PORT = 8233
KEYS = new_key_spec("demo")
CLEAR = Payload(metadata={"encoding": b"json/plain"}, data=b'{"email":"john.doe@example.com"}')


async def encrypted_body() -> dict:
    [encrypted] = await EncryptionCodec(parse_keys(KEYS)).encode([CLEAR])
    return json_format.MessageToDict(Payloads(payloads=[encrypted]))


def codec_client(client_host: str = "127.0.0.1", host: str = "127.0.0.1:8081") -> httpx.AsyncClient:
    settings = load_temporal_settings(_env_file=None, a2p_payload_keys=SecretStr(KEYS))
    app = create_local_codec_app(settings, ui_origins(UI_PORT))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(client_host, 50123)),
                             base_url=f"http://{host}")


@pytest.mark.parametrize("origin", [f"http://localhost:{UI_PORT}", f"http://127.0.0.1:{UI_PORT}"])
async def test_the_web_ui_on_either_loopback_name_gets_the_payloads_decoded(origin):
    async with codec_client() as http:
        preflight = await http.options("/codec/decode", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == origin
        decoded = await http.post("/codec/decode", json=await encrypted_body(),
                                  headers={"Origin": origin, "X-Namespace": "default"})
    assert decoded.status_code == 200 and decoded.headers["access-control-allow-origin"] == origin
    assert list(json_format.ParseDict(decoded.json(), Payloads()).payloads) == [CLEAR]


@pytest.mark.parametrize("why, client_host, host, headers", [
    ("a page of another site", "127.0.0.1", "127.0.0.1:8081", {"Origin": "https://evil.example"}),
    ("the Web UI's origin on another port", "127.0.0.1", "127.0.0.1:8081", {"Origin": "http://127.0.0.1:9999"}),
    ("no Origin (not a browser page of the Web UI)", "127.0.0.1", "127.0.0.1:8081", {}),
    ("a foreign Host (DNS rebinding)", "127.0.0.1", "evil.example:8081", {"Origin": f"http://localhost:{UI_PORT}"}),
    ("a client off loopback", "192.168.1.20", "127.0.0.1:8081", {"Origin": f"http://localhost:{UI_PORT}"}),
])
async def test_anyone_else_is_refused_and_learns_nothing(why, client_host, host, headers):
    async with codec_client(client_host, host) as http:
        for path in ("/codec/decode", "/codec/encode"):
            refused = await http.post(path, json=await encrypted_body(), headers=headers)
            assert refused.status_code == 403, (why, path, refused.text)
            assert "john.doe" not in refused.text, why
            # CORS names only the Web UI's origins: a page of another site cannot even read the refusal.
            assert refused.headers.get("access-control-allow-origin") in (None, *ui_origins(UI_PORT)), why


async def test_a_preflight_from_another_origin_is_not_allowed():
    async with codec_client() as http:
        preflight = await http.options("/codec/decode", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code >= 400 and "access-control-allow-origin" not in preflight.headers
