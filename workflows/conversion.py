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
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict

    from a2p.calls import (
        AssignedEndUser, AssignEntity, BrandState, BundleState, Call, CampaignState, Created, CreateEndUser,
        FindCampaign, UpdateBundle, UpdateEndUser, friendly_name,
    )
    from a2p.constants import SOLE_PROPRIETOR_END_USER_TYPE, explain
    from a2p.progress import RegistrationState, Phase, Problem, RegistrationStatus
    from a2p.requests import SOLE_PROPRIETOR_CORRECTION_FIELDS, Correction, LegacyConversionRequest

from workflows.base import Ended
from workflows.patches import FAILURE_PATHS
from workflows.bundles import sole_proprietor_attributes
from workflows.phases import Phases

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


class ConversionInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request: LegacyConversionRequest
    status_callback_url: str | None = None
    events_per_run: int = 5000
    carried: RegistrationState | None = None  # set when the conversion continues as a new run


@workflow.defn(name="LegacyConversion")
class LegacyConversion(Phases):
    @workflow.init
    def __init__(self, inp: ConversionInput) -> None:
        req = inp.request
        self.input = inp
        self._campaign_done = False
        self._init_state(workflow_id=workflow.info().workflow_id, isv_customer_id=req.isv_customer_id,
                         flow="legacy", details={"brand_name": req.brand_name, "mobile_number": req.mobile_number,
                                                 "vertical": req.vertical}, timings=req.timings, subaccount_sid=req.subaccount_sid,
                         campaign=req.campaign, events_per_run=inp.events_per_run, carried=inp.carried)
        self.status.sids.trust_bundle = req.trust_bundle_sid
        self.status.sids.brand = req.brand_sid

    @workflow.run
    async def run(self, inp: ConversionInput) -> RegistrationStatus:
        return await self._run_to_end(self._convert)

    async def _convert(self) -> None:
        req = self.input.request
        # A continued run resumes at the step its last run was in (a long wait).
        resume = self.carried.resume if self.carried is not None else None
        if resume is None:
            await self._check_preconditions()
            await self._complete_trust_bundle()
            self.state.registered_at = await self._update_legacy_brand()
        assert self.state.registered_at is not None
        if resume in (None, "brand_review"):
            await self._brand_approved()
        if resume != "campaign":
            await self._otp_verified()
            if req.campaign is None or req.messaging_service is None:
                self._note("no campaign requested")
                return
            if await self._brand_has_campaign():
                self._note("the brand already has a campaign: kept as it is")
                return
        assert req.messaging_service is not None
        await self._campaign(req.messaging_service)
        self._campaign_done = True

    def _finish(self, phase: Phase, note: str) -> None:
        if phase == Phase.COMPLETED:
            note = "conversion complete: brand verified" + (", campaign verified" if self._campaign_done else "")
        super()._finish(phase, note)

    # ---- what this flow carries and corrects: only the sole proprietor's details ----------------------

    # The sole proprietor's details as corrected so far (kept in the registration's state).

    @property
    def brand_name(self) -> str:
        return str(self.state.details["brand_name"])

    @property
    def mobile_number(self) -> str:
        return str(self.state.details["mobile_number"])

    @property
    def vertical(self) -> str | None:
        return self.state.details.get("vertical")

    def _next_run_input(self, carried: RegistrationState) -> ConversionInput:
        return self.input.model_copy(update={"carried": carried})

    def _identity_fields(self) -> list[str]:
        return list(SOLE_PROPRIETOR_CORRECTION_FIELDS)

    def _apply_identity(self, correction: Correction) -> None:
        self.state.details = {"brand_name": correction.brand_name or self.brand_name,
                              "mobile_number": correction.mobile_number or self.mobile_number,
                              "vertical": correction.vertical or self.vertical}

    def _sole_proprietor_attributes(self) -> dict[str, Any]:
        return sole_proprietor_attributes(self.brand_name, self.mobile_number, self.vertical)

    def _check_correction(self, correction: Correction) -> None:
        if correction.touches_starter_profile() or correction.touches_address():
            raise ApplicationError(
                "a legacy conversion changes only the sole proprietor's details "
                "(brand_name, mobile_number, vertical); the starter profile stays as approved",
                non_retryable=True,
            )

    # ---- preconditions (read-only) ----------------------------------------------------------------

    async def _check_preconditions(self) -> None:
        """Seed 001, 1.1 and 2.1: the bundle must be twilio-rejected, the brand FAILED. Nothing is
        written to Twilio before both hold."""
        self._enter(Phase.TRUST_BUNDLE, "checking the legacy trust bundle and brand")
        bundle = await self._fetch_bundle("trust_bundle", "fetch the legacy trust bundle")
        if bundle.status != "twilio-rejected":
            self.status.problem = Problem(
                source="trust_bundle", at=workflow.now(), accepts=[],
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
            brand = await self._fetch_brand(summary)
            if brand.status == "FAILED" or self._brand_verified(brand):
                return brand
            identity = f"/{brand.identity_status}" if brand.identity_status else ""
            await self._attention(Problem(
                source="brand",
                summary=f"the legacy brand is {brand.status}{identity}: Twilio allows a brand update only while it "
                        "is FAILED (error 21725), so it was not updated",
                errors=list(brand.errors), explanations=[f"21725: {explain(21725)}"], accepts=["retry", "end"],
                remedy=BRAND_NOT_UPDATABLE.get(brand.status, BRAND_NOT_UPDATABLE_DEFAULT),
            ))
            summary = "fetch the legacy brand again"

    @staticmethod
    def _brand_verified(brand: BrandState) -> bool:
        return brand.status == "APPROVED" and brand.identity_status in ("VERIFIED", "VETTED_VERIFIED")

    # ---- seed 001 section 1: complete the trust bundle -------------------------------------------

    async def _complete_trust_bundle(self) -> None:
        self._enter(Phase.TRUST_BUNDLE, "completing the legacy trust bundle with the sole proprietor's information")
        ref = self._bundle_ref("trust_bundle")
        assigned = await self._call(Call.LIST_ASSIGNED_END_USERS, ref, list[AssignedEndUser],
                                    "list the trust bundle's end users")
        existing = [e for e in assigned if e.type == SOLE_PROPRIETOR_END_USER_TYPE]
        sids = self.status.sids
        if existing:
            # Seed 001, 1.3: never a second sole_proprietor_information end user on the bundle.
            sids.sole_proprietor_end_user = existing[0].sid
            await self._call(Call.UPDATE_END_USER, UpdateEndUser(
                subaccount_sid=self.subaccount_sid, end_user_sid=existing[0].sid,
                attributes=self._sole_proprietor_attributes(),
            ), Created, "update the sole proprietor end user already assigned")
            self._note("the trust bundle already had a sole proprietor end user: updated it, none added")
        else:
            sids.sole_proprietor_end_user = (await self._call(Call.CREATE_END_USER, CreateEndUser(
                subaccount_sid=self.subaccount_sid,
                friendly_name=friendly_name(self.status.isv_customer_id, "sole proprietor end user"),
                type=SOLE_PROPRIETOR_END_USER_TYPE, attributes=self._sole_proprietor_attributes(),
            ), Created, "create sole proprietor end user")).sid
            await self._call(Call.ASSIGN_ENTITY, AssignEntity(
                **ref.model_dump(), object_sid=sids.sole_proprietor_end_user,
            ), Created, "assign sole proprietor end user to trust bundle")
        if self.input.status_callback_url and workflow.patched(FAILURE_PATHS):
            # The detailed rejection reason comes only through the bundle's status callback.
            await self._call(Call.UPDATE_BUNDLE, UpdateBundle(
                **ref.model_dump(), status_callback=self.input.status_callback_url,
            ), BundleState, "set the trust bundle's status callback")
        await self._submit("trust_bundle")
        await self._settle("trust bundle")
        await self._check_bundles(["trust_bundle"])

    # ---- seed 001 section 2: update the brand ----------------------------------------------------

    async def _update_legacy_brand(self) -> datetime:
        """Seed 001, 2.1-2.2: fetch the brand again (it may have changed while the bundle was being
        completed) and update it — only while FAILED."""
        self._enter(Phase.BRAND_REVIEW, "updating the legacy brand with TCR")
        brand = await self._until_brand_updatable("fetch the legacy brand before updating it")
        if self._brand_verified(brand):
            self._note("the brand is already approved and verified: no update needed")
            return workflow.now()
        await self._update_brand()
        return workflow.now()

    async def _brand_has_campaign(self) -> bool:
        service = self.input.request.messaging_service
        if service is None or not service.existing_sid:
            return False
        assert self.status.sids.brand is not None
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
