"""Connecting to Temporal, the same way from the worker, the starter CLI, the service and tests."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from a2p.settings import Settings

DATA_CONVERTER = pydantic_data_converter


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=DATA_CONVERTER,
    )


def web_ui_link(settings: Settings, workflow_id: str) -> str:
    from urllib.parse import quote

    return (f"{settings.temporal_ui_url}/namespaces/{quote(settings.temporal_namespace)}"
            f"/workflows/{quote(workflow_id, safe='')}")
