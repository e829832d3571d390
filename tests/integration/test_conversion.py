"""Legacy Starter brand conversions (seed 001) on the real dev server, against the sandbox over
HTTP, from the sandbox's legacy fixture (a twilio-approved Starter profile, a twilio-rejected
trust bundle and a legacy brand): each test asserts what a user sees and what exists at Twilio.

End to end only the happy path and the batch starters; the conversion's branches (campaign,
OTP re-sends, corrections, preconditions) are tested on the time-skipping server with a fake
Twilio in tests/workflows/test_legacy_conversion.py."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from a2p.constants import SOLE_PROPRIETOR_END_USER_TYPE
from a2p.progress import Phase, RegistrationStatus
from a2p.requests import LegacyConversionRequest
from a2p.timings import Timings
from starter import batch, registrations
from tests.factories import EXAMPLE, answer_otp, eventually, wait_phase
from tests.integration.test_registration import record_history

REPO = Path(__file__).resolve().parents[2]

# Quicker than the new flow's FAST: a conversion makes fewer calls and mostly waits on reviews.
CONV = Timings(
    settle_wait=timedelta(seconds=0.3), otp_resend_interval=timedelta(seconds=30),
    otp_deadline=timedelta(seconds=120), poll_initial=timedelta(seconds=0.25), poll_max=timedelta(seconds=1),
)
CAMPAIGN = json.loads(EXAMPLE.read_text())["campaign"]


def new_id(prefix: str = "conv") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def legacy_customer(customer, **fixture: Any) -> dict:
    """Seed 001's legacy customer in the test's subaccount (SIDs of everything the fixture made)."""
    return await customer.control.legacy_fixture(account_sid=customer.subaccount_sid, **fixture)


def conversion(customer, legacy: dict, *, timings: Timings = CONV, **changes: Any) -> LegacyConversionRequest:
    data: dict[str, Any] = {
        "isv_customer_id": new_id(), "subaccount_sid": customer.subaccount_sid,
        "trust_bundle_sid": legacy["trust_product_sid"], "brand_sid": legacy["brand_sid"],
        "brand_name": "Jane Doe Photography", "mobile_number": customer.mobile_number, "vertical": "PROFESSIONAL",
        "timings": timings.model_dump(mode="json"),
    }
    data.update(changes)
    return LegacyConversionRequest.model_validate(data)


async def start(client, settings, task_queue, request: LegacyConversionRequest) -> str:
    started = await registrations.start_conversion(client, settings, request, task_queue=task_queue)
    assert started.created
    return started.workflow_id


async def result(client, workflow_id: str) -> RegistrationStatus:
    return await registrations.final_status(client, workflow_id)


async def sole_proprietor_end_users(customer, trust_bundle_sid: str) -> list[dict]:
    """The sole_proprietor_information end users assigned to the trust bundle."""
    found = await customer.control.resources("entity_assignments", account_sid=customer.subaccount_sid,
                                             bundle_sid=trust_bundle_sid)
    assigned = {a.get("object_sid") or a["sandbox"]["object_sid"] for a in found["resources"]}
    return [e for e in await customer.resources("end_users")
            if e["type"] == SOLE_PROPRIETOR_END_USER_TYPE and e["sid"] in assigned]


async def brand(customer, brand_sid: str) -> dict:
    return next(b for b in await customer.resources("brands") if b["sid"] == brand_sid)


async def trust_bundle(customer, sid: str) -> dict:
    return next(b for b in await customer.resources("trust_products") if b["sid"] == sid)


# ---- the conversion ------------------------------------------------------------------------------


async def test_conversion_happy_path_reaches_a_verified_brand(client, settings, task_queue, customer, control):
    legacy = await legacy_customer(customer)
    request = conversion(customer, legacy)
    wid = await start(client, settings, task_queue, request)
    again = await registrations.start_conversion(client, settings, request, task_queue=task_queue)
    assert not again.created and again.workflow_id == wid == f"a2p-conversion-{request.isv_customer_id}"

    status = await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    assert status.flow == "legacy"
    assert (status.statuses.brand, status.statuses.identity) == ("APPROVED", "UNVERIFIED")
    assert status.statuses.trust_bundle == "in-review" and status.brand_updates_used == 1
    assert status.otp.sent == 1 and status.otp.deadline_at is not None
    assert (await answer_otp(control, request.mobile_number))["accepted"]

    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED and final.problem is None
    assert (final.statuses.brand, final.statuses.identity) == ("APPROVED", "VERIFIED")
    assert final.sids.trust_bundle == legacy["trust_product_sid"] and final.sids.brand == legacy["brand_sid"]
    assert final.sids.campaign is None and final.timeline[-1].note == "conversion complete: brand verified"
    notes = [e.note for e in final.timeline]
    assert "no campaign requested" in notes

    # At Twilio: the same bundle and brand (no new ones), one sole proprietor end user with the
    # request's attributes, the bundle resubmitted once, the brand updated once and verified.
    assert await customer.count("brands") == 1 and await customer.count("trust_products") == 1
    [end_user] = await sole_proprietor_end_users(customer, legacy["trust_product_sid"])
    assert end_user["attributes"] == {"brand_name": "Jane Doe Photography",
                                      "mobile_phone_number": request.mobile_number, "vertical": "PROFESSIONAL"}
    bundle = await trust_bundle(customer, legacy["trust_product_sid"])
    assert bundle["status"] == "twilio-approved" and bundle["sandbox"]["submissions"] == 2
    legacy_brand = await brand(customer, legacy["brand_sid"])
    assert legacy_brand["sandbox"]["update_count"] == 1 and legacy_brand["identity_status"] == "VERIFIED"

    described = await client.get_workflow_handle(wid).describe()
    from a2p import search_attributes as sa

    attrs = described.typed_search_attributes
    assert (attrs.get(sa.FLOW), attrs.get(sa.PHASE), attrs.get(sa.IDENTITY_STATUS)) == ("legacy", "COMPLETED", "VERIFIED")
    await record_history(client, wid, "legacy_conversion_happy_path")


# ---- many at once: the batch file ----------------------------------------------------------------


def test_batch_files_are_read_and_validated(tmp_path):
    """JSON object, JSON array, CSV (dotted and JSON columns), a shared campaign, invalid rows."""
    base = {"isv_customer_id": "crm-1", "trust_bundle_sid": "BU" + "a" * 32, "brand_sid": "BN" + "b" * 32,
            "brand_name": "Jane Doe", "mobile_number": "+14155550101"}
    assert [i.data for i in batch.parse_conversions(json.dumps(base))] == [base]
    items = batch.parse_conversions(json.dumps([base, dict(base, isv_customer_id="crm-2"), 7]))
    valid, invalid = batch.validate_conversions(items)
    assert [r.isv_customer_id for _, r in valid] == ["crm-1", "crm-2"]
    assert [(o.source, o.fields[0]["message"]) for o in invalid] == [("item 3", "must be an object")]

    rows = [
        ["isv_customer_id", "trust_bundle_sid", "brand_sid", "brand_name", "mobile_number", "vertical",
         "messaging_service.friendly_name", "messaging_service.phone_number_sid"],
        ["crm-1", base["trust_bundle_sid"], base["brand_sid"], "Jane Doe", "+1 (415) 555-0101", "retail", "SMS",
         "PN" + "c" * 32],
        ["crm-2", base["trust_bundle_sid"], base["brand_sid"], "Jane Doe", "+44 20 7946 0000", "", "", ""],
        ["crm-3", "BN" + "b" * 32, base["brand_sid"], "jane@example.com", "+14155550102", "", "", ""],
        ["crm-1", base["trust_bundle_sid"], base["brand_sid"], "Jane Doe", "+14155550101", "", "", ""],
    ]
    path = tmp_path / "customers.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    campaign_file = tmp_path / "campaign.json"
    campaign_file.write_text(json.dumps({"campaign": CAMPAIGN, "messaging_service": {"friendly_name": "Texts"}}))
    valid, invalid = batch.validate_conversions(batch.read_conversion_file(path),
                                                batch.read_campaign_defaults(campaign_file))
    [(item, request)] = valid
    assert item.source == "row 2" and request.vertical == "RETAIL" and request.mobile_number == "+14155550101"
    assert request.messaging_service.friendly_name == "SMS" and request.campaign is not None
    errors = {o.source: {f["field"] for f in o.fields} for o in invalid}
    assert errors == {"row 3": {"mobile_number"}, "row 4": {"trust_bundle_sid", "brand_name"},
                      "row 5": {"isv_customer_id"}}
    assert "already in this batch (row 2)" in invalid[-1].fields[0]["message"]

    bad = tmp_path / "bad.csv"
    bad.write_text("isv_customer_id,brand_sid,colour\ncrm-1,BN,blue\n")
    with pytest.raises(batch.BatchFileError, match="unknown CSV column.*colour"):
        batch.read_conversion_file(bad)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def legacy_rows(customer, fixtures: list[dict], mobiles: list[str], timings: Timings = CONV) -> list[dict[str, Any]]:
    return [{
        "isv_customer_id": new_id("batch"), "subaccount_sid": customer.subaccount_sid,
        "trust_bundle_sid": legacy["trust_product_sid"], "brand_sid": legacy["brand_sid"],
        "brand_name": f"Customer {i} Bakery", "mobile_number": mobile, "vertical": "RETAIL",
        "timings": json.dumps(timings.model_dump(mode="json")),
    } for i, (legacy, mobile) in enumerate(zip(fixtures, mobiles, strict=True))]


def unique_mobiles(n: int) -> list[str]:
    base = uuid.uuid4().int % (10000 - n)
    return [f"+1646555{base + i:04d}" for i in range(n)]


async def answer_all_otps(control, mobiles: list[str], timeout: float = 120) -> None:
    """Every customer's phone replies YES once its OTP has arrived."""
    waiting = set(mobiles)

    async def answered() -> set[str]:
        sent = {m["to"] for m in (await control.otp_messages())["messages"] if m["kind"] == "otp"}
        for mobile in sorted(waiting & sent):
            reply = await control.reply_otp(mobile, "YES")
            assert reply["accepted"], reply
            waiting.discard(mobile)
        return waiting

    await eventually(answered, timeout, "an OTP to every customer", interval=0.3, until=lambda left: not left)


