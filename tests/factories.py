"""What every suite's tests share: test customers (the README's example registration, made
unique and adjusted per test), and waiting on a registration with a deadline (no sleep-and-hope)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client

from a2p.progress import Phase, RegistrationStatus
from a2p.timings import Timings
from sandbox.testing import SandboxControl
from starter import registrations

EXAMPLE = Path(__file__).resolve().parents[1] / "a2p" / "examples" / "registration.json"
HISTORIES = Path(__file__).resolve().parent / "histories"


def registration_data(isv_customer_id: str, *, mobile_number: str, phone_number_sid: str, timings: Timings,
                      subaccount_sid: str | None = None, **changes: Any) -> dict[str, Any]:
    """The example request as JSON for one customer; ``changes`` set nested fields by path with
    ``__``, e.g. ``customer__address__street="1 Jersey Str"``."""
    data = json.loads(EXAMPLE.read_text())
    data.update(isv_customer_id=isv_customer_id, subaccount_sid=subaccount_sid,
                timings=timings.model_dump(mode="json"))
    data["customer"]["mobile_number"] = mobile_number
    data["messaging_service"]["phone_number_sid"] = phone_number_sid
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = data
        for p in parents:
            target = target[p]
        target[leaf] = value
    return data


async def wait_until(client: Client, workflow_id: str, predicate: Callable[[RegistrationStatus], bool],
                     timeout: float = 30, what: str = "condition") -> RegistrationStatus:
    """Query the workflow until ``predicate(status)`` holds, or fail with its last status."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        try:
            status = await registrations.get_status(client, workflow_id)
        except Exception:  # noqa: BLE001 - the first workflow task may not have run yet
            status = None
        if status is not None and predicate(status):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last status: "
                         f"{status.model_dump_json(indent=1) if status else None}")


async def wait_phase(client: Client, workflow_id: str, phase: Phase, timeout: float = 30) -> RegistrationStatus:
    return await wait_until(client, workflow_id, lambda s: s.phase == phase, timeout, f"phase {phase}")


async def wait_until_listed(client: Client, workflow_id: str, phase: str, timeout: float = 15) -> dict:
    """Wait until the registration is listed (Temporal's visibility, search attributes) in ``phase``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for row in await registrations.list_registrations(client, phase=phase):
            if row["workflow_id"] == workflow_id:
                return row
        await asyncio.sleep(0.3)
    raise AssertionError(f"{workflow_id} not listed with A2PPhase = {phase}")


async def answer_otp(control: SandboxControl, mobile_number: str, timeout: float = 20) -> dict:
    """The customer replies YES from their phone as soon as the sandbox has sent them an OTP."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await control.otp_messages(to=mobile_number))["messages"]:
            return await control.reply_otp(mobile_number, "YES")
        await asyncio.sleep(0.1)
    raise AssertionError(f"no OTP was sent to {mobile_number}")


async def record_history(client: Client, workflow_id: str, name: str) -> None:
    """Keep the registration's history for the replay test when A2P_RECORD_HISTORIES is set."""
    import os

    if os.environ.get("A2P_RECORD_HISTORIES"):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(json.dumps(history.to_json_dict(), indent=1))
