"""A NEW customer's Sole Proprietor registration (seed 000, sections 1-4), one workflow per
customer: starter customer profile -> sole proprietor trust bundle -> brand -> OTP -> campaign.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict, ValidationError

    from a2p.calls import (
        AssignEntity, BrandState, BundleKind, BundleRef, BundleState, Call, CreateAddress,
        CreateAddressDocument, CreateBundle, Created, CreateEndUser, EvaluateBundle, Evaluation,
        RegisterBrand, UpdateAddress, UpdateEndUser, friendly_name,
    )
    from a2p.constants import (
        SOLE_PROPRIETOR_END_USER_TYPE, SOLE_PROPRIETOR_TRUST_POLICY_SID,
        STARTER_PROFILE_END_USER_TYPE, STARTER_PROFILE_POLICY_SID,
    )
    from a2p.progress import Phase, Problem, RegistrationStatus
    from a2p.requests import Correction, CustomerIdentity, RegistrationRequest

from workflows.base import RegistrationBase, _explanations

POLICY = {"customer_profile": STARTER_PROFILE_POLICY_SID, "trust_bundle": SOLE_PROPRIETOR_TRUST_POLICY_SID}
LABEL = {"customer_profile": "customer profile", "trust_bundle": "trust bundle"}


class RegistrationInput(BaseModel):
    """The workflow's input: the ISV's request plus what the starter knows from its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: RegistrationRequest
    primary_customer_profile_sid: str
    status_callback_url: str | None = None


def starter_attributes(c: CustomerIdentity) -> dict[str, Any]:
    return {"first_name": c.first_name, "last_name": c.last_name, "email": c.email,
            "phone_number": c.business_phone}


def sole_proprietor_attributes(brand_name: str, mobile_number: str, vertical: str | None) -> dict[str, Any]:
    attrs = {"brand_name": brand_name, "mobile_phone_number": mobile_number}
    if vertical:
        attrs["vertical"] = str(vertical)
    return attrs


