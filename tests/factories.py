"""What every suite's tests share: test customers (the README's example registration, made
unique and adjusted per test), and waiting on a registration with a deadline (no sleep-and-hope)."""

from __future__ import annotations

import asyncio
import inspect
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


async def eventually(probe: Callable[[], Any], timeout: float = 30, what: str = "condition",
                     interval: float = 0.1, until: Callable[[Any], Any] = bool) -> Any:
    """Await ``probe()`` (a function or coroutine function) until ``until(value)`` holds (by
    default: the value is truthy) and return the value; or fail after ``timeout`` s saying what was
    awaited and what the probe last gave (its value, or the exception it raised). The one way
    tests wait: no sleep-and-hope."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        try:
            value = probe()
            if inspect.isawaitable(value):
                value = await value
        except AssertionError:
            raise
        except Exception as err:  # noqa: BLE001 - e.g. the first workflow task has not run yet
            value, last = None, err
        else:
            last = value
            if until(value):
                return value
        _give_up_after(deadline, timeout, what, last)
        await asyncio.sleep(interval)


def eventually_sync(probe: Callable[[], Any], timeout: float = 30, what: str = "condition",
                    interval: float = 0.1, until: Callable[[Any], Any] = bool) -> Any:
    """:func:`eventually` for synchronous tests (subprocesses, the browser)."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        try:
            value = last = probe()
        except AssertionError:
            raise
        except Exception as err:  # noqa: BLE001 - e.g. a server still starting
            last = err
        else:
            if until(value):
                return value
        _give_up_after(deadline, timeout, what, last)
        time.sleep(interval)


def _give_up_after(deadline: float, timeout: float, what: str, last: Any) -> None:
    if time.monotonic() < deadline:
        return
    if isinstance(last, RegistrationStatus):
        last = last.model_dump_json(indent=1)
    elif isinstance(last, Exception):
        last = f"{type(last).__name__}: {last}"
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last seen: {last!s:.3000}")


async def wait_until(client: Client, workflow_id: str, predicate: Callable[[RegistrationStatus], bool],
                     timeout: float = 60, what: str = "condition") -> RegistrationStatus:
    """Query the workflow until ``predicate(status)`` holds, or fail with its last status."""
    return await eventually(lambda: registrations.get_status(client, workflow_id), timeout, what, until=predicate)


async def wait_phase(client: Client, workflow_id: str, phase: Phase, timeout: float = 60) -> RegistrationStatus:
    return await wait_until(client, workflow_id, lambda s: s.phase == phase, timeout, f"phase {phase}")


async def wait_until_listed(client: Client, workflow_id: str, phase: str, timeout: float = 45) -> dict:
    """Wait until the registration is listed (Temporal's visibility, search attributes) in ``phase``."""
    async def listed() -> dict | None:
        return next((row for row in await registrations.list_registrations(client, phase=phase)
                     if row["workflow_id"] == workflow_id), None)

    return await eventually(listed, timeout, f"{workflow_id} listed with A2PPhase = {phase}", interval=0.3)


async def answer_otp(control: SandboxControl, mobile_number: str, timeout: float = 20) -> dict:
    """The customer replies YES from their phone as soon as the sandbox has sent them an OTP."""
    async def sent() -> bool:
        return bool((await control.otp_messages(to=mobile_number))["messages"])

    await eventually(sent, timeout, f"an OTP sent to {mobile_number}")
    return await control.reply_otp(mobile_number, "YES")


async def record_history(client: Client, workflow_id: str, name: str, run_id: str | None = None) -> None:
    """Keep the registration's history (its latest run, or ``run_id``) for the replay test when
    A2P_RECORD_HISTORIES is set."""
    import os

    if os.environ.get("A2P_RECORD_HISTORIES"):
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(json.dumps(history.to_json_dict(), indent=1))