async def test_batch_of_10_conversions_from_one_csv_file_all_complete(client, settings, task_queue, customer, control,
                                                                     tmp_path):
    n = 10  # enough to prove the batch starter end to end; the big batch belongs to the benchmark
    fixtures = await asyncio.gather(*(legacy_customer(customer, first_name=f"Customer{i}") for i in range(n)))
    mobiles = unique_mobiles(n)
    rows = legacy_rows(customer, fixtures, mobiles)
    rows.append(dict(rows[0], isv_customer_id=new_id("batch"), mobile_number="+1 800 555 0100"))  # toll-free
    path = write_csv(tmp_path / "legacy-customers.csv", rows)

    first = await batch.start_conversions(client, settings, batch.read_conversion_file(path), task_queue=task_queue)
    assert (first.total, first.created, first.existing, first.invalid, first.errors) == (n + 1, n, 0, 1, 0)
    [invalid] = [o for o in first.items if o.outcome == "invalid"]
    assert invalid.source == f"row {n + 2}" and invalid.fields[0]["field"] == "mobile_number"
    again = await batch.start_conversions(client, settings, batch.read_conversion_file(path), task_queue=task_queue)
    assert (again.created, again.existing) == (0, n)  # idempotent per customer
    assert again.workflow_ids == first.workflow_ids

    await answer_all_otps(control, mobiles)
    finals = await asyncio.gather(*(result(client, wid) for wid in first.workflow_ids))
    assert {f.phase for f in finals} == {Phase.COMPLETED}
    assert {(f.statuses.brand, f.statuses.identity) for f in finals} == {("APPROVED", "VERIFIED")}
    assert sorted(f.sids.brand for f in finals) == sorted(fx["brand_sid"] for fx in fixtures)  # each its own
    brands = await customer.resources("brands")
    assert len(brands) == n and all(b["sandbox"]["update_count"] == 1 for b in brands)
    assert await customer.count("end_users") == 2 * n  # each: the starter's and one sole proprietor's
    phases = await batch.follow(client, first.workflow_ids, timeout=10)
    assert set(phases.values()) == {"COMPLETED"}


