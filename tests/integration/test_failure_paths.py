"""Every Twilio failure has a way forward, walked end to end on the real dev server against the
sandbox: each scenario asserts where its registration ends and which Twilio calls it made (the
sandbox's counts and request log of its customer's subaccount) — no brand update spent in vain,
nothing sent to TCR on data Twilio already rejected, never two live campaigns, and states only a
person can resolve parked once with the action to take (README, "When Twilio says no").

The scenarios run side by side, one customer each in a subaccount of its own, on the session's one
dev server, sandbox and worker: one test that takes about as long as its longest scenario. What a
scenario needs held or refused — a review, a call, campaign updates — is its subaccount's own
sandbox setting (``POST /sandbox/accounts/{AC}/config``, faults with ``account_sid``), so the others
go on as usual. The same paths with the production timings, on the time-skipping server:
tests/workflows/test_failure_paths.py. ``start``, ``Calls`` and ``complete`` serve
test_operator_actions.py too."""

from __future__ import annotations

import asyncio
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial

import pytest
from temporalio.client import Client

from a2p.progress import BundleEvent, OperatorDecision, Phase, RegistrationStatus
from a2p.requests import Correction, RegistrationRequest
from a2p.timings import Timings
from infra.settings import Settings
from sandbox.testing import SandboxControl
from starter import registrations
from tests import factories
from tests.factories import answer_otp, eventually, record_history
from tests.integration.conftest import FAST, Customer, new_customer

pytestmark = pytest.mark.asyncio(loop_scope="session")

FLOW_WITH_OPT_IN = ("Customers opt in by texting JOIN to the number on the bakery's counter sign; "
                    "consent is recorded at sign up.")
FLOW_WITHOUT_OPT_IN = "Customers give their mobile number at the front desk when they book an appointment."
DISPOSABLE_EMAIL, GOOD_EMAIL = "jane@disposable.test", "jane.doe@example.com"
MOBILE_IN_THREE_BRANDS = "+12025550199"  # the sandbox's TCR: FAILED 30712

PROFILE_WRITE, TRUST_BUNDLE_WRITE = "POST /v1/CustomerProfiles/{Sid}", "POST /v1/TrustProducts/{Sid}"
BRAND_CREATE, BRAND_UPDATE = "POST /v1/a2p/BrandRegistrations", "POST /v1/a2p/BrandRegistrations/{Sid}"
BRAND_FETCH, SMS_OTP = "GET /v1/a2p/BrandRegistrations/{Sid}", "POST /v1/a2p/BrandRegistrations/{Sid}/SmsOtp"
CAMPAIGN_CREATE = "POST /v1/Services/{Sid}/Compliance/Usa2p"
CAMPAIGN_UPDATE, CAMPAIGN_DELETE = f"{CAMPAIGN_CREATE}/{{Sid}}", "DELETE /v1/Services/{Sid}/Compliance/Usa2p/{Sid}"


# Fifteen customers side by side, beside the rest of the suite on two cores: each wait has room for
# a machine that is busy (the scenarios' timings are compressed, not their load).
SIDE_BY_SIDE_TIMEOUT = 180


async def wait_phase(client, wid, phase, timeout: float = SIDE_BY_SIDE_TIMEOUT) -> RegistrationStatus:
    return await factories.wait_phase(client, wid, phase, timeout)


async def wait_until(client, wid, predicate, timeout: float = SIDE_BY_SIDE_TIMEOUT, what: str = "condition"):
    return await factories.wait_until(client, wid, predicate, timeout, what)


async def start(client, settings, task_queue, request) -> str:
    started = await registrations.start_registration(client, settings, request, task_queue=task_queue)
    assert started.created
    return started.workflow_id


class Calls:
    """Twilio requests one customer's subaccount made since it was taken (sandbox stats), by endpoint."""

    def __init__(self, before: dict, account_sid: str) -> None:
        self.before, self.account_sid = before, account_sid

    @classmethod
    async def now(cls, control, account_sid: str) -> "Calls":
        return cls((await control.stats(account_sid))["requests"], account_sid)

    async def since(self, control) -> dict[str, int]:
        after = (await control.stats(self.account_sid))["requests"]
        return {k: sum(v.values()) - sum(self.before.get(k, {}).values()) for k, v in after.items()
                if sum(v.values()) - sum(self.before.get(k, {}).values())}


async def complete(client, control, wid, mobile_number):
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, mobile_number)
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.COMPLETED, final.model_dump_json(indent=1)
    return final


