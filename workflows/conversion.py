"""Converting a customer's LEGACY Starter Brand (registered before October 2022) into a Sole
Proprietor brand (seed 001): complete the twilio-rejected trust bundle with the sole proprietor's
information, resubmit it, update the brand with TCR, get the OTP answered, optionally a campaign.

Before any write, both preconditions are checked read-only: the trust bundle must be
``twilio-rejected`` (anything else ends the conversion, saying what the ISV must do) and the brand
must be ``FAILED`` — the only state in which Twilio accepts a brand update (error 21725). A brand in
another state is reported and waits for an operator's decision; the workflow never calls the
update blindly.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict

    from a2p.calls import (
        AssignedEndUser, AssignEntity, BrandRef, BrandState, BundleRef, BundleState, Call, Created,
        CreateEndUser, EvaluateBundle, Evaluation, FindCampaign, CampaignState, RequirementFailure,
        UpdateEndUser, friendly_name,
    )
    from a2p.constants import SOLE_PROPRIETOR_END_USER_TYPE, SOLE_PROPRIETOR_TRUST_POLICY_SID, explain
    from a2p.progress import Phase, Problem, RegistrationStatus
    from a2p.requests import Correction, LegacyConversionRequest

from workflows.base import Ended, RegistrationBase, _explanations
from workflows.registration import sole_proprietor_attributes

# A trust bundle that is not twilio-rejected: what the ISV must do (seed 001: "reach out to Support
# about how to reject the Bundle. This is required for starting this process").
WHAT_TO_DO = {
    "twilio-approved": "nothing to convert: the trust bundle is already twilio-approved (its brand was converted "
                       "and OTP-verified); check the brand, and create a campaign if the customer has none",
    "draft": "the trust bundle is a draft, not a converted legacy bundle: register the customer as a new sole "
             "proprietor instead",
    "pending-review": "the trust bundle is under review: ask Twilio Support to reject it (twilio-rejected is "
                      "required to convert a legacy Starter brand), then start the conversion again",
    "in-review": "the trust bundle is under review: ask Twilio Support to reject it (twilio-rejected is "
                 "required to convert a legacy Starter brand), then start the conversion again",
}

# A brand that is not FAILED cannot be updated (21725): what an operator can do.
BRAND_NOT_UPDATABLE = {
    "PENDING": "a review is in progress: retry once it has ended (FAILED: the brand is then updated), or end",
    "IN_REVIEW": "a review is in progress: retry once it has ended (FAILED: the brand is then updated), or end",
    "APPROVED": "ask Twilio Support to set the legacy brand to FAILED so that it can be updated with the sole "
                "proprietor's information, then retry; or end",
}
BRAND_NOT_UPDATABLE_DEFAULT = "ask Twilio Support about the brand, then retry (re-checks it) or end"

# Evaluation failures no correction of the sole proprietor's details can fix: what the ISV must do.
REQUIREMENT_FIX = {
    "customer_profile": "assign the customer's twilio-approved Starter customer profile to the trust bundle "
                        "(Twilio Console or the EntityAssignments API)",
}


class ConversionInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request: LegacyConversionRequest
    status_callback_url: str | None = None


@workflow.defn(name="LegacyConversion")
class LegacyConversion(RegistrationBase):
    @workflow.init
    def __init__(self, inp: ConversionInput) -> None:
        req = inp.request
        self._init_state(workflow_id=workflow.info().workflow_id, isv_customer_id=req.isv_customer_id,
                         flow="legacy", timings=req.timings, subaccount_sid=req.subaccount_sid)
        self.input = inp
        self.brand_name, self.mobile_number, self.vertical = req.brand_name, req.mobile_number, req.vertical
        self.status.sids.trust_bundle = req.trust_bundle_sid
        self.status.sids.brand = req.brand_sid
        self._campaign_done = False

    @workflow.run
    async def run(self, inp: ConversionInput) -> RegistrationStatus:
        return await self._run_to_end(self._convert)

    async def _convert(self) -> None:
        req = self.input.request
        await self._check_preconditions()
        await self._complete_trust_bundle()
        registered_at = await self._update_brand()
        await self._brand_approved(self._remediate)
        await self._otp_verified(registered_at)
        if req.campaign is None or req.messaging_service is None:
            self._note("no campaign requested")
            return
        if await self._brand_has_campaign():
            self._note("the brand already has a campaign: kept as it is")
            return
        await self._campaign(req.campaign, req.messaging_service)
        self._campaign_done = True

    def _finish(self, phase: Phase, note: str) -> None:
        if phase == Phase.COMPLETED:
            note = "conversion complete: brand verified" + (", campaign verified" if self._campaign_done else "")
        super()._finish(phase, note)

    def _ref(self) -> BundleRef:
        return BundleRef(subaccount_sid=self.subaccount_sid, kind="trust_bundle", bundle_sid=self.status.sids.trust_bundle)

    def _brand_ref(self) -> BrandRef:
        return BrandRef(subaccount_sid=self.subaccount_sid, brand_sid=self.status.sids.brand)

    # ---- preconditions (read-only) ----------------------------------------------------------------

    async def _check_preconditions(self) -> None:
        """Seed 001, 1.1 and 2.1: the bundle must be twilio-rejected, the brand FAILED. Nothing is
        written to Twilio before both hold."""
        self._enter(Phase.TRUST_BUNDLE, "checking the legacy trust bundle and brand")
        bundle = await self._fetch_bundle("fetch the legacy trust bundle")
        if bundle.status != "twilio-rejected":
            self.status.problem = Problem(
                source="trust_bundle", at=workflow.now(),
                summary=f"trust bundle {bundle.sid} is {bundle.status}, not twilio-rejected: it cannot be converted; "
                        "nothing was changed",
                remedy=WHAT_TO_DO.get(bundle.status, "ask Twilio Support about this trust bundle"),
            )
            raise Ended(self.status.problem.summary)
        await self._until_brand_updatable("fetch the legacy brand")

    async def _until_brand_updatable(self, summary: str) -> BrandState:
        """Fetch the brand until it is FAILED (or already verified): any other state is reported
        and waits for an operator ('retry' fetches it again, 'end' ends the conversion)."""
        while True:
            brand = await self._call(Call.FETCH_BRAND, self._brand_ref(), BrandState, summary)
            self._apply_brand(brand)
            if brand.status == "FAILED" or self._verified(brand):
                return brand
            identity = f"/{brand.identity_status}" if brand.identity_status else ""
            await self._attention(Problem(
                source="brand",
                summary=f"the legacy brand is {brand.status}{identity}: Twilio allows a brand update only while it "
                        "is FAILED (error 21725), so it was not updated",
                errors=list(brand.errors), explanations=[f"21725: {explain(21725)}"],
                remedy="operator decision: " + BRAND_NOT_UPDATABLE.get(brand.status, BRAND_NOT_UPDATABLE_DEFAULT),
            ))
            summary = "fetch the legacy brand again"

    @staticmethod
    def _verified(brand: BrandState) -> bool:
        return brand.status == "APPROVED" and brand.identity_status in ("VERIFIED", "VETTED_VERIFIED")

    # ---- seed 001 section 1: complete the trust bundle -------------------------------------------

    async def _fetch_bundle(self, summary: str = "fetch trust bundle status") -> BundleState:
        state = await self._call(Call.FETCH_BUNDLE, self._ref(), BundleState, summary)
        self.status.statuses.trust_bundle = state.status
        if state.status == "twilio-rejected" and state.errors:
            self._bundle_failure["trust_bundle"] = "; ".join(e.message for e in state.errors)
        self._publish()
        return state

    async def _complete_trust_bundle(self) -> None:
        self._enter(Phase.TRUST_BUNDLE, "completing the legacy trust bundle with the sole proprietor's information")
        assigned = await self._call(Call.LIST_ASSIGNED_END_USERS, self._ref(), list[AssignedEndUser],
                                    "list the trust bundle's end users")
        existing = [e for e in assigned if e.type == SOLE_PROPRIETOR_END_USER_TYPE]
        attributes = sole_proprietor_attributes(self.brand_name, self.mobile_number, self.vertical)
        sids = self.status.sids
        if existing:
            # Seed 001, 1.3: never a second sole_proprietor_information end user on the bundle.
            sids.sole_proprietor_end_user = existing[0].sid
            await self._call(Call.UPDATE_END_USER, UpdateEndUser(
                subaccount_sid=self.subaccount_sid, end_user_sid=existing[0].sid, attributes=attributes,
            ), Created, "update the sole proprietor end user already assigned")
            self._note("the trust bundle already had a sole proprietor end user: updated it, none added")
        else:
            sids.sole_proprietor_end_user = (await self._call(Call.CREATE_END_USER, CreateEndUser(
                subaccount_sid=self.subaccount_sid,
                friendly_name=friendly_name(self.status.isv_customer_id, "sole proprietor end user"),
                type=SOLE_PROPRIETOR_END_USER_TYPE, attributes=attributes,
            ), Created, "create sole proprietor end user")).sid
            await self._call(Call.ASSIGN_ENTITY, AssignEntity(
                **self._ref().model_dump(), object_sid=sids.sole_proprietor_end_user,
            ), Created, "assign sole proprietor end user to trust bundle")
        await self._submit()
        await self._settle("trust bundle")
        await self._check_bundle()

    async def _submit(self) -> None:
        """Evaluate against the sole proprietor policy; submit only when compliant. Noncompliant:
        report every failed requirement and wait for a correction or an operator's decision."""
        while True:
            evaluation = await self._call(Call.EVALUATE_BUNDLE, EvaluateBundle(
                **self._ref().model_dump(), policy_sid=SOLE_PROPRIETOR_TRUST_POLICY_SID,
            ), Evaluation, "evaluate trust bundle")
            if evaluation.compliant:
                break
            correction = await self._attention(self._noncompliant(evaluation.failures))
            await self._remediate(correction, resubmit=False)
            self._correction_applied()
        state = await self._call(Call.SUBMIT_BUNDLE, self._ref(), BundleState, "submit trust bundle")
        self.status.statuses.trust_bundle = state.status
        self._bundle_failure.pop("trust_bundle", None)
        self._note(f"trust bundle submitted, {state.status}")

    def _noncompliant(self, failures: list[RequirementFailure]) -> Problem:
        failed = ", ".join(f.requirement for f in failures) or "no requirement named"
        outside = [REQUIREMENT_FIX.get(f.requirement, f"fix the trust bundle's {f.requirement}")
                   for f in failures if f.requirement != SOLE_PROPRIETOR_END_USER_TYPE]
        if outside:
            # No correction of the customer's details can fix these: the ISV acts, then retries.
            remedy = (f"operator decision: retry after you {'; and '.join(outside)} "
                      f"(trust bundle {self.status.sids.trust_bundle}), or end")
        else:
            remedy = ("correction of the sole proprietor's details (brand_name, mobile_number, vertical), "
                      "or operator decision: retry or end")
        return Problem(
            source="trust_bundle", summary=f"trust bundle is noncompliant: {failed}; nothing was submitted",
            failed_requirements=failures, remedy=remedy,
        )

    async def _check_bundle(self) -> None:
        """After the settle wait: a rejection found now is corrected before the brand is updated."""
        state = await self._fetch_bundle()
        while state.status == "twilio-rejected":
            reason = self._bundle_failure.get("trust_bundle", "no reason given")
            correction = await self._attention(Problem(
                source="trust_bundle", summary=f"trust bundle rejected by Twilio: {reason}",
                errors=list(state.errors), explanations=_explanations(list(state.errors)),
                remedy="correction of the sole proprietor's details (then the trust bundle is resubmitted)",
            ))
            await self._remediate(correction)
            self._correction_applied()
            state = await self._fetch_bundle()

    async def _remediate(self, correction: Correction | None, resubmit: bool = True) -> None:
        """Apply a correction: update the sole proprietor end user (all its attributes), then
        resubmit the trust bundle (FACTS.md: fix, resubmit, then update the brand — Twilio refuses
        the update otherwise, 60723) and wait for the settle time."""
        if correction is None:
            return
        self.brand_name = correction.brand_name or self.brand_name
        self.mobile_number = correction.mobile_number or self.mobile_number
        self.vertical = correction.vertical or self.vertical
        await self._call(Call.UPDATE_END_USER, UpdateEndUser(
            subaccount_sid=self.subaccount_sid, end_user_sid=self.status.sids.sole_proprietor_end_user,
            attributes=sole_proprietor_attributes(self.brand_name, self.mobile_number, self.vertical),
        ), Created, "update sole proprietor end user")
        self._note("correction applied")
        if resubmit:
            state = await self._fetch_bundle()
            if state.status != "twilio-approved":
                await self._submit()
                await self._settle("resubmitted trust bundle")

    def _check_correction(self, correction: Correction) -> None:
        if correction.touches_starter_profile() or correction.touches_address():
            raise ApplicationError(
                "a legacy conversion changes only the sole proprietor's details "
                "(brand_name, mobile_number, vertical); the starter profile stays as approved",
                non_retryable=True,
            )

    # ---- seed 001 section 2: update the brand ----------------------------------------------------

    async def _update_brand(self) -> datetime:
        """Seed 001, 2.1-2.2: fetch the brand again (it may have changed while the bundle was being
        completed) and update it — only while FAILED."""
        self._enter(Phase.BRAND_REVIEW, "updating the legacy brand with TCR")
        brand = await self._until_brand_updatable("fetch the legacy brand before updating it")
        if self._verified(brand):
            self._note("the brand is already approved and verified: no update needed")
            return workflow.now()
        updated = await self._call(Call.UPDATE_BRAND, self._brand_ref(), BrandState,
                                   f"update brand ({self.status.brand_updates_used + 1} of 3)")
        self.status.brand_updates_used += 1
        self._brand_errors = []
        self._bundle_failure.clear()
        self._apply_brand(updated)
        self._note(f"brand update submitted, {updated.status}")
        registered_at = workflow.now()
        await self._settle("brand update")
        return registered_at

    async def _brand_has_campaign(self) -> bool:
        service = self.input.request.messaging_service
        if service is None or not service.existing_sid:
            return False
        found = await self._call(Call.FIND_CAMPAIGN, FindCampaign(
            subaccount_sid=self.subaccount_sid, messaging_service_sid=service.existing_sid,
            brand_sid=self.status.sids.brand,
        ), CampaignState | None, "look for the brand's campaign")
        if found is not None:
            self.status.sids.messaging_service = service.existing_sid
            self.status.sids.campaign = found.sid
            self.status.statuses.campaign = found.status
            self._publish()
        return found is not None
