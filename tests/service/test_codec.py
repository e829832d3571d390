"""The Web UI's codec endpoint decrypts payloads for authorised operators only; webhook
deliveries are counted in the metrics."""

from __future__ import annotations

import httpx
from google.protobuf import json_format
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload, Payloads

from infra.codec import EncryptionCodec, new_key_spec, parse_keys
from local_stack.stack import free_port, sandbox_settings
from starter.service import create_app, serving

UI = "http://localhost:8233"


async def test_codec_endpoint_decodes_for_the_ui_and_refuses_strangers(temporal_env):
    keys = new_key_spec("k1")
    settings = sandbox_settings("http://127.0.0.1:9", temporal_env.client.service_client.config.target_host,
                                a2p_payload_keys=SecretStr(keys), a2p_codec_api_key=SecretStr("ui-key"),
                                a2p_codec_cors_origins=UI)
    clear = Payload(metadata={"encoding": b"json/plain"}, data=b'{"email":"john.doe@example.com"}')
    [encrypted] = await EncryptionCodec(parse_keys(keys)).encode([clear])
    body = json_format.MessageToDict(Payloads(payloads=[encrypted]))
    async with serving(create_app(settings, temporal_env.client)) as url, httpx.AsyncClient() as http:
        ok = await http.post(f"{url}/codec/decode", json=body,
                             headers={"Authorization": "Bearer ui-key", "Origin": UI, "X-Namespace": "default"})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == UI
        decoded = json_format.ParseDict(ok.json(), Payloads()).payloads
        assert list(decoded) == [clear]
        # ... and back: the UI can encode too, and the result is not readable.
        enc = await http.post(f"{url}/codec/encode", json=json_format.MessageToDict(Payloads(payloads=[clear])),
                              headers={"Authorization": "Bearer ui-key"})
        assert enc.status_code == 200 and "john.doe" not in enc.text
        preflight = await http.options(f"{url}/codec/decode", headers={
            "Origin": UI, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == UI
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            refused = await http.post(f"{url}/codec/decode", json=body, headers=headers)
            assert refused.status_code == 401 and "john.doe" not in refused.text


async def test_webhook_deliveries_are_counted(temporal_env):
    bind = f"127.0.0.1:{free_port()}"
    settings = sandbox_settings("http://127.0.0.1:9", temporal_env.client.service_client.config.target_host,
                                a2p_metrics_bind=bind)
    async with serving(create_app(settings, temporal_env.client)) as url, httpx.AsyncClient() as http:
        forged = await http.post(f"{url}/webhooks/trusthub?workflow_id=x", data={"BundleSid": "BU1", "Status": "x"},
                                 headers={"X-Twilio-Signature": "forged"})
        assert forged.status_code == 403
        metrics = (await http.get(f"http://{bind}/metrics")).text
    assert any(line.startswith("a2p_webhooks{") and 'kind="trusthub"' in line and 'outcome="refused"' in line
               for line in metrics.splitlines()), metrics[-1500:]