@workflow.defn(name="NewRegistration")
class NewRegistration(RegistrationBase):
    @workflow.init
    def __init__(self, inp: RegistrationInput) -> None:
        req = inp.request
        self._init_state(workflow_id=workflow.info().workflow_id, isv_customer_id=req.isv_customer_id,
                         flow="new", timings=req.timings, subaccount_sid=req.subaccount_sid)
        self.input = inp
        self.identity: CustomerIdentity = req.customer  # as corrected so far

    @workflow.run
    async def run(self, inp: RegistrationInput) -> RegistrationStatus:
        return await self._run_to_end(self._register)

    async def _register(self) -> None:
        req = self.input.request
        await self._customer_profile()
        await self._trust_bundle()
        registered_at = await self._register_brand()
        await self._brand_approved(self._remediate)
        if req.mock_brand:
            self._note("mock brand approved: mock brands get no OTP and no campaign")
            return
        await self._otp_verified(registered_at)
        await self._campaign(req.campaign, req.messaging_service)

    def _name(self, what: str) -> str:
        return friendly_name(self.status.isv_customer_id, what)

    # ---- section 1: starter customer profile ---------------------------------------------------

    async def _customer_profile(self) -> None:
        self._enter(Phase.CUSTOMER_PROFILE, "creating the starter customer profile")
        sids, c, acct = self.status.sids, self.identity, self.subaccount_sid
        profile = await self._call(Call.CREATE_BUNDLE, CreateBundle(
            subaccount_sid=acct, kind="customer_profile", friendly_name=self._name("starter customer profile"),
            email=c.email, policy_sid=STARTER_PROFILE_POLICY_SID, status_callback=self.input.status_callback_url,
        ), Created, "create starter customer profile")
        sids.customer_profile = profile.sid
        self.status.statuses.customer_profile = "draft"
        sids.starter_end_user = (await self._call(Call.CREATE_END_USER, CreateEndUser(
            subaccount_sid=acct, friendly_name=self._name("starter profile end user"),
            type=STARTER_PROFILE_END_USER_TYPE, attributes=starter_attributes(c),
        ), Created, "create starter profile end user")).sid
        a = c.address
        sids.address = (await self._call(Call.CREATE_ADDRESS, CreateAddress(
            subaccount_sid=acct, friendly_name=self._name("address"),
            customer_name=f"{c.first_name} {c.last_name}", street=a.street, street_secondary=a.street_secondary,
            city=a.city, region=a.region, postal_code=a.postal_code, iso_country=a.iso_country,
        ), Created, "create address")).sid
        sids.address_document = (await self._call(Call.CREATE_ADDRESS_DOCUMENT, CreateAddressDocument(
            subaccount_sid=acct, friendly_name=self._name("address document"), address_sid=sids.address,
        ), Created, "create address supporting document")).sid
        for object_sid, what in ((sids.starter_end_user, "end user"), (sids.address_document, "address document"),
                                 (self.input.primary_customer_profile_sid, "ISV primary customer profile")):
            await self._call(Call.ASSIGN_ENTITY, AssignEntity(
                subaccount_sid=acct, kind="customer_profile", bundle_sid=profile.sid, object_sid=object_sid,
            ), Created, f"assign {what} to customer profile")
        await self._submit("customer_profile")
        await self._settle("customer profile")
        await self._check_bundle("customer_profile")

    # ---- section 2: sole proprietor trust bundle ------------------------------------------------

    async def _trust_bundle(self) -> None:
        self._enter(Phase.TRUST_BUNDLE, "creating the sole proprietor trust bundle")
        sids, c, acct = self.status.sids, self.identity, self.subaccount_sid
        bundle = await self._call(Call.CREATE_BUNDLE, CreateBundle(
            subaccount_sid=acct, kind="trust_bundle", friendly_name=self._name("sole proprietor trust bundle"),
            email=c.email, policy_sid=SOLE_PROPRIETOR_TRUST_POLICY_SID, status_callback=self.input.status_callback_url,
        ), Created, "create sole proprietor trust bundle")
        sids.trust_bundle = bundle.sid
        self.status.statuses.trust_bundle = "draft"
        sids.sole_proprietor_end_user = (await self._call(Call.CREATE_END_USER, CreateEndUser(
            subaccount_sid=acct, friendly_name=self._name("sole proprietor end user"),
            type=SOLE_PROPRIETOR_END_USER_TYPE,
            attributes=sole_proprietor_attributes(c.brand_name, c.mobile_number, c.vertical),
        ), Created, "create sole proprietor end user")).sid
        for object_sid, what in ((sids.sole_proprietor_end_user, "end user"), (sids.customer_profile, "customer profile")):
            await self._call(Call.ASSIGN_ENTITY, AssignEntity(
                subaccount_sid=acct, kind="trust_bundle", bundle_sid=bundle.sid, object_sid=object_sid,
            ), Created, f"assign {what} to trust bundle")
        await self._submit("trust_bundle")
        await self._settle("trust bundle")
        await self._check_bundle("trust_bundle")

    # ---- section 3: brand ------------------------------------------------------------------------

    async def _register_brand(self) -> datetime:
        self._enter(Phase.BRAND_REVIEW, "registering the brand")
        sids = self.status.sids
        brand = await self._call(Call.REGISTER_BRAND, RegisterBrand(
            subaccount_sid=self.subaccount_sid, customer_profile_sid=sids.customer_profile,
            trust_bundle_sid=sids.trust_bundle, mock=self.input.request.mock_brand,
        ), BrandState, "register sole proprietor brand")
        registered_at = workflow.now()
        sids.brand = brand.sid
        self._apply_brand(brand)
        self._note(f"brand registered, {brand.status}")
        await self._settle("brand registration")
        return registered_at

    # ---- bundles: evaluate, submit, check, remediate -------------------------------------------

    def _bundle_ref(self, kind: BundleKind) -> BundleRef:  # only for a bundle already created
        sid = self.status.sids.customer_profile if kind == "customer_profile" else self.status.sids.trust_bundle
        return BundleRef(subaccount_sid=self.subaccount_sid, kind=kind, bundle_sid=sid)

    async def _submit(self, kind: BundleKind) -> None:
        """Evaluate against the policy; submit only when compliant. Noncompliant: report every
        failed requirement and wait for a correction (or a retry once the ISV fixed its setup)."""
        ref = self._bundle_ref(kind)
        while True:
            evaluation = await self._call(
                Call.EVALUATE_BUNDLE, EvaluateBundle(**ref.model_dump(), policy_sid=POLICY[kind]),
                Evaluation, f"evaluate {LABEL[kind]}",
            )
            if evaluation.compliant:
                break
            failed = ", ".join(f.requirement for f in evaluation.failures)
            correction = await self._attention(Problem(
                source=kind, summary=f"{LABEL[kind]} is noncompliant: {failed}; nothing was submitted",
                failed_requirements=evaluation.failures,
                remedy="correction of the customer's details, or operator decision: retry (after fixing the ISV's setup) or end",
            ))
            await self._remediate(correction, resubmit=False)
            self._correction_applied()
        state = await self._call(Call.SUBMIT_BUNDLE, ref, BundleState, f"submit {LABEL[kind]}")
        setattr(self.status.statuses, kind, state.status)
        self._bundle_failure.pop(kind, None)
        self._note(f"{LABEL[kind]} submitted, {state.status}")

    async def _fetch_bundle(self, kind: BundleKind) -> BundleState:
        state = await self._call(Call.FETCH_BUNDLE, self._bundle_ref(kind), BundleState, f"fetch {LABEL[kind]} status")
        setattr(self.status.statuses, kind, state.status)
        if state.status == "twilio-rejected" and kind not in self._bundle_failure and state.errors:
            self._bundle_failure[kind] = "; ".join(e.message for e in state.errors)
        self._publish()
        return state

    async def _check_bundle(self, kind: BundleKind) -> None:
        """After the settle wait: a rejection found now is fixed before going further."""
        state = await self._fetch_bundle(kind)
        while getattr(self.status.statuses, kind) == "twilio-rejected":
            reason = self._bundle_failure.get(kind, "no reason given")
            correction = await self._attention(Problem(
                source=kind, summary=f"{LABEL[kind]} rejected by Twilio: {reason}",
                errors=list(state.errors), explanations=_explanations(list(state.errors)),
                remedy="correction of the customer's details (then the bundle is resubmitted)",
            ))
            await self._remediate(correction)
            self._correction_applied()
            state = await self._fetch_bundle(kind)

    async def _remediate(self, correction: Correction | None, resubmit: bool = True) -> None:
        """Apply a correction (FACTS.md, profile remediation): update the end user (all its
        attributes) and/or the address (changed fields only), then resubmit every bundle that is
        rejected or changed, and wait for the settle time."""
        if correction is None:
            return
        sids, acct = self.status.sids, self.subaccount_sid
        identity = correction.apply_to(self.identity)
        if correction.touches_starter_profile() and sids.starter_end_user:
            await self._call(Call.UPDATE_END_USER, UpdateEndUser(
                subaccount_sid=acct, end_user_sid=sids.starter_end_user, attributes=starter_attributes(identity),
            ), Created, "update starter profile end user")
        if correction.touches_address() and sids.address and correction.address is not None:
            await self._call(Call.UPDATE_ADDRESS, UpdateAddress(
                subaccount_sid=acct, address_sid=sids.address,
                changes={k: str(v) for k, v in correction.address.model_dump(exclude_none=True).items()},
            ), Created, "update address")
        if correction.touches_sole_proprietor() and sids.sole_proprietor_end_user:
            await self._call(Call.UPDATE_END_USER, UpdateEndUser(
                subaccount_sid=acct, end_user_sid=sids.sole_proprietor_end_user,
                attributes=sole_proprietor_attributes(identity.brand_name, identity.mobile_number, identity.vertical),
            ), Created, "update sole proprietor end user")
        self.identity = identity
        self._note("correction applied")
        if not resubmit:
            return
        resubmitted = False
        # A bundle is resubmitted when rejected, or when its information changed (FACTS.md: fix,
        # resubmit the bundles, then update the brand; Twilio refuses the update otherwise, 60723).
        changed = {"customer_profile": correction.touches_starter_profile() or correction.touches_address(),
                   "trust_bundle": correction.touches_sole_proprietor()}
        created = [k for k, sid in (("customer_profile", sids.customer_profile), ("trust_bundle", sids.trust_bundle)) if sid]
        for kind in created:
            if changed[kind] or (await self._fetch_bundle(kind)).status in ("twilio-rejected", "draft"):
                await self._submit(kind)
                resubmitted = True
        if resubmitted:
            await self._settle("resubmitted bundles")

    def _check_correction(self, correction: Correction) -> None:
        try:
            correction.apply_to(self.identity)
        except ValidationError as err:
            raise ApplicationError(f"correction is invalid: {err}", non_retryable=True) from None
