"""A fake Twilio for the workflow tests: one activity per `Call`, registered under the real
activity names, all backed by one in-memory state that each test scripts.

Each registration gets its own `Account` (keyed by workflow id), so that tests running on the one
shared worker never see each other's resources. What an account holds and how Twilio's reviews
come out is plain data a test sets before it starts the registration:

    account.bundle_reviews["customer_profile"] = [rejected("email is not valid")]  # then approved
    account.brand_reviews = [brand_failed(30712, "...")]                            # then APPROVED
    account.verify_after_resends = 3       # the customer answers the fourth OTP (None: never)

A 4xx is raised as the SDK raises it (`TwilioRestException`) and mapped by the production code
(activities/errors.py), so a workflow sees exactly the error a real activity would give it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from twilio.base.exceptions import TwilioRestException

from a2p.calls import (
    AddPhoneNumber, AssignedEndUser, AssignEntity, BrandRef, BrandState, BundleRef, BundleState, Call,
    CampaignRef, CampaignState, CreateAddress, CreateAddressDocument, CreateBundle, CreateCampaign, Created,
    CreateEndUser, CreateMessagingService, EvaluateBundle, Evaluation, FindCampaign, RegisterBrand,
    RequirementFailure, TwilioError, UpdateAddress, UpdateBundle, UpdateCampaign, UpdateEndUser,
)
from a2p.constants import SOLE_PROPRIETOR_END_USER_TYPE
from activities.attempt import heartbeating
from activities.errors import to_activity_error

_sids = itertools.count(1)


def new_sid(prefix: str) -> str:
    return f"{prefix}{next(_sids):032x}"


@dataclass(frozen=True)
class Review:
    """How one review of a bundle, brand or campaign comes out."""

    status: str
    errors: tuple[TwilioError, ...] = ()
    identity_status: str | None = None


def rejected(reason: str, code: int | None = None) -> Review:
    return Review("twilio-rejected", (TwilioError(code=code, message=reason),))


def brand_failed(code: int, message: str) -> Review:
    return Review("FAILED", (TwilioError(code=code, message=message),), identity_status="UNVERIFIED")


def campaign_failed(code: int, message: str) -> Review:
    return Review("FAILED", (TwilioError(code=code, message=message),))


# A bundle that passes its review stays in-review: Twilio approves both bundles only once the brand
# is approved and OTP-verified (FACTS.md), after which nothing is resubmitted.
PASSED_BUNDLE = Review("in-review")
APPROVED_BRAND = Review("APPROVED", identity_status="UNVERIFIED")
VERIFIED_CAMPAIGN = Review("VERIFIED")


@dataclass
class Bundle:
    kind: str
    status: str = "draft"
    errors: tuple[TwilioError, ...] = ()
    entities: list[str] = field(default_factory=list)
    submissions: int = 0
    email: str | None = None


@dataclass
class Brand:
    status: str = "PENDING"
    identity_status: str | None = None
    errors: tuple[TwilioError, ...] = ()
    updates: int = 0


@dataclass
class Campaign:
    messaging_service_sid: str
    brand_sid: str
    status: str = "IN_PROGRESS"
    errors: tuple[TwilioError, ...] = ()


@dataclass
class Account:
    """One registration's Twilio: what exists, and the script of what Twilio decides."""

    bundles: dict[str, Bundle] = field(default_factory=dict)
    end_users: dict[str, dict[str, Any]] = field(default_factory=dict)  # sid -> {"type", "attributes"}
    addresses: dict[str, dict[str, Any]] = field(default_factory=dict)
    brands: dict[str, Brand] = field(default_factory=dict)
    services: dict[str, list[str]] = field(default_factory=dict)        # MG -> phone number sids
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    calls: list[tuple[Call, Any]] = field(default_factory=list)        # every call, in order
    # The script. Each list is consumed one review at a time; when empty, the review passes.
    bundle_reviews: dict[str, list[Review]] = field(default_factory=lambda: {"customer_profile": [],
                                                                             "trust_bundle": []})
    evaluations: dict[str, list[list[RequirementFailure]]] = field(default_factory=lambda: {
        "customer_profile": [], "trust_bundle": []})
    brand_reviews: list[Review] = field(default_factory=list)
    campaign_reviews: list[Review] = field(default_factory=list)
    verify_after_resends: int | None = 0   # OTP re-sends before the customer replies YES; None: never
    refuse: dict[Call, tuple[int, str]] = field(default_factory=dict)  # a call Twilio answers 4xx to
    otp_resends: int = 0
    # ---- failure paths: what Twilio does outside the review scripts ----
    # Changes to an APPROVED brand outside any review (Support suspends it, TCR expires it, a deletion
    # in the Console): each status fetch of an APPROVED brand takes the next one.
    approved_brand_changes: list[Review] = field(default_factory=list)
    refuse_status: dict[Call, int] = field(default_factory=dict)  # HTTP status of a `refuse` (default 400)
    # A call whose answer Twilio is slow to send while this says so (the registration stays where it
    # is, its clock stopped: a call is in flight); `holding` is what is being held now.
    hold: Callable[[Call, Any], bool] | None = None
    holding: set[Call] = field(default_factory=set)

    def count(self, call: Call) -> int:
        return sum(1 for c, _ in self.calls if c == call)

    def args(self, call: Call) -> list[Any]:
        return [a for c, a in self.calls if c == call]

    def legacy(self, brand: Review = Review("FAILED", identity_status="UNVERIFIED"),
               bundle_status: str = "twilio-rejected", sole_proprietor_end_user: bool = False) -> tuple[str, str]:
        """A customer's legacy Starter brand and its (converted, rejected) trust bundle."""
        bundle_sid, brand_sid = new_sid("BU"), new_sid("BN")
        self.bundles[bundle_sid] = Bundle(kind="trust_bundle", status=bundle_status)
        if sole_proprietor_end_user:
            sid = new_sid("IT")
            self.end_users[sid] = {"type": SOLE_PROPRIETOR_END_USER_TYPE, "attributes": {}}
            self.bundles[bundle_sid].entities.append(sid)
        self.brands[brand_sid] = Brand(status=brand.status, identity_status=brand.identity_status,
                                       errors=brand.errors)
        return bundle_sid, brand_sid


