"""Legacy Starter brand conversions (seed 001) on the real dev server, against the sandbox over
HTTP, from the sandbox's legacy fixture (a twilio-approved Starter profile, a twilio-rejected
trust bundle and a legacy brand): each test asserts what a user sees and what exists at Twilio."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from a2p.constants import SOLE_PROPRIETOR_END_USER_TYPE
from a2p.progress import OperatorDecision, Phase, RegistrationStatus
from a2p.requests import Correction, LegacyConversionRequest
from a2p.timings import Timings
from sandbox import defaults
from sandbox.testing import twilio_client
from starter import batch, registrations
from tests.factories import EXAMPLE, answer_otp, wait_phase, wait_until
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


def sdk(customer, settings):
    """The ISV's own Twilio client on the customer's subaccount (parent credentials)."""
    return twilio_client(settings.twilio_api_base_url, customer.subaccount_sid, defaults.PARENT_AUTH_TOKEN)


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


@pytest.mark.parametrize("service", ["new", "existing"])
async def test_conversion_with_a_campaign(client, settings, task_queue, customer, control, service):
    legacy = await legacy_customer(customer)
    if service == "new":
        spec = {"friendly_name": "Jane Doe Photography", "phone_number_sid": customer.phone_number_sid}
    else:
        existing = sdk(customer, settings).messaging.v1.services.create(friendly_name="ISV's own service")
        spec = {"existing_sid": existing.sid, "phone_number_sid": customer.phone_number_sid}
    request = conversion(customer, legacy, campaign=CAMPAIGN, messaging_service=spec)
    wid = await start(client, settings, task_queue, request)
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, request.mobile_number)

    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED"
    assert final.timeline[-1].note == "conversion complete: brand verified, campaign verified"
    assert final.sids.campaign.startswith("QE") and final.sids.phone_number == customer.phone_number_sid
    [campaign] = await customer.resources("campaigns")
    assert campaign["brand_registration_sid"] == legacy["brand_sid"]
    assert campaign["messaging_service_sid"] == final.sids.messaging_service
    assert await customer.count("services") == 1
    if service == "existing":
        assert final.sids.messaging_service == spec["existing_sid"]


@pytest.mark.parametrize("bundle_status, remedy", [
    ("twilio-approved", "nothing to convert"),
    ("in-review", "ask Twilio Support to reject it"),
])
async def test_trust_bundle_not_rejected_is_an_explained_stop(client, settings, task_queue, customer,
                                                              bundle_status, remedy):
    legacy = await legacy_customer(customer, trust_bundle_status=bundle_status)
    before = {kind: await customer.resources(kind) for kind in ("end_users", "entity_assignments", "evaluations")}
    wid = await start(client, settings, task_queue, conversion(customer, legacy))

    final = await result(client, wid)
    assert final.phase == Phase.FAILED and final.problem.source == "trust_bundle"
    assert bundle_status in final.problem.summary and "nothing was changed" in final.problem.summary
    assert remedy in final.problem.remedy
    assert final.statuses.trust_bundle == bundle_status
    # No Twilio write: no end user, assignment or evaluation; the bundle and brand untouched.
    after = {kind: await customer.resources(kind) for kind in before}
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    bundle = await trust_bundle(customer, legacy["trust_product_sid"])
    assert bundle["status"] == bundle_status and bundle["sandbox"]["submissions"] == 1
    legacy_brand = await brand(customer, legacy["brand_sid"])
    assert legacy_brand["status"] == "FAILED" and legacy_brand["sandbox"]["update_count"] == 0


async def test_assigned_sole_proprietor_end_user_is_updated_not_duplicated(client, settings, task_queue, customer,
                                                                          control):
    legacy = await legacy_customer(customer, with_sole_proprietor_end_user=True, brand_name="Jane Doe",
                                   mobile_phone_number="+14155550100")
    existing = legacy["sole_proprietor_end_user_sid"]
    request = conversion(customer, legacy, brand_name="Jane Doe Studio", vertical="RETAIL")
    wid = await start(client, settings, task_queue, request)
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, request.mobile_number)

    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED and final.sids.sole_proprietor_end_user == existing
    assert any("already had a sole proprietor end user" in e.note for e in final.timeline)
    end_users = [e for e in await customer.resources("end_users") if e["type"] == SOLE_PROPRIETOR_END_USER_TYPE]
    assert [e["sid"] for e in end_users] == [existing]  # no second one, assigned or not
    assert end_users[0]["attributes"] == {"brand_name": "Jane Doe Studio", "mobile_phone_number": request.mobile_number,
                                          "vertical": "RETAIL"}


async def test_noncompliant_trust_bundle_is_reported_then_fixed_and_completes(client, settings, task_queue, customer,
                                                                             control):
    # The converted trust bundle lost its Starter profile assignment (e.g. removed in the Console):
    # the evaluation fails the customer_profile requirement, which no correction of the sole
    # proprietor's details can fix: the ISV re-assigns the profile, then an operator retries.
    legacy = await legacy_customer(customer)
    th = sdk(customer, settings).trusthub.v1
    [assignment] = th.trust_products(legacy["trust_product_sid"]).trust_products_entity_assignments.list()
    th.trust_products(legacy["trust_product_sid"]).trust_products_entity_assignments(assignment.sid).delete()
    request = conversion(customer, legacy)
    wid = await start(client, settings, task_queue, request)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    problem = status.problem
    assert problem.source == "trust_bundle" and "noncompliant" in problem.summary
    assert [f.requirement for f in problem.failed_requirements] == ["customer_profile"]
    assert "assign the customer's twilio-approved Starter customer profile" in problem.remedy
    assert (await trust_bundle(customer, legacy["trust_product_sid"]))["sandbox"]["submissions"] == 1  # not submitted
    with pytest.raises(registrations.UpdateRefused, match="nothing to correct"):
        await registrations.correct(client, wid, Correction(vertical="RETAIL"))

    th.trust_products(legacy["trust_product_sid"]).trust_products_entity_assignments.create(
        object_sid=legacy["customer_profile_sid"])
    await registrations.decide(client, wid, OperatorDecision(action="retry", reason="starter profile re-assigned"))
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, request.mobile_number)
    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.identity == "VERIFIED"


async def test_brand_failed_after_the_update_is_corrected_by_update(client, settings, task_queue, customer, control):
    # The mobile number given has been used for 3 brands already: the updated brand FAILS (30712).
    legacy = await legacy_customer(customer)
    request = conversion(customer, legacy, mobile_number="+12025550199")
    wid = await start(client, settings, task_queue, request)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand" and status.statuses.brand == "FAILED"
    assert any(e.code == 30712 for e in status.problem.errors), status.problem.errors
    assert "correction" in status.problem.accepts and "2 of 3 updates left" in status.problem.remedy
    assert status.problem.correction_fields == ["brand_name", "mobile_number", "vertical"]
    # A conversion changes only the sole proprietor's details: a starter-profile field is refused.
    with pytest.raises(registrations.UpdateRefused, match="only the sole proprietor's details"):
        await registrations.correct(client, wid, Correction(email="jane@example.com"))

    await registrations.correct(client, wid, Correction(mobile_number=customer.mobile_number))
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, customer.mobile_number)
    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED and final.brand_updates_used == 2
    [end_user] = await sole_proprietor_end_users(customer, legacy["trust_product_sid"])
    assert end_user["attributes"]["mobile_phone_number"] == customer.mobile_number
    assert (await brand(customer, legacy["brand_sid"]))["sandbox"]["update_count"] == 2
    assert (await trust_bundle(customer, legacy["trust_product_sid"]))["sandbox"]["submissions"] == 3


async def test_brand_not_failed_is_reported_and_waits_for_an_operator(client, settings, task_queue, customer):
    # Twilio updates a brand only while it is FAILED (21725): an APPROVED/UNVERIFIED legacy brand
    # is reported before anything is written, and never updated blindly.
    legacy = await legacy_customer(customer, brand_status="APPROVED")
    wid = await start(client, settings, task_queue, conversion(customer, legacy))

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    problem = status.problem
    assert problem.source == "brand" and "APPROVED/UNVERIFIED" in problem.summary and "21725" in problem.summary
    assert problem.accepts == ["retry", "end"] and "Twilio Support" in problem.remedy
    assert any(x.startswith("21725") for x in problem.explanations)
    assert status.sids.sole_proprietor_end_user is None  # checked before any write
    with pytest.raises(registrations.UpdateRefused, match="nothing to correct"):
        await registrations.correct(client, wid, Correction(brand_name="Jane Doe Studio"))

    # retry: the brand is fetched again, is still APPROVED, and the conversion waits again.
    await registrations.decide(client, wid, OperatorDecision(action="retry"))
    await wait_until(client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION and sum(
        "operator asked to retry" in e.note for e in s.timeline) == 1, what="waiting again after the retry")
    await registrations.decide(client, wid, OperatorDecision(action="end", reason="legacy brand left as it is"))
    final = await result(client, wid)
    assert final.phase == Phase.FAILED
    legacy_brand = await brand(customer, legacy["brand_sid"])
    assert legacy_brand["status"] == "APPROVED" and legacy_brand["sandbox"]["update_count"] == 0
    assert await customer.count("evaluations") == 0
    assert [e for e in await customer.resources("end_users") if e["type"] == SOLE_PROPRIETOR_END_USER_TYPE] == []


async def test_otp_re_sent_after_24_hours(client, settings, task_queue, customer, control):
    legacy = await legacy_customer(customer)
    timings = CONV.model_copy(update={"otp_resend_interval": timedelta(seconds=3)})
    request = conversion(customer, legacy, timings=timings)
    wid = await start(client, settings, task_queue, request)
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)

    # 3 s of workflow time stand for 24 h; the sandbox's clock jumps 24 h, so the first OTP has
    # expired when the workflow re-sends it.
    await control.advance_clock(24 * 3600)
    await wait_until(client, wid, lambda s: s.otp.resends >= 1, what="the OTP re-send")
    messages = [m for m in (await control.otp_messages(to=request.mobile_number))["messages"]
                if "replying YES" in m["body"]]
    # sorted by sending time: the first expired, the re-sent one valid
    assert len(messages) >= 2 and messages[0]["expired"] and not messages[-1]["expired"], messages
    assert (await control.reply_otp(request.mobile_number, "YES"))["accepted"]
    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED and final.otp.resends >= 1 and final.otp.sent >= 2
    assert any(e.note == "OTP re-sent (1)" for e in final.timeline)


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
    } for i, (legacy, mobile) in enumerate(zip(fixtures, mobiles))]


def unique_mobiles(n: int) -> list[str]:
    base = uuid.uuid4().int % (10000 - n)
    return [f"+1646555{base + i:04d}" for i in range(n)]


async def answer_all_otps(control, mobiles: list[str], timeout: float = 60) -> None:
    """Every customer's phone replies YES once its OTP has arrived."""
    waiting = set(mobiles)
    deadline = time.monotonic() + timeout
    while waiting:
        assert time.monotonic() < deadline, f"no OTP for {sorted(waiting)}"
        sent = {m["to"] for m in (await control.otp_messages())["messages"] if m["kind"] == "otp"}
        for mobile in sorted(waiting & sent):
            reply = await control.reply_otp(mobile, "YES")
            assert reply["accepted"], reply
            waiting.discard(mobile)
        if waiting:
            await asyncio.sleep(0.3)


async def test_batch_of_50_conversions_from_one_csv_file_all_complete(client, settings, task_queue, customer, control,
                                                                     tmp_path):
    n = 50
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
