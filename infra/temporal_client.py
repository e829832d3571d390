"""Connecting to Temporal, the same way from the worker, the starter CLI, the service and tests."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from infra.settings import TemporalSettings

DATA_CONVERTER = pydantic_data_converter


def data_converter(settings: TemporalSettings) -> DataConverter:
    """Pydantic models in, and — when A2P_PAYLOAD_KEYS is set — encrypted payloads out."""
    from infra.codec import ClearCodec, EncryptionCodec, parse_keys

    if settings.a2p_payload_keys is None:
        return dataclasses.replace(DATA_CONVERTER, payload_codec=ClearCodec())

    codec = EncryptionCodec(parse_keys(settings.a2p_payload_keys.get_secret_value()))
    return dataclasses.replace(DATA_CONVERTER, payload_codec=codec)


async def connect(settings: TemporalSettings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=data_converter(settings),
        runtime=runtime_for(settings.a2p_metrics_bind), **_security(settings),
    )


def _security(settings: TemporalSettings) -> dict:
    """mTLS (client certificate) and/or an API key, as Temporal Cloud asks; nothing for a local server."""
    from pathlib import Path

    from temporalio.service import TLSConfig

    out: dict = {}
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        out["tls"] = TLSConfig(client_cert=Path(settings.temporal_tls_cert).read_bytes(),
                               client_private_key=Path(settings.temporal_tls_key).read_bytes())
    if settings.temporal_api_key is not None:
        out["api_key"] = settings.temporal_api_key.get_secret_value()
        out.setdefault("tls", True)
    return out


def web_ui_link(settings: TemporalSettings, workflow_id: str) -> str:
    from urllib.parse import quote

    return (f"{settings.temporal_ui_url}/namespaces/{quote(settings.temporal_namespace)}"
            f"/workflows/{quote(workflow_id, safe='')}")


@lru_cache(maxsize=None)
def runtime_for(bind_address: str | None) -> Runtime | None:
    """The process's Temporal runtime with a Prometheus endpoint (one per address per process);
    None: the SDK's default runtime, no endpoint."""
    if not bind_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))