def answers(call: Call) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
    """The fake of ``call``, registered under the real activity's name. Its effect is made at once;
    its answer waits while the account's `hold` says so (Twilio slow to answer: the call is in
    flight, so the registration stays where it is and its virtual clock does not move)."""
    def fake(method: Callable[..., Awaitable[Any]]) -> Any:
        @functools.wraps(method)
        async def run(self: FakeTwilio, req: Any) -> Any:
            answer = await method(self, req)
            await heartbeating(self._answered(call, req))  # a held call heartbeats, as a real one does
            return answer
        return activity.defn(name=str(call))(run)
    return fake


class FakeTwilio:
    """The activities. Register an `Account` under a workflow id before starting the workflow."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def account(self, workflow_id: str) -> Account:
        self.accounts[workflow_id] = account = Account()
        return account

    def _here(self, call: Call, req: Any) -> Account:
        account = self.accounts[activity.info().workflow_id]
        account.calls.append((call, req))
        if call in account.refuse:
            code, message = account.refuse[call]
            raise to_activity_error(TwilioRestException(account.refuse_status.get(call, 400), "https://fake.twilio",
                                                        message, code=code))
        return account

    def activities(self) -> list[Any]:
        """Every fake except the OTP re-send (which runs on the rate-limited queue)."""
        return [getattr(self, str(call)) for call in Call if call != Call.RESEND_OTP]

    def otp_activities(self) -> list[Any]:
        return [self.resend_otp]

    # ---- Trust Hub ---------------------------------------------------------------------

    @answers(Call.CREATE_BUNDLE)
    async def create_bundle(self, req: CreateBundle) -> Created:
        a, sid = self._here(Call.CREATE_BUNDLE, req), new_sid("BU")
        a.bundles[sid] = Bundle(kind=req.kind, email=req.email)
        return Created(sid=sid)

    @answers(Call.CREATE_END_USER)
    async def create_end_user(self, req: CreateEndUser) -> Created:
        a, sid = self._here(Call.CREATE_END_USER, req), new_sid("IT")
        a.end_users[sid] = {"type": req.type, "attributes": dict(req.attributes)}
        return Created(sid=sid)

    @answers(Call.UPDATE_END_USER)
    async def update_end_user(self, req: UpdateEndUser) -> Created:
        a = self._here(Call.UPDATE_END_USER, req)
        a.end_users[req.end_user_sid]["attributes"] = dict(req.attributes)
        return Created(sid=req.end_user_sid)

    @answers(Call.CREATE_ADDRESS)
    async def create_address(self, req: CreateAddress) -> Created:
        a, sid = self._here(Call.CREATE_ADDRESS, req), new_sid("AD")
        a.addresses[sid] = req.model_dump()
        return Created(sid=sid)

    @answers(Call.UPDATE_ADDRESS)
    async def update_address(self, req: UpdateAddress) -> Created:
        a = self._here(Call.UPDATE_ADDRESS, req)
        a.addresses[req.address_sid].update(req.changes)
        return Created(sid=req.address_sid)

    @answers(Call.CREATE_ADDRESS_DOCUMENT)
    async def create_address_document(self, req: CreateAddressDocument) -> Created:
        self._here(Call.CREATE_ADDRESS_DOCUMENT, req)
        return Created(sid=new_sid("RD"))

    @answers(Call.ASSIGN_ENTITY)
    async def assign_entity(self, req: AssignEntity) -> Created:
        a = self._here(Call.ASSIGN_ENTITY, req)
        a.bundles[req.bundle_sid].entities.append(req.object_sid)
        return Created(sid=new_sid("BV"))

    @answers(Call.LIST_ASSIGNED_END_USERS)
    async def list_assigned_end_users(self, req: BundleRef) -> list[AssignedEndUser]:
        a = self._here(Call.LIST_ASSIGNED_END_USERS, req)
        return [AssignedEndUser(sid=sid, type=a.end_users[sid]["type"], attributes=a.end_users[sid]["attributes"])
                for sid in a.bundles[req.bundle_sid].entities if sid in a.end_users]

    @answers(Call.EVALUATE_BUNDLE)
    async def evaluate_bundle(self, req: EvaluateBundle) -> Evaluation:
        a = self._here(Call.EVALUATE_BUNDLE, req)
        script = a.evaluations[req.kind]
        failures = script.pop(0) if script else []
        return Evaluation(sid=new_sid("EL"), compliant=not failures, failures=failures)

    @answers(Call.SUBMIT_BUNDLE)
    async def submit_bundle(self, req: BundleRef) -> BundleState:
        a = self._here(Call.SUBMIT_BUNDLE, req)
        bundle = a.bundles[req.bundle_sid]
        bundle.submissions += 1
        bundle.status, bundle.errors = "pending-review", ()
        return BundleState(sid=req.bundle_sid, status=bundle.status)

    @answers(Call.UPDATE_BUNDLE)
    async def update_bundle(self, req: UpdateBundle) -> BundleState:
        a = self._here(Call.UPDATE_BUNDLE, req)
        bundle = a.bundles[req.bundle_sid]
        bundle.email = req.email or bundle.email
        return BundleState(sid=req.bundle_sid, status=bundle.status, errors=list(bundle.errors))

    @answers(Call.FETCH_BUNDLE)
    async def fetch_bundle(self, req: BundleRef) -> BundleState:
        a = self._here(Call.FETCH_BUNDLE, req)
        bundle = a.bundles[req.bundle_sid]
        if bundle.status == "pending-review":  # the review of the latest submission comes out
            script = a.bundle_reviews[bundle.kind]
            review = script.pop(0) if script else PASSED_BUNDLE
            bundle.status, bundle.errors = review.status, review.errors
        return BundleState(sid=req.bundle_sid, status=bundle.status, errors=list(bundle.errors))

    # ---- brand and OTP ---------------------------------------------------------------------

    @answers(Call.REGISTER_BRAND)
    async def register_brand(self, req: RegisterBrand) -> BrandState:
        a, sid = self._here(Call.REGISTER_BRAND, req), new_sid("BN")
        a.brands[sid] = Brand()
        return BrandState(sid=sid, status="PENDING")

    @answers(Call.FETCH_BRAND)
    async def fetch_brand(self, req: BrandRef) -> BrandState:
        a = self._here(Call.FETCH_BRAND, req)
        brand = a.brands[req.brand_sid]
        if brand.status == "APPROVED" and a.approved_brand_changes:  # changed outside any review
            change = a.approved_brand_changes.pop(0)
            brand.status, brand.identity_status, brand.errors = change.status, change.identity_status, change.errors
        if brand.status == "PENDING":  # the review of the registration (or update) comes out
            review = a.brand_reviews.pop(0) if a.brand_reviews else APPROVED_BRAND
            brand.status, brand.identity_status, brand.errors = review.status, review.identity_status, review.errors
        elif (brand.status == "APPROVED" and brand.identity_status == "UNVERIFIED"
              and a.verify_after_resends is not None and a.otp_resends >= a.verify_after_resends):
            brand.identity_status = "VERIFIED"  # the customer replied YES
        return BrandState(sid=req.brand_sid, status=brand.status, identity_status=brand.identity_status,
                          errors=list(brand.errors))

    @answers(Call.UPDATE_BRAND)
    async def update_brand(self, req: BrandRef) -> BrandState:
        a = self._here(Call.UPDATE_BRAND, req)
        brand = a.brands[req.brand_sid]
        if brand.status != "FAILED":
            raise to_activity_error(TwilioRestException(400, "https://fake.twilio", "brand is not FAILED",
                                                        code=21725))
        brand.updates += 1
        brand.status, brand.errors = "PENDING", ()
        return BrandState(sid=req.brand_sid, status=brand.status, identity_status=brand.identity_status)

    @answers(Call.RESEND_OTP)
    async def resend_otp(self, req: BrandRef) -> Created:
        a = self._here(Call.RESEND_OTP, req)
        brand = a.brands[req.brand_sid]
        if brand.status != "APPROVED":  # as the sandbox answers
            raise to_activity_error(TwilioRestException(
                400, "https://fake.twilio", f"Brand is {brand.status}: an OTP can only be sent for an APPROVED brand",
                code=30752))
        a.otp_resends += 1
        return Created(sid=req.brand_sid)

    # ---- messaging service and campaign ----------------------------------------------------

    @answers(Call.CREATE_MESSAGING_SERVICE)
    async def create_messaging_service(self, req: CreateMessagingService) -> Created:
        a, sid = self._here(Call.CREATE_MESSAGING_SERVICE, req), new_sid("MG")
        a.services[sid] = []
        return Created(sid=sid)

    @answers(Call.ADD_PHONE_NUMBER)
    async def add_phone_number(self, req: AddPhoneNumber) -> Created:
        a = self._here(Call.ADD_PHONE_NUMBER, req)
        a.services.setdefault(req.messaging_service_sid, []).append(req.phone_number_sid)
        return Created(sid=req.phone_number_sid)

    @answers(Call.CREATE_CAMPAIGN)
    async def create_campaign(self, req: CreateCampaign) -> CampaignState:
        a, sid = self._here(Call.CREATE_CAMPAIGN, req), new_sid("QE")
        a.campaigns[sid] = Campaign(messaging_service_sid=req.messaging_service_sid, brand_sid=req.brand_sid)
        return CampaignState(sid=sid, messaging_service_sid=req.messaging_service_sid, status="IN_PROGRESS")

    @answers(Call.FETCH_CAMPAIGN)
    async def fetch_campaign(self, req: CampaignRef) -> CampaignState:
        a = self._here(Call.FETCH_CAMPAIGN, req)
        campaign = a.campaigns[req.campaign_sid]
        if campaign.status == "IN_PROGRESS":
            review = a.campaign_reviews.pop(0) if a.campaign_reviews else VERIFIED_CAMPAIGN
            campaign.status, campaign.errors = review.status, review.errors
        return CampaignState(sid=req.campaign_sid, messaging_service_sid=campaign.messaging_service_sid,
                             status=campaign.status, errors=list(campaign.errors))

    @answers(Call.FIND_CAMPAIGN)
    async def find_campaign(self, req: FindCampaign) -> CampaignState | None:
        a = self._here(Call.FIND_CAMPAIGN, req)
        for sid, c in a.campaigns.items():
            if c.brand_sid == req.brand_sid and c.messaging_service_sid == req.messaging_service_sid:
                return CampaignState(sid=sid, messaging_service_sid=c.messaging_service_sid, status=c.status)
        return None

    @answers(Call.UPDATE_CAMPAIGN)
    async def update_campaign(self, req: UpdateCampaign) -> CampaignState:
        a = self._here(Call.UPDATE_CAMPAIGN, req)
        campaign = a.campaigns[req.campaign_sid]
        campaign.status, campaign.errors = "IN_PROGRESS", ()  # back through vetting
        return CampaignState(sid=req.campaign_sid, messaging_service_sid=campaign.messaging_service_sid,
                             status=campaign.status)

    @answers(Call.DELETE_CAMPAIGN)
    async def delete_campaign(self, req: CampaignRef) -> Created:
        self._here(Call.DELETE_CAMPAIGN, req).campaigns.pop(req.campaign_sid, None)
        return Created(sid=req.campaign_sid)

    # ---- failure paths: an answer Twilio is slow to send ----------------------------------------

    def hold(self, workflow_id: str, *calls: Call, bound: float = 15, kind: str | None = None) -> Hold:
        """Hold the answers of ``calls`` of one registration (only those about bundles of ``kind``,
        when given), whenever they are reached, until released — and for at most ``bound`` s of
        wall time from now: a test that never releases fails on its assertions rather than hanging."""
        return Hold(self.accounts[workflow_id], frozenset(calls), time.monotonic() + bound, kind)

    async def _answered(self, call: Call, req: Any) -> None:
        """Return once the account's `hold` lets the answer to ``call`` go."""
        account = self.accounts[activity.info().workflow_id]
        while account.hold is not None and account.hold(call, req):
            account.holding.add(call)
            await asyncio.sleep(0.02)
        account.holding.discard(call)


@dataclass
class Hold:
    """Answers of some calls of one account, held once reached until released (see FakeTwilio.hold)."""

    account: Account
    calls: frozenset[Call]
    give_up_at: float
    kind: str | None = None
    released: bool = False

    def __post_init__(self) -> None:
        self.account.hold = lambda call, req: (call in self.calls and not self.released
                                               and self.kind in (None, getattr(req, "kind", None))
                                               and time.monotonic() < self.give_up_at)

    @property
    def reached(self) -> bool:
        return bool(self.account.holding & self.calls)

    def release(self) -> None:
        self.released = True
