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
        AssignEntity, BrandState, BundleKind, Call, CreateAddress, CreateAddressDocument, CreateBundle, Created,
        CreateEndUser, RegisterBrand, friendly_name,
    )
    from a2p.constants import (
        SOLE_PROPRIETOR_END_USER_TYPE, SOLE_PROPRIETOR_TRUST_POLICY_SID,
        STARTER_PROFILE_END_USER_TYPE, STARTER_PROFILE_POLICY_SID,
    )
    from a2p.progress import RegistrationState, Phase, RegistrationStatus
    from a2p.requests import (
        SOLE_PROPRIETOR_CORRECTION_FIELDS, STARTER_CORRECTION_FIELDS, Correction, CustomerIdentity,
        RegistrationRequest,
    )

from workflows.bundles import sole_proprietor_attributes
from workflows.phases import Phases


class RegistrationInput(BaseModel):
    """The workflow's input: the ISV's request plus what the starter knows from its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: RegistrationRequest
    primary_customer_profile_sid: str
    status_callback_url: str | None = None
    events_per_run: int = 5000
    carried: RegistrationState | None = None  # set when the registration continues as a new run


def starter_attributes(c: CustomerIdentity) -> dict[str, Any]:
    return {"first_name": c.first_name, "last_name": c.last_name, "email": c.email,
            "phone_number": c.business_phone}


@workflow.defn(name="NewRegistration")
class NewRegistration(Phases):
    @workflow.init
    def __init__(self, inp: RegistrationInput) -> None:
        req = inp.request
        self.input = inp
        self._init_state(workflow_id=workflow.info().workflow_id, isv_customer_id=req.isv_customer_id,
                         flow="new", details=req.customer.model_dump(mode="json"), timings=req.timings, subaccount_sid=req.subaccount_sid,
                         campaign=req.campaign, events_per_run=inp.events_per_run, carried=inp.carried)

    @workflow.run
    async def run(self, inp: RegistrationInput) -> RegistrationStatus:
        return await self._run_to_end(self._register)

    async def _register(self) -> None:
        req = self.input.request
        # A continued run resumes at the step its last run was in (a long wait).
        resume = self.carried.resume if self.carried is not None else None
        if resume is None:
            await self._customer_profile()
            await self._trust_bundle()
            self.state.registered_at = await self._register_brand()
        assert self.state.registered_at is not None
        if resume in (None, "brand_review"):
            await self._brand_approved()
            if req.mock_brand:
                self._note("mock brand approved: mock brands get no OTP and no campaign")
                return
        if resume != "campaign":
            await self._otp_verified()
        await self._campaign(req.messaging_service)

    def _name(self, what: str) -> str:
        return friendly_name(self.status.isv_customer_id, what)

    # ---- what this flow carries and corrects ------------------------------------------------------

    @property
    def identity(self) -> CustomerIdentity:
        """The customer's details as corrected so far (kept in the registration's state)."""
        return CustomerIdentity.model_validate(self.state.details)

    @identity.setter
    def identity(self, identity: CustomerIdentity) -> None:
        self.state.details = identity.model_dump(mode="json")

    def _next_run_input(self, carried: RegistrationState) -> RegistrationInput:
        return self.input.model_copy(update={"carried": carried})

    def _identity_fields(self) -> list[str]:
        return [*STARTER_CORRECTION_FIELDS, *SOLE_PROPRIETOR_CORRECTION_FIELDS]

    def _apply_identity(self, correction: Correction) -> None:
        self.identity = correction.apply_to(self.identity)

    def _starter_attributes(self) -> dict[str, Any]:
        return starter_attributes(self.identity)

    def _sole_proprietor_attributes(self) -> dict[str, Any]:
        c = self.identity
        return sole_proprietor_attributes(c.brand_name, c.mobile_number, c.vertical)

    def _check_correction(self, correction: Correction) -> None:
        try:
            correction.apply_to(self.identity)
        except ValidationError as err:
            raise ApplicationError(f"correction is invalid: {err}", non_retryable=True) from None

    # ---- section 1: starter customer profile ---------------------------------------------------

    async def _customer_profile(self) -> None:
        self._enter(Phase.CUSTOMER_PROFILE, "creating the starter customer profile")
        sids, c, acct = self.status.sids, self.identity, self.subaccount_sid
        profile = await self._create_bundle("customer_profile", STARTER_PROFILE_POLICY_SID, "starter customer profile")
        sids.starter_end_user = await self._create_end_user(
            STARTER_PROFILE_END_USER_TYPE, starter_attributes(c), "starter profile end user")
        a = c.address
        sids.address = (await self._call(Call.CREATE_ADDRESS, CreateAddress(
            subaccount_sid=acct, friendly_name=self._name("address"),
            customer_name=f"{c.first_name} {c.last_name}", street=a.street, street_secondary=a.street_secondary,
            city=a.city, region=a.region, postal_code=a.postal_code, iso_country=a.iso_country,
        ), Created, "create address")).sid
        sids.address_document = (await self._call(Call.CREATE_ADDRESS_DOCUMENT, CreateAddressDocument(
            subaccount_sid=acct, friendly_name=self._name("address document"), address_sid=sids.address,
        ), Created, "create address supporting document")).sid
        await self._assign_and_submit("customer_profile", profile, (
            (sids.starter_end_user, "end user"), (sids.address_document, "address document"),
            (self.input.primary_customer_profile_sid, "ISV primary customer profile")))

    # ---- section 2: sole proprietor trust bundle ------------------------------------------------

    async def _trust_bundle(self) -> None:
        self._enter(Phase.TRUST_BUNDLE, "creating the sole proprietor trust bundle")
        sids = self.status.sids
        bundle = await self._create_bundle("trust_bundle", SOLE_PROPRIETOR_TRUST_POLICY_SID,
                                           "sole proprietor trust bundle")
        sids.sole_proprietor_end_user = await self._create_end_user(
            SOLE_PROPRIETOR_END_USER_TYPE, self._sole_proprietor_attributes(), "sole proprietor end user")
        await self._assign_and_submit("trust_bundle", bundle, (
            (sids.sole_proprietor_end_user, "end user"), (sids.customer_profile, "customer profile")))

    # ---- the steps both bundles take (seed 000, sections 1 and 2) ------------------------------

    async def _create_bundle(self, kind: BundleKind, policy_sid: str, what: str) -> str:
        """Create the bundle, its status callback aimed at this registration; it starts as a draft."""
        created = await self._call(Call.CREATE_BUNDLE, CreateBundle(
            subaccount_sid=self.subaccount_sid, kind=kind, friendly_name=self._name(what), email=self.identity.email,
            policy_sid=policy_sid, status_callback=self.input.status_callback_url,
        ), Created, f"create {what}")
        setattr(self.status.sids, kind, created.sid)
        setattr(self.status.statuses, kind, "draft")
        return created.sid

    async def _create_end_user(self, end_user_type: str, attributes: dict[str, Any], what: str) -> str:
        return (await self._call(Call.CREATE_END_USER, CreateEndUser(
            subaccount_sid=self.subaccount_sid, friendly_name=self._name(what), type=end_user_type,
            attributes=attributes,
        ), Created, f"create {what}")).sid

    async def _assign_and_submit(self, kind: BundleKind, bundle_sid: str,
                                 objects: tuple[tuple[str | None, str], ...]) -> None:
        """Assign each object to the bundle, submit it, wait the seed's 30 s, check it."""
        label = kind.replace("_", " ")
        for object_sid, what in objects:
            await self._call(Call.ASSIGN_ENTITY, AssignEntity(
                subaccount_sid=self.subaccount_sid, kind=kind, bundle_sid=bundle_sid, object_sid=object_sid,
            ), Created, f"assign {what} to {label}")
        await self._submit(kind)
        await self._settle(label)
        await self._check_bundles([kind])

    # ---- section 3: brand ------------------------------------------------------------------------

    async def _register_brand(self) -> datetime:
        sids = self.status.sids
        await self._no_known_rejection()  # e.g. a rejection webhook during the trust bundle phase
        self._enter(Phase.BRAND_REVIEW, "registering the brand")
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
