"""The signup API over real HTTP: OpenAPI, the API key, validation, idempotent starts, a
registration completed by Twilio's webhooks (fewer status polls than without them), listing,
corrections and operator actions."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx
import pytest
from fastapi import FastAPI, Response
from temporalio.service import RPCError, RPCStatusCode

from a2p.calls import Call
from a2p.progress import Phase
from a2p.requests import RegistrationRequest
from starter import registrations
from starter.service import serving
from tests.service.conftest import (
    API_KEY, TIMINGS, activities, answer_otp, brand_event, event_delivery, eventually, signals, trusthub_callback,
    wait_phase, wait_until,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

ENDPOINTS = {
    ("/v1/registrations", "post"), ("/v1/registrations", "get"), ("/v1/registrations/{workflow_id}", "get"),
    ("/v1/registrations/counts", "get"),
    ("/v1/registrations/{workflow_id}/corrections", "post"),
    ("/v1/registrations/{workflow_id}/actions/resend-otp", "post"),
    ("/v1/registrations/{workflow_id}/actions/decide", "post"),
    ("/v1/registrations/{workflow_id}/actions/cancel", "post"),
    ("/v1/conversions", "post"), ("/v1/conversions/batch", "post"),
    ("/webhooks/trusthub", "post"), ("/webhooks/events", "post"),
    ("/codec/decode", "post"), ("/codec/encode", "post"),
}


async def test_openapi_document_lists_every_endpoint(stack):
    response = await stack.http.get("/openapi.json", headers={"Authorization": ""})
    assert response.status_code == 200
    doc = response.json()
    served = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served == ENDPOINTS
    # The API is described as bearer-protected, the webhooks are not; request bodies are the a2p models.
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert doc["paths"]["/v1/registrations"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in doc["paths"]["/webhooks/events"]["post"]
    assert "RegistrationRequest" in doc["components"]["schemas"]
    assert "Correction" in doc["components"]["schemas"]
    assert (await stack.http.get("/docs")).status_code == 200


async def test_api_refuses_a_missing_or_wrong_key(stack):
    data = await stack.request()
    wid = f"a2p-registration-{data['isv_customer_id']}"
    calls = [("POST", "/v1/registrations", data), ("GET", "/v1/registrations", None),
             ("GET", f"/v1/registrations/{wid}", None),
             ("POST", f"/v1/registrations/{wid}/corrections", {"email": "a@example.com"}),
             ("POST", f"/v1/registrations/{wid}/actions/resend-otp", None),
             ("POST", f"/v1/registrations/{wid}/actions/decide", {"action": "end"}),
             ("POST", f"/v1/registrations/{wid}/actions/cancel", None),
             ("POST", "/v1/conversions/batch", [])]
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as bare:  # no key by default
        for authorization in (None, f"Bearer {API_KEY}x", "Bearer", API_KEY, f"Basic {API_KEY}"):
            headers = {"Authorization": authorization} if authorization is not None else {}
            for method, path, body in calls:
                response = await bare.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (authorization, method, path, response.text)
                assert response.headers["WWW-Authenticate"] == "Bearer"
                assert "A2P_SERVICE_API_KEY" in response.json()["error"]
    # Nothing was started by those attempts.
    with pytest.raises(RPCError) as err:
        await stack.client.get_workflow_handle(wid).describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND
    # The scheme's case does not matter.
    response = await stack.http.get("/v1/registrations", params={"page_size": 1},
                                    headers={"Authorization": f"bearer {API_KEY}"})
    assert response.status_code == 200


async def test_invalid_requests_are_422_naming_every_field_and_start_nothing(stack):
    data = await stack.request()
    data["customer"]["email"] = "jane@@example.com"
    data["customer"]["address"]["postal_code"] = "2215"
    data["campaign"]["message_samples"] = ["John Doe Photography: only one sample message"]
    data["campaign"]["description"] = "too short"
    data["messaging_service"] = {}
    data["customer"]["nickname"] = "JD"
    del data["campaign"]["has_embedded_phone"]
    wid = f"a2p-registration-{data['isv_customer_id']}"
    data2 = await stack.request()
    before = await stack.control.stats()

    response = await stack.http.post("/v1/registrations", json=data)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid request"
    fields = {f["field"]: f["message"] for f in body["fields"]}
    assert set(fields) == {"customer.email", "customer.address.postal_code", "customer.nickname",
                           "campaign.description", "campaign.message_samples", "campaign.has_embedded_phone",
                           "messaging_service"}, fields
    assert fields["campaign.has_embedded_phone"] == "is required"
    assert fields["customer.nickname"] == "is not a known field (check the spelling)"
    assert all(m and not m.startswith("Value error") for m in fields.values()), fields

    # A list item is named with its index; a body that is not JSON is a 400 saying where it breaks.
    data2["campaign"]["message_samples"][1] = "too short"
    response = await stack.http.post("/v1/registrations", json=data2)
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["campaign.message_samples[1]"]
    response = await stack.http.post("/v1/registrations", content=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "the body is not valid JSON"
    assert response.json()["fields"]

    # Conversions are validated the same way; a batch lists its invalid items and starts nothing.
    response = await stack.http.post("/v1/conversions", json={"isv_customer_id": "c-1", "brand_sid": "BNx"})
    assert response.status_code == 422
    assert {"brand_sid", "trust_bundle_sid", "brand_name", "mobile_number"} <= {
        f["field"] for f in response.json()["fields"]}
    response = await stack.http.post("/v1/conversions/batch", json=[{"isv_customer_id": "c-2"}, {}])
    assert response.status_code == 200
    batch = response.json()
    assert (batch["total"], batch["created"], batch["started"]) == (2, 0, [])
    assert [i["index"] for i in batch["invalid"]] == [0, 1]

    # No workflow, no Twilio call.
    with pytest.raises(RPCError) as err:
        await stack.client.get_workflow_handle(wid).describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND
    assert (await stack.http.get(f"/v1/registrations/{wid}")).status_code == 404
    after = await stack.control.stats()
    assert after["requests"] == before["requests"]
    assert after["resources"] == before["resources"]


@contextlib.asynccontextmanager
async def swallowing_sink():
    """An Event Streams sink that accepts and drops everything: Twilio without webhooks."""
    app = FastAPI()

    @app.post("/")
    async def swallow() -> Response:
        return Response(status_code=204)

    async with serving(app) as url:
        yield url + "/"


async def test_registration_through_the_api_completes_driven_by_webhooks(stack, capsys):
    control, client = stack.control, stack.client
    hooked = await stack.request()
    # The same registration without webhooks, at the same time: a customer in a subaccount whose
    # events go to a sink that drops them, started without bundle status callbacks.
    sub = await control.create_subaccount()
    plain = await stack.request()
    plain["subaccount_sid"] = sub["sid"]
    plain["messaging_service"]["phone_number_sid"] = (await control.create_phone_number(account_sid=sub["sid"]))["sid"]
    no_webhooks = stack.settings.model_copy(update={"a2p_public_base_url": None})
    polls_before = await stack.polls()

    async with swallowing_sink() as sink:
        await control.set_event_sink(sink, account_sid=sub["sid"])
        response = await stack.http.post("/v1/registrations", json=hooked)
        assert response.status_code == 201, response.text
        started = response.json()
        wid = started["workflow_id"]
        assert wid == f"a2p-registration-{hooked['isv_customer_id']}" and started["created"] is True
        assert started["status_url"] == f"{stack.url}/v1/registrations/{wid}"
        assert started["web_ui"].endswith(f"/namespaces/default/workflows/{wid}")
        base = await registrations.start_registration(client, no_webhooks, RegistrationRequest.model_validate(plain))

        # A repeated start gives back the same registration.
        again = await stack.http.post("/v1/registrations", json=hooked)
        assert again.status_code == 200, again.text
        assert again.json()["workflow_id"] == wid and again.json()["created"] is False

        await asyncio.gather(answer_otp(control, hooked["customer"]["mobile_number"]),
                             answer_otp(control, plain["customer"]["mobile_number"]))
        final, final_base = await asyncio.gather(registrations.final_status(client, wid),
                                                 registrations.final_status(client, base.workflow_id))
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED", final.problem
    assert final_base.phase == Phase.COMPLETED and final_base.statuses.campaign == "VERIFIED", final_base.problem

    # Brand and campaign progress arrived by webhook, and every webhook was accepted (signed).
    received = await signals(client, wid)
    assert received.count("brand_event") >= 2 and received.count("campaign_event") >= 1, received
    assert received.count("bundle_event") >= 2, received
    assert await signals(client, base.workflow_id) == []
    attempts = [a for a in (await control.webhooks())["attempts"] if a["url"].startswith(stack.url)]
    assert attempts and all(a["ok"] for a in attempts), [a for a in attempts if not a["ok"]]

    # Fewer status polls than the same run without webhooks (counted by the sandbox, and per workflow).
    polls = await activities(client, wid, Call.FETCH_BRAND, Call.FETCH_CAMPAIGN)
    polls_base = await activities(client, base.workflow_id, Call.FETCH_BRAND, Call.FETCH_CAMPAIGN)
    assert await stack.polls() - polls_before == polls + polls_base
    assert polls < polls_base, (polls, polls_base)
    with capsys.disabled():
        print(f"\n  status polls (GET brand + GET campaign): with webhooks {polls}, without {polls_base}; "
              f"run {(final.finished_at - final.started_at).total_seconds():.1f} s vs "
              f"{(final_base.finished_at - final_base.started_at).total_seconds():.1f} s")

    # Webhooks about a registration that has ended are acknowledged (nothing to re-deliver).
    async with httpx.AsyncClient(timeout=30) as http:
        url, params, headers = trusthub_callback(stack.url, wid, bundle_sid=final.sids.customer_profile,
                                                 status="twilio-approved")
        assert (await http.post(url, data=params, headers=headers)).status_code == 204
        url, body, headers = event_delivery(stack.url, [brand_event(final.sids.brand, "brand-verified",
                                                                    status="APPROVED", identity="VERIFIED")])
        assert (await http.post(url, content=body, headers=headers)).status_code == 204

    # GET one registration: the Query and the Web UI link.
    response = await stack.http.get(f"/v1/registrations/{wid}")
    assert response.status_code == 200
    view = response.json()
    assert view["running"] is False
    assert view["web_ui"] == f"{stack.settings.temporal_ui_url}/namespaces/default/workflows/{wid}"
    status = view["status"]
    assert status["phase"] == "COMPLETED" and status["statuses"]["campaign"] == "VERIFIED"
    assert status["sids"]["brand"].startswith("BN") and status["otp"]["verified_at"]
    assert (await stack.http.get("/v1/registrations/a2p-registration-nobody")).status_code == 404

    # The list, filtered through the search attributes, a page at a time.
    async def listed(**params) -> dict:
        response = await stack.http.get("/v1/registrations", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def all_ids(**params) -> set[str]:
        ids, token = set(), None
        for _ in range(50):
            page = await listed(**params, page_size=200, **({"page_token": token} if token else {}))
            ids |= {r["workflow_id"] for r in page["registrations"]}
            token = page["next_page_token"]
            if not token:
                break
        return ids

    await eventually(lambda: _contains(all_ids(phase="COMPLETED"), {wid, base.workflow_id}), what="listed")
    first = await listed(phase="COMPLETED", page_size=1)
    assert len(first["registrations"]) == 1 and first["next_page_token"]
    second = await listed(phase="COMPLETED", page_size=1, page_token=first["next_page_token"])
    assert len(second["registrations"]) == 1
    assert first["registrations"][0]["workflow_id"] != second["registrations"][0]["workflow_id"]
    assert all(r["phase"] == "COMPLETED" for r in first["registrations"] + second["registrations"])
    row = next(r for r in (await listed(phase="COMPLETED", page_size=1000))["registrations"] if r["workflow_id"] == wid)
    assert row["isv_customer_id"] == hooked["isv_customer_id"] and row["campaign_status"] == "VERIFIED"
    assert wid in await all_ids(campaign_status="VERIFIED", brand_status="APPROVED")
    assert wid not in await all_ids(phase="NEEDS_ATTENTION")
    assert (await stack.http.get("/v1/registrations", params={"phase": "X' OR 1=1"})).status_code == 422
    assert (await stack.http.get("/v1/registrations", params={"page_token": "%%%"})).status_code == 422
    assert (await stack.http.get("/v1/registrations", params={"page_size": 0})).status_code == 422


async def _contains(ids, wanted: set[str]) -> bool:
    return wanted <= await ids


async def test_correction_through_the_api_fixes_a_rejected_profile(stack):
    data = await stack.request(customer__address__street="1 Jersey Str")  # the seed's "Invalid Street"
    wid = await stack.start(data)

    # Nothing to correct yet: refused, with the reason.
    early = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"address": {"street": "1 Jersey St"}})
    assert early.status_code == 422, early.text
    assert "nothing to correct" in early.json()["reason"]

    status = await wait_phase(stack, wid, Phase.NEEDS_ATTENTION)
    assert "Invalid Street" in status.problem.summary, status.problem
    assert "correction" in status.problem.accepts
    view = (await stack.http.get(f"/v1/registrations/{wid}")).json()
    assert view["running"] is True and view["status"]["problem"]["summary"] == status.problem.summary

    # A correction the workflow's validator refuses (a Canadian postal code for a US address):
    # 422 with the reason, nothing changed.
    refused = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"address": {"postal_code": "K1A 0B1"}})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "refused by the registration" and "postal_code" in refused.json()["reason"]
    assert refused.json()["accepts"] == status.problem.accepts
    assert refused.json()["correction_fields"] == status.problem.correction_fields
    assert (await stack.status(wid)) == status
    # A correction that is not even well-formed: 422 naming the field.
    invalid = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"address": {"street": ""}})
    assert invalid.status_code == 422 and invalid.json()["fields"][0]["field"].startswith("address")
    empty = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={})
    assert empty.status_code == 422
    assert (await stack.status(wid)) == status
    assert (await stack.control.resources("addresses", sid=status.sids.address))["resources"][0]["street"] == "1 Jersey Str"

    fixed = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"address": {"street": "1 Jersey St"}})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["problem"] is None
    status = await wait_phase(stack, wid, Phase.OTP_VERIFICATION)
    assert status.statuses.brand == "APPROVED"
    address = (await stack.control.resources("addresses", sid=status.sids.address))["resources"][0]
    assert address["street"] == "1 Jersey St"
    assert any(e.note == "correction applied" for e in status.timeline)

    cancelled = await stack.http.post(f"/v1/registrations/{wid}/actions/cancel", json={"reason": "test over"})
    assert cancelled.status_code == 200
    assert (await registrations.final_status(stack.client, wid)).phase == Phase.CANCELLED


FLOW_WITHOUT_OPT_IN = "Customers give their mobile number at the front desk when they book an appointment."
FLOW_WITH_OPT_IN = ("Customers opt in by texting JOIN to the number on the bakery's counter sign; "
                    "consent is recorded at sign up.")
CAMPAIGN_UPDATE = "POST /v1/Services/{Sid}/Compliance/Usa2p/{Sid}"


async def test_campaign_correction_through_the_api_edits_the_failed_campaign(stack):
    data = await stack.request(campaign__message_flow=FLOW_WITHOUT_OPT_IN)  # the sandbox FAILS it (30896)
    wid = await stack.start(data)
    await answer_otp(stack.control, data["customer"]["mobile_number"])
    status = await wait_until(stack, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION and s.problem is not None
                              and s.problem.source == "campaign", what="the FAILED campaign parked")
    assert status.problem.correction_fields == ["campaign"] and any(e.code == 30896 for e in status.problem.errors)

    async def campaign_updates() -> int:
        return sum((await stack.control.stats())["requests"].get(CAMPAIGN_UPDATE, {}).values())

    updates = await campaign_updates()
    # Not well-formed: 422 naming the campaign's field.
    invalid = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"campaign": {"message_flow": "Opt in."}})
    assert invalid.status_code == 422, invalid.text
    assert invalid.json()["fields"][0]["field"] == "campaign.message_flow"
    empty = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"campaign": {}})
    assert empty.status_code == 422 and empty.json()["fields"][0]["field"] == "campaign", empty.text
    # Well-formed, but not with the rest of the campaign (answering STOP/HELP yourself needs their
    # texts): refused by the registration, naming what is missing.
    refused = await stack.http.post(f"/v1/registrations/{wid}/corrections",
                                    json={"campaign": {"use_twilio_default_opt_out": False}})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "refused by the registration" and "opt_out_message" in refused.json()["reason"]
    # Not what this problem takes.
    other = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"email": "john@example.com"})
    assert other.status_code == 422 and "campaign" in other.json()["reason"], other.text
    assert await stack.status(wid) == status and await campaign_updates() == updates  # nothing reached Twilio

    fixed = await stack.http.post(f"/v1/registrations/{wid}/corrections",
                                  json={"campaign": {"message_flow": FLOW_WITH_OPT_IN}})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["problem"] is None
    final = await registrations.final_status(stack.client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED", final.problem
    [campaign] = (await stack.control.resources("campaigns", brand_registration_sid=final.sids.brand))["resources"]
    assert campaign["sid"] == final.sids.campaign == status.sids.campaign and campaign["message_flow"] == FLOW_WITH_OPT_IN
    assert await campaign_updates() == updates + 1


async def test_operator_actions_work_and_are_refused_when_not_applicable(stack):
    # The OTP deadline passes a few seconds after the brand is registered.
    timings = type(TIMINGS)(**{**TIMINGS.model_dump(), "otp_resend_interval": 4.5, "otp_deadline": 5})
    data = await stack.request(timings=timings)
    mobile = data["customer"]["mobile_number"]
    wid = await stack.start(data)
    actions = f"/v1/registrations/{wid}/actions"

    # Too early for any of them: each refusal says what the registration accepts (only cancel now).
    refused = await stack.http.post(f"{actions}/resend-otp")
    assert refused.status_code == 422 and "only while waiting for verification" in refused.json()["reason"]
    assert "it accepts only cancel now" in refused.json()["reason"] and refused.json()["accepts"] == []
    refused = await stack.http.post(f"{actions}/decide", json={"action": "retry"})
    assert refused.status_code == 422 and "'retry' is not possible" in refused.json()["reason"]
    assert refused.json()["accepts"] == [], refused.json()
    invalid = await stack.http.post(f"{actions}/decide", json={"action": "hurry"})
    assert invalid.status_code == 422 and invalid.json()["fields"][0]["field"] == "action"

    # Re-send the OTP now.
    await wait_phase(stack, wid, Phase.OTP_VERIFICATION)
    resent = await stack.http.post(f"{actions}/resend-otp")
    assert resent.status_code == 200, resent.text
    await wait_until(stack, wid, lambda s: s.otp.resends >= 1, what="the OTP re-sent")
    assert len((await stack.control.otp_messages(to=mobile))["messages"]) >= 2
    refused = await stack.http.post(f"{actions}/decide", json={"action": "resend_otp_and_wait"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["accepts"] == ["resend_otp"] and "it accepts resend_otp or cancel" in refused.json()["reason"]

    # The deadline passes: the operator decides to re-send and keep waiting ('retry' does not apply,
    # nor does a correction: the refusals say what does, in words and as data).
    expired = await wait_phase(stack, wid, Phase.OTP_EXPIRED)
    refused = await stack.http.post(f"{actions}/decide", json={"action": "retry"})
    assert refused.status_code == 422
    assert "it accepts resend_otp_and_wait, end or cancel" in refused.json()["reason"], refused.json()
    assert refused.json()["accepts"] == ["resend_otp_and_wait", "end"] == expired.problem.accepts
    refused = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"email": "jane@example.com"})
    assert refused.status_code == 422 and "nothing to correct" in refused.json()["reason"], refused.text
    assert "it accepts resend_otp_and_wait, end or cancel" in refused.json()["reason"], refused.json()
    assert refused.json()["accepts"] == ["resend_otp_and_wait", "end"] and refused.json()["correction_fields"] == []
    decided = await stack.http.post(f"{actions}/decide", json={"action": "resend_otp_and_wait"})
    assert decided.status_code == 200, decided.text
    status = await wait_until(stack, wid, lambda s: s.phase == Phase.OTP_VERIFICATION
                              and s.otp.resends > expired.otp.resends, what="back to waiting for the OTP")
    assert status.problem is None

    # Cancel; once ended, every action is refused.
    cancelled = await stack.http.post(f"{actions}/cancel", json={"reason": "customer left"})
    assert cancelled.status_code == 200, cancelled.text
    final = await registrations.final_status(stack.client, wid)
    assert final.phase == Phase.CANCELLED and "customer left" in final.timeline[-1].note
    for path, body in (("cancel", None), ("resend-otp", None), ("decide", {"action": "end"})):
        refused = await stack.http.post(f"{actions}/{path}", json=body)
        assert refused.status_code == 422, (path, refused.text)
        assert "ended" in refused.json()["reason"] and refused.json()["accepts"] == [], refused.json()
    refused = await stack.http.post(f"/v1/registrations/{wid}/corrections", json={"email": "john@example.com"})
    assert refused.status_code == 422

    # Unknown registrations: 404.
    missing = f"a2p-registration-{uuid.uuid4().hex[:8]}"
    assert (await stack.http.post(f"/v1/registrations/{missing}/actions/cancel")).status_code == 404
