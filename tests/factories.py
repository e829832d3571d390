"""Test customers: the README's example registration, made unique and adjusted per test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from a2p.timings import Timings

EXAMPLE = Path(__file__).resolve().parents[1] / "a2p" / "examples" / "registration.json"


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