async def test_a2p_convert_command_starts_and_follows_a_csv_file(client, settings, task_queue, customer, control,
                                                                  tmp_path):
    fixtures = [await legacy_customer(customer) for _ in range(2)]
    mobiles = unique_mobiles(2)
    rows = legacy_rows(customer, fixtures, mobiles)
    rows[0]["messaging_service.phone_number_sid"] = customer.phone_number_sid  # campaign: from --campaign-file
    rows[1]["messaging_service.phone_number_sid"] = ""
    rows.append(dict(rows[1], isv_customer_id="not a valid id!"))
    path = write_csv(tmp_path / "customers.csv", rows)
    campaign_file = tmp_path / "campaign.json"
    campaign_file.write_text(json.dumps({"campaign": CAMPAIGN, "messaging_service": {"friendly_name": "Texts"}}))
    env = {
        **os.environ, "TEMPORAL_ADDRESS": settings.temporal_address, "TEMPORAL_TASK_QUEUE": task_queue,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token.get_secret_value(),
        "A2P_PRIMARY_CUSTOMER_PROFILE_SID": settings.a2p_primary_customer_profile_sid,
        "TWILIO_API_BASE_URL": settings.twilio_api_base_url, "LOG_LEVEL": "WARNING",
    }
    keys = getattr(settings, "a2p_payload_keys", None)  # the worker's payload encryption, if the tests use it
    if keys is not None:
        env["A2P_PAYLOAD_KEYS"] = keys.get_secret_value()
    a2p = str(Path(sys.executable).with_name("a2p"))
    # The second customer gets the shared campaign too, so it needs a number of its own.
    second_number = await control.create_phone_number(account_sid=customer.subaccount_sid)
    rows[1]["messaging_service.phone_number_sid"] = second_number["sid"]
    rows[2]["messaging_service.phone_number_sid"] = second_number["sid"]
    write_csv(path, rows)

    proc = await asyncio.create_subprocess_exec(
        a2p, "convert", str(path), "--campaign-file", str(campaign_file), "--wait", "--timeout", "60",
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    answering = asyncio.create_task(answer_all_otps(control, mobiles))
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 90)
    await answering
    out, err = stdout.decode(), stderr.decode()
    assert proc.returncode == 1, (out, err)  # one row was invalid
    assert "3 in file: 2 created, 0 already running (or done), 1 invalid" in out, out
    assert "invalid row 4 (not a valid id!): isv_customer_id:" in err, err
    assert "2 of 2 completed" in out and "COMPLETED 2" in out.splitlines()[-2], out
    campaigns = await customer.resources("campaigns")
    assert len(campaigns) == 2 and {c["campaign_status"] for c in campaigns} == {"VERIFIED"}