@dataclass
class Walk:
    """One scenario's customer, in a subaccount of its own, on the session's stack."""

    client: Client
    settings: Settings
    task_queue: str
    control: SandboxControl
    customer: Customer

    @property
    def account(self) -> str:
        return self.customer.subaccount_sid

    async def start(self, *, timings: Timings = FAST, **changes) -> tuple[str, RegistrationRequest, Calls]:
        """Start the customer's registration: (workflow id, request, its Twilio calls from now on)."""
        request = self.customer.request(timings=timings, **changes)
        calls = await Calls.now(self.control, self.account)
        return await start(self.client, self.settings, self.task_queue, request), request, calls

    async def complete(self, wid: str) -> RegistrationStatus:
        return await complete(self.client, self.control, wid, self.customer.mobile_number)

    async def requests(self) -> list[dict]:
        """The subaccount's requests so far, in the order the sandbox answered them."""
        return (await self.control.requests(self.account))["requests"]

    async def decide(self, wid: str, action: str) -> RegistrationStatus:
        return await registrations.decide(self.client, wid, OperatorDecision(action=action))


# ---- the customer profile: fixed where Twilio checks it, before anything goes to TCR -------------


async def email_rejected_is_fixed_on_the_bundle(w: Walk) -> None:
    # The profile's review ends within the settle wait (as the seed's 30 s intend): seen before the brand.
    await w.control.set_account_config(w.account, profile_review_seconds=0)
    wid, _, calls = await w.start(customer__email=DISPOSABLE_EMAIL)
    problem = (await wait_phase(w.client, wid, Phase.NEEDS_ATTENTION)).problem
    assert problem.source == "customer_profile" and "disposable" in problem.summary, problem
    assert "email" in problem.correction_fields and "correction" in problem.accepts, problem

    await registrations.correct(w.client, wid, Correction(email=GOOD_EMAIL))
    final = await w.complete(wid)
    assert final.brand_updates_used == 0
    [profile] = await w.customer.resources("customer_profiles")
    assert profile["email"] == GOOD_EMAIL, profile  # the bundle's own Email: where Twilio's check runs
    made = await calls.since(w.control)
    assert made.get(BRAND_CREATE) == 1 and BRAND_UPDATE not in made, made
    assert made.get(PROFILE_WRITE) == 3, made  # submitted, its Email updated, submitted again


# Where the trust bundle phase is held (its request answers 500) while the profile's rejection arrives.
TRUST_BUNDLE_STEPS = {
    "created": ("POST", r"^/v1/TrustProducts$", "POST /v1/TrustProducts"),
    "evaluated": ("POST", r"^/v1/TrustProducts/BU[0-9a-f]{32}/Evaluations$", "POST /v1/TrustProducts/{Sid}/Evaluations"),
    "submitted": ("POST", r"^/v1/TrustProducts/BU[0-9a-f]{32}$", TRUST_BUNDLE_WRITE),
    "checked after its settle wait": ("GET", r"^/v1/TrustProducts/BU[0-9a-f]{32}$", "GET /v1/TrustProducts/{Sid}"),
}


async def profile_rejection_webhook(w: Walk, wid: str, profile: dict) -> None:
    """Twilio's status callback of the rejected profile, as the registration service signals it."""
    await w.client.get_workflow_handle(wid).signal("bundle_event", BundleEvent(
        bundle_sid=profile["sid"], status="twilio-rejected", failure_reason=profile["errors"][0]["message"],
        event_id=f"WH{uuid.uuid4().hex}"))


