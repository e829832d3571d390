"""Converting a customer's LEGACY Starter Brand (registered before October 2022) into a Sole
Proprietor brand (seed 001): complete the twilio-rejected trust bundle with the sole proprietor's
information, resubmit it, update the brand with TCR, get the OTP answered, optionally a campaign.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict

    from a2p.calls import (
        AssignedEndUser, AssignEntity, BrandRef, BrandState, BundleRef, BundleState, Call, Created,
        CreateEndUser, EvaluateBundle, Evaluation, FindCampaign, CampaignState, UpdateEndUser,
        friendly_name,
    )
    from a2p.constants import SOLE_PROPRIETOR_END_USER_TYPE, SOLE_PROPRIETOR_TRUST_POLICY_SID
    from a2p.progress import Phase, Problem, RegistrationStatus
    from a2p.requests import Correction, LegacyConversionRequest
    from workflows.base import Ended, RegistrationBase
    from workflows.registration import sole_proprietor_attributes

WHAT_TO_DO = {
    "twilio-approved": "nothing to convert: the trust bundle is already approved",
    "draft": "the trust bundle is a draft, not a converted legacy bundle: register the customer as new",
    "pending-review": "the trust bundle is under review: wait for Twilio's decision, or ask Twilio Support to reject it",
    "in-review": "the trust bundle is under review: wait for Twilio's decision, or ask Twilio Support to reject it",
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

    @workflow.run
    async def run(self, inp: ConversionInput) -> RegistrationStatus:
        return await self._run_to_end(self._convert)

    async def _convert(self) -> None:
        req = self.input.request
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

    def _ref(self) -> BundleRef:
        return BundleRef(subaccount_sid=self.subaccount_sid, kind="trust_bundle", bundle_sid=self.status.sids.trust_bundle)

    # ---- seed 001 section 1: complete the trust bundle -------------------------------------------

    async def _complete_trust_bundle(self) -> None:
        self._enter(Phase.TRUST_BUNDLE, "checking the legacy trust bundle")
        bundle = await self._call(Call.FETCH_BUNDLE, self._ref(), BundleState, "fetch the legacy trust bundle")
        self.status.statuses.trust_bundle = bundle.status
        if bundle.status != "twilio-rejected":
            self.status.problem = Problem(
                source="trust_bundle", summary=f"trust bundle is {bundle.status}, not twilio-rejected",
                remedy=WHAT_TO_DO.get(bundle.status, "ask Twilio Support about this bundle"),
            )
            raise Ended(self.status.problem.summary)
        assigned = await self._call(Call.LIST_ASSIGNED_END_USERS, self._ref(), list[AssignedEndUser],
                                    "list the trust bundle's end users")
        existing = next((e for e in assigned if e.type == SOLE_PROPRIETOR_END_USER_TYPE), None)
        attributes = sole_proprietor_attributes(self.brand_name, self.mobile_number, self.vertical)
        sids = self.status.sids
        if existing is not None:
            sids.sole_proprietor_end_user = existing.sid
            await self._call(Call.UPDATE_END_USER, UpdateEndUser(
                subaccount_sid=self.subaccount_sid, end_user_sid=existing.sid, attributes=attributes,
            ), Created, "update the assigned sole proprietor end user")
            self._note("reused the sole proprietor end user already assigned")
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
        state = await self._call(Call.FETCH_BUNDLE, self._ref(), BundleState, "fetch trust bundle status")
        self.status.statuses.trust_bundle = state.status
        self._publish()

    async def _submit(self) -> None:
        while True:
            evaluation = await self._call(Call.EVALUATE_BUNDLE, EvaluateBundle(
                **self._ref().model_dump(), policy_sid=SOLE_PROPRIETOR_TRUST_POLICY_SID,
            ), Evaluation, "evaluate trust bundle")
            if evaluation.compliant:
                break
            failed = ", ".join(f.requirement for f in evaluation.failures)
            correction = await self._attention(Problem(
                source="trust_bundle", summary=f"trust bundle is noncompliant: {failed}; nothing was submitted",
                failed_requirements=evaluation.failures,
                remedy="correction of the sole proprietor's details (brand_name, mobile_number, vertical), "
                       "or operator decision: retry or end",
            ))
            await self._remediate(correction, resubmit=False)
            self._correction_applied()
        state = await self._call(Call.SUBMIT_BUNDLE, self._ref(), BundleState, "submit trust bundle")
        self.status.statuses.trust_bundle = state.status
        self._bundle_failure.pop("trust_bundle", None)
        self._note(f"trust bundle submitted, {state.status}")

    async def _remediate(self, correction: Correction | None, resubmit: bool = True) -> None:
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
            state = await self._call(Call.FETCH_BUNDLE, self._ref(), BundleState, "fetch trust bundle status")
            if state.status in ("twilio-rejected", "draft"):
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
        self._enter(Phase.BRAND_REVIEW, "updating the legacy brand with TCR")
        brand_ref = BrandRef(subaccount_sid=self.subaccount_sid, brand_sid=self.status.sids.brand)
        while True:
            brand = await self._fetch_brand()
            if brand.status == "FAILED":
                break
            if brand.status == "APPROVED" and brand.identity_status in ("VERIFIED", "VETTED_VERIFIED"):
                self._note("the brand is already approved and verified")
                return workflow.now()
            # Twilio allows an update only while the brand is FAILED (error 21725): ask, don't guess.
            await self._attention(Problem(
                source="brand", summary=f"the legacy brand is {brand.status}: Twilio allows a brand update only while it is FAILED",
                remedy="operator decision: retry (after Twilio Support set the brand to FAILED) or end",
            ))
        updated = await self._call(Call.UPDATE_BRAND, brand_ref, BrandState,
                                   f"update brand ({self.status.brand_updates_used + 1} of 3)")
        self.status.brand_updates_used += 1
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