async def profile_rejected_while_the_trust_bundle_is(w: Walk, step: str) -> None:
    method, path_regex, endpoint = TRUST_BUNDLE_STEPS[step]
    # The profile's review waits for the test; the trust bundle's step answers 500 meanwhile (retried).
    await w.control.set_account_config(w.account, profile_review_seconds=3600)
    await w.control.set_faults(account_sid=w.account, rate_500=1.0, path_regex=path_regex, methods=[method])
    try:
        wid, _, calls = await w.start(customer__email=DISPOSABLE_EMAIL)

        async def held() -> int:
            return (await w.control.stats(w.account))["requests"].get(endpoint, {}).get("500", 0)
        await eventually(held, 90, f"the trust bundle {step}, held")  # 15 customers on a shared machine
        status = await registrations.get_status(w.client, wid)
        assert status.phase == Phase.TRUST_BUNDLE, status.model_dump_json(indent=1)
        profile = await w.control.review_bundle(status.sids.customer_profile)
        assert profile["status"] == "twilio-rejected", profile
        reason = profile["errors"][0]["message"]
        await profile_rejection_webhook(w, wid, profile)
    finally:
        await w.control.clear_faults(account_sid=w.account)

    status = await wait_phase(w.client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "customer_profile" and reason in status.problem.summary, status.problem
    assert status.sids.trust_bundle is not None and status.sids.brand is None, status.sids
    made = await calls.since(w.control)
    assert BRAND_CREATE not in made and BRAND_UPDATE not in made, made  # nothing sent to TCR

    await registrations.correct(w.client, wid, Correction(email=GOOD_EMAIL))
    final = await w.complete(wid)
    made = await calls.since(w.control)
    assert final.brand_updates_used == 0 and made.get(BRAND_CREATE) == 1 and BRAND_UPDATE not in made, made
    if step == "created":
        await record_history(w.client, wid, "new_registration_profile_rejected_stops_before_tcr")


async def starter_profile_corrected_after_the_brand_failed(w: Walk) -> None:
    # The profile's review outlasts the settle wait: the brand's review runs it (a brand review never
    # overtakes its bundles'), rejects it, and fails the brand (30701).
    await w.control.set_account_config(w.account, profile_review_seconds=3600)
    wid, _, _ = await w.start(customer__email=DISPOSABLE_EMAIL)
    status = await wait_phase(w.client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand" and status.statuses.brand == "FAILED", status.problem
    assert any(e.code == 30701 for e in status.problem.errors), status.problem
    # The profile's rejection reaches the registration by webhook; 'retry' (update the brand
    # unchanged) then updates no brand while the rejection is known: a correction comes first.
    [profile] = await w.customer.resources("customer_profiles")
    await profile_rejection_webhook(w, wid, profile)
    before = len(await w.requests())
    await w.decide(wid, "retry")
    status = await wait_until(w.client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION
                              and s.problem.source == "customer_profile", what="parked for the profile's correction")
    assert "disposable" in status.problem.summary and "correction" in status.problem.accepts, status.problem
    assert BRAND_UPDATE not in [r["endpoint"] for r in (await w.requests())[before:]]

    await registrations.correct(w.client, wid, Correction(email=GOOD_EMAIL))
    final = await w.complete(wid)
    assert final.brand_updates_used == 1
    # Twilio's order: the profile (its Email, then resubmitted), then the trust bundle, then the brand
    # update — each answered (in-review, brand PENDING) before the next was sent.
    writes = [(r["endpoint"], r["status"]) for r in (await w.requests())[before:]
              if r["endpoint"] in (PROFILE_WRITE, TRUST_BUNDLE_WRITE, BRAND_UPDATE)]
    assert writes == [(PROFILE_WRITE, 200), (PROFILE_WRITE, 200), (TRUST_BUNDLE_WRITE, 200), (BRAND_UPDATE, 202)], writes
    [profile], [bundle] = await w.customer.resources("customer_profiles"), await w.customer.resources("trust_products")
    assert profile["email"] == GOOD_EMAIL
    assert profile["sandbox"]["submissions"] == 2 and bundle["sandbox"]["submissions"] == 2


# ---- the campaign: corrected, never two live ones -------------------------------------------------


async def campaign_failed(w: Walk) -> tuple[str, Calls, RegistrationStatus]:
    """A registration whose campaign Twilio FAILED (no opt-in in its message flow), parked:
    (workflow id, its Twilio calls since before it started, its status)."""
    wid, request, calls = await w.start(campaign__message_flow=FLOW_WITHOUT_OPT_IN)
    await wait_phase(w.client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(w.control, request.customer.mobile_number)
    status = await wait_phase(w.client, wid, Phase.NEEDS_ATTENTION)
    problem = status.problem
    assert problem.source == "campaign" and problem.correction_fields == ["campaign"], problem
    assert any(e.code == 30896 for e in problem.errors) and "30896" in problem.summary, problem
    assert any(x.startswith("30896") for x in problem.explanations), problem
    return wid, calls, status


async def campaign_corrected_by_an_edit(w: Walk) -> None:
    wid, calls, _ = await campaign_failed(w)
    # Checked against the whole campaign once merged: answering STOP/HELP yourself needs the
    # opt-out and help texts, which this campaign lacks — refused, nothing sent.
    with pytest.raises(registrations.UpdateRefused, match="opt_out_message"):
        await registrations.correct(w.client, wid, Correction(campaign={"use_twilio_default_opt_out": False}))

    await registrations.correct(w.client, wid, Correction(campaign={"message_flow": FLOW_WITH_OPT_IN}))
    final = await registrations.final_status(w.client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED", final.model_dump_json(indent=1)
    [campaign] = await w.customer.resources("campaigns")
    assert campaign["sid"] == final.sids.campaign and campaign["message_flow"] == FLOW_WITH_OPT_IN
    made = await calls.since(w.control)
    assert made.get(CAMPAIGN_CREATE) == 1 and made.get(CAMPAIGN_UPDATE) == 1 and CAMPAIGN_DELETE not in made, made
    await record_history(w.client, wid, "new_registration_campaign_correction")


async def campaign_twilio_will_not_edit_is_deleted_and_created_again(w: Walk) -> None:
    await w.control.set_account_config(w.account, campaign_updates_supported=False)  # 405 / 20004
    wid, _, status = await campaign_failed(w)
    before, first = len(await w.requests()), status.sids.campaign

    await registrations.correct(w.client, wid, Correction(campaign={"message_flow": FLOW_WITH_OPT_IN}))
    final = await registrations.final_status(w.client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED", final.model_dump_json(indent=1)
    assert final.sids.campaign != first
    assert [c["sid"] for c in await w.customer.resources("campaigns")] == [final.sids.campaign]
    writes = [(r["endpoint"], r["status"]) for r in (await w.requests())[before:]
              if r["endpoint"] in (CAMPAIGN_CREATE, CAMPAIGN_UPDATE, CAMPAIGN_DELETE)]
    assert writes == [(CAMPAIGN_UPDATE, 405), (CAMPAIGN_DELETE, 204), (CAMPAIGN_CREATE, 201)], writes
    await record_history(w.client, wid, "new_registration_campaign_deleted_and_created")


async def campaign_suspended_waits_for_a_person(w: Walk) -> None:
    await w.control.set_account_config(w.account, campaign_review_seconds=3600)  # in review until suspended
    wid, request, calls = await w.start()
    await wait_phase(w.client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(w.control, request.customer.mobile_number)
    status = await wait_until(w.client, wid, lambda s: s.sids.campaign is not None, what="campaign created")
    await w.control.set_campaign_status(status.sids.campaign, "SUSPENDED")
    problem = (await wait_phase(w.client, wid, Phase.NEEDS_ATTENTION)).problem
    assert problem.source == "campaign" and problem.accepts == ["retry", "end"], problem
    assert "Support" in problem.remedy, problem
    await w.decide(wid, "end")
    final = await registrations.final_status(w.client, wid)
    assert final.phase == Phase.FAILED and final.statuses.campaign == "SUSPENDED", final.model_dump_json(indent=1)
    made = await calls.since(w.control)
    assert made.get(CAMPAIGN_CREATE) == 1 and CAMPAIGN_UPDATE not in made and CAMPAIGN_DELETE not in made, made


# ---- the brand: states only a person can resolve, a review that goes on, the update limit ----------

# The remedy names the action to take, in Twilio's Console or with Support (workflows/remedies.py).
BRAND_STATE_REMEDY = {"SUSPENDED": "Twilio Support", "EXPIRED": "deleted", "DELETION_PENDING": "being deleted",
                      "DELETION_FAILED": "Twilio Support"}
# The brand's status is set (and seen by a poll) long before the first OTP re-send falls due.
UNHURRIED_OTP = FAST.model_copy(update={"otp_resend_interval": timedelta(seconds=8)})


async def brand_state_only_a_person_can_resolve_is_parked_once(w: Walk, brand_status: str) -> None:
    wid, _, _ = await w.start(timings=UNHURRIED_OTP)
    status = await wait_phase(w.client, wid, Phase.OTP_VERIFICATION)
    calls = await Calls.now(w.control, w.account)
    await w.control.set_brand_status(status.sids.brand, brand_status)

    status = await wait_phase(w.client, wid, Phase.NEEDS_ATTENTION)
    problem = status.problem
    assert problem.source == "brand" and problem.accepts == ["retry", "end"], problem
    assert BRAND_STATE_REMEDY[brand_status] in problem.remedy and brand_status in problem.summary, problem
    parked = await Calls.now(w.control, w.account)
    due = status.otp.next_resend_at
    assert due is not None, status.otp
    await eventually(lambda: datetime.now(timezone.utc) > due, 30, "the parked registration's OTP re-send to fall due")
    # Parked past it, nothing was sent; 'retry' re-reads the brand once and, still in that state,
    # parks again — no loop.
    await w.decide(wid, "retry")
    await wait_until(w.client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION and s.problem.at > problem.at,
                     what="parked again after the retry")
    assert await parked.since(w.control) == {BRAND_FETCH: 1}
    await w.decide(wid, "end")
    final = await registrations.final_status(w.client, wid)
    assert final.phase == Phase.FAILED and final.statuses.brand == brand_status, final.model_dump_json(indent=1)
    assert SMS_OTP not in await calls.since(w.control)
    if brand_status == "EXPIRED":
        await record_history(w.client, wid, "new_registration_brand_expired_parked")


async def brand_in_review_is_still_a_review(w: Walk) -> None:
    await w.control.set_account_config(w.account, brand_review_seconds=3600)  # PENDING until the test moves it
    wid, _, calls = await w.start()
    status = await wait_until(w.client, wid, lambda s: s.statuses.brand == "PENDING", what="brand registered")
    await w.control.set_brand_status(status.sids.brand, "IN_REVIEW")
    await wait_until(w.client, wid, lambda s: s.statuses.brand == "IN_REVIEW" and s.phase == Phase.BRAND_REVIEW,
                     what="brand IN_REVIEW, still in review")
    await w.control.set_brand_status(status.sids.brand, "APPROVED", identity_status="UNVERIFIED")
    final = await w.complete(wid)  # the OTP the workflow re-sends (a forced approval sends none)
    assert final.brand_updates_used == 0 and not any(e.phase == Phase.NEEDS_ATTENTION for e in final.timeline)
    made = await calls.since(w.control)
    assert made.get(BRAND_CREATE) == 1 and BRAND_UPDATE not in made, made


async def update_limit_reached_at_twilio_is_parked_for_support(w: Walk) -> None:
    wid, _, _ = await w.start(customer__mobile_number=MOBILE_IN_THREE_BRANDS)
    status = await wait_phase(w.client, wid, Phase.NEEDS_ATTENTION)
    assert status.statuses.brand == "FAILED" and any(e.code == 30712 for e in status.problem.errors), status.problem
    # Updates made outside this registration (the Console) used up the brand's three.
    await w.control.set_brand_status(status.sids.brand, "FAILED", update_count=3)
    calls = await Calls.now(w.control, w.account)

    await registrations.correct(w.client, wid, Correction(mobile_number=w.customer.mobile_number))
    status = await wait_until(w.client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION and s.problem is not None
                              and any(e.code == 21724 for e in s.problem.errors), what="21724 parked")
    problem = status.problem
    assert problem.accepts == ["retry", "end"] and "Twilio Support" in problem.remedy, problem
    assert any(x.startswith("21724") for x in problem.explanations), problem
    made = await calls.since(w.control)
    assert made.get(BRAND_UPDATE) == 1 and made.get(TRUST_BUNDLE_WRITE) == 1, made  # resubmitted, then refused
    await w.decide(wid, "end")
    assert (await registrations.final_status(w.client, wid)).phase == Phase.FAILED


# ---- all of them, side by side -------------------------------------------------------------------

SCENARIOS: dict[str, Callable[[Walk], Awaitable[None]]] = {
    "email rejected, fixed on the bundle": email_rejected_is_fixed_on_the_bundle,
    **{f"profile rejected while the trust bundle is {step}": partial(profile_rejected_while_the_trust_bundle_is,
                                                                    step=step)
       for step in TRUST_BUNDLE_STEPS},
    "starter profile corrected after the brand failed": starter_profile_corrected_after_the_brand_failed,
    "campaign corrected by an edit": campaign_corrected_by_an_edit,
    "campaign Twilio will not edit, deleted and created again": campaign_twilio_will_not_edit_is_deleted_and_created_again,
    "campaign SUSPENDED": campaign_suspended_waits_for_a_person,
    **{f"brand {s}": partial(brand_state_only_a_person_can_resolve_is_parked_once, brand_status=s)
       for s in BRAND_STATE_REMEDY},
    "brand IN_REVIEW": brand_in_review_is_still_a_review,
    "brand update limit (21724)": update_limit_reached_at_twilio_is_parked_for_support,
}


async def test_every_failure_has_its_way_forward(client, settings, task_queue, control):
    first = uuid.uuid4().int % (10000 - len(SCENARIOS))  # a mobile of its own each: the OTPs go to it
    walks = {name: Walk(client, settings, task_queue, control,
                        await new_customer(control, mobile_number=f"+1415555{first + i:04d}"))
             for i, name in enumerate(SCENARIOS)}

    async def walk(name: str) -> str | None:
        began = time.monotonic()
        try:
            await SCENARIOS[name](walks[name])
        except Exception:  # noqa: BLE001 - every scenario reports, each under its own name
            return f"--- {name} (failed after {time.monotonic() - began:.1f} s):\n{traceback.format_exc()}"
        return None

    failed = [f for f in await asyncio.gather(*(walk(name) for name in SCENARIOS)) if f]
    assert not failed, f"{len(failed)} of {len(SCENARIOS)} failure paths went wrong:\n" + "\n".join(failed)
