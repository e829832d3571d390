"""Every response the sandbox gives for the endpoints the product uses validates against Twilio's
OpenAPI specs (../shared/twilio-oai), and the real twilio SDK parses every one.

One sandbox process; the real ``twilio.rest.Client`` with a recording HTTP client
(tests/contract/openapi.py) drives, through the SDK, seed 000 (new Sole Proprietor registration,
with a rejected profile, noncompliant evaluations and a FAILED brand on the way) and seed 001 (the
legacy brand: FAILED -> update 202 -> APPROVED -> VERIFIED, then a FAILED campaign), once with the
sync client and once with the async one. Every recorded exchange is then checked by
``assert_exchanges_conform`` (also: no property the schema does not declare), and the operations
exercised must include every operation of ``PRODUCT_OPERATIONS`` and ``SANDBOX_EXTRA_OPERATIONS``,
so an endpoint dropped from the drive fails the coverage test. Each SDK call is checked to return
its instance class, holding what the raw body said (``Recorder``).

Reviews are far in the future (``REVIEWS``): the wall clock never moves a resource under the test;
``advance_clock`` jumps straight to each transition, so the module takes a few seconds.
"""

from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.base.instance_resource import InstanceResource
from twilio.rest import Client
from twilio.rest.api.v2010.account import AccountInstance
from twilio.rest.api.v2010.account.address import AddressInstance
from twilio.rest.messaging.v1.brand_registration import BrandRegistrationInstance
from twilio.rest.messaging.v1.brand_registration.brand_registration_otp import BrandRegistrationOtpInstance
from twilio.rest.messaging.v1.service import ServiceInstance
from twilio.rest.messaging.v1.service.phone_number import PhoneNumberInstance
from twilio.rest.messaging.v1.service.us_app_to_person import UsAppToPersonInstance
from twilio.rest.trusthub.v1.customer_profiles import CustomerProfilesInstance
from twilio.rest.trusthub.v1.customer_profiles.customer_profiles_entity_assignments import (
    CustomerProfilesEntityAssignmentsInstance,
)
from twilio.rest.trusthub.v1.customer_profiles.customer_profiles_evaluations import (
    CustomerProfilesEvaluationsInstance,
)
from twilio.rest.trusthub.v1.end_user import EndUserInstance
from twilio.rest.trusthub.v1.policies import PoliciesInstance
from twilio.rest.trusthub.v1.supporting_document import SupportingDocumentInstance
from twilio.rest.trusthub.v1.trust_products import TrustProductsInstance
from twilio.rest.trusthub.v1.trust_products.trust_products_entity_assignments import (
    TrustProductsEntityAssignmentsInstance,
)
from twilio.rest.trusthub.v1.trust_products.trust_products_evaluations import TrustProductsEvaluationsInstance

from a2p import constants as c
from sandbox import defaults
from sandbox.testing import SandboxProcess, SyncSandboxControl
from tests.contract.openapi import (
    Exchange,
    Operation,
    RecordingAsyncHttpClient,
    RecordingHttpClient,
    missing_specs_reason,
)
from tests.sandbox.flows import CAMPAIGN, GOOD_ADDRESS

_MISSING = missing_specs_reason()
if _MISSING:  # skip the whole module, before any sandbox is started, saying where the specs were looked for
    pytest.skip(_MISSING, allow_module_level=True)

# The operations a Sole Proprietor registration uses (ENDPOINTS.md), as (method, spec path template).
PRODUCT_OPERATIONS: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/v1/Policies/{Sid}"),
    ("POST", "/v1/CustomerProfiles"),
    ("GET", "/v1/CustomerProfiles"),
    ("GET", "/v1/CustomerProfiles/{Sid}"),
    ("POST", "/v1/CustomerProfiles/{Sid}"),
    ("POST", "/v1/CustomerProfiles/{CustomerProfileSid}/EntityAssignments"),
    ("GET", "/v1/CustomerProfiles/{CustomerProfileSid}/EntityAssignments"),
    ("DELETE", "/v1/CustomerProfiles/{CustomerProfileSid}/EntityAssignments/{Sid}"),
    ("POST", "/v1/CustomerProfiles/{CustomerProfileSid}/Evaluations"),
    ("POST", "/v1/EndUsers"),
    ("GET", "/v1/EndUsers"),
    ("GET", "/v1/EndUsers/{Sid}"),
    ("POST", "/v1/EndUsers/{Sid}"),
    ("POST", "/v1/SupportingDocuments"),
    ("GET", "/v1/SupportingDocuments"),
    ("GET", "/v1/SupportingDocuments/{Sid}"),
    ("POST", "/v1/SupportingDocuments/{Sid}"),
    ("POST", "/v1/TrustProducts"),
    ("GET", "/v1/TrustProducts"),
    ("GET", "/v1/TrustProducts/{Sid}"),
    ("POST", "/v1/TrustProducts/{Sid}"),
    ("POST", "/v1/TrustProducts/{TrustProductSid}/EntityAssignments"),
    ("GET", "/v1/TrustProducts/{TrustProductSid}/EntityAssignments"),
    ("DELETE", "/v1/TrustProducts/{TrustProductSid}/EntityAssignments/{Sid}"),
    ("POST", "/v1/TrustProducts/{TrustProductSid}/Evaluations"),
    ("POST", "/2010-04-01/Accounts/{AccountSid}/Addresses.json"),
    ("GET", "/2010-04-01/Accounts/{AccountSid}/Addresses.json"),
    ("GET", "/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json"),
    ("POST", "/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json"),
    ("POST", "/v1/a2p/BrandRegistrations"),
    ("GET", "/v1/a2p/BrandRegistrations"),
    ("GET", "/v1/a2p/BrandRegistrations/{Sid}"),
    ("POST", "/v1/a2p/BrandRegistrations/{Sid}"),
    ("POST", "/v1/a2p/BrandRegistrations/{BrandRegistrationSid}/SmsOtp"),
    ("POST", "/v1/Services"),
    ("GET", "/v1/Services"),
    ("GET", "/v1/Services/{Sid}"),
    ("POST", "/v1/Services/{ServiceSid}/PhoneNumbers"),
    ("GET", "/v1/Services/{ServiceSid}/PhoneNumbers"),  # the product's retry path looks for its number
    ("POST", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p"),
    ("GET", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p"),
    ("GET", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/{Sid}"),
    ("DELETE", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/{Sid}"),
    ("POST", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/{Sid}"),  # a FAILED campaign, edited
    ("GET", "/2010-04-01/Accounts/{Sid}.json"),  # a subaccount's auth token, read by the parent
})

# The rest of what the sandbox serves (sandbox/README.md): not used by the product, checked all the same.
SANDBOX_EXTRA_OPERATIONS: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/v1/Policies"),
    ("GET", "/v1/CustomerProfiles/{CustomerProfileSid}/EntityAssignments/{Sid}"),
    ("GET", "/v1/CustomerProfiles/{CustomerProfileSid}/Evaluations"),
    ("GET", "/v1/CustomerProfiles/{CustomerProfileSid}/Evaluations/{Sid}"),
    ("GET", "/v1/TrustProducts/{TrustProductSid}/EntityAssignments/{Sid}"),
    ("GET", "/v1/TrustProducts/{TrustProductSid}/Evaluations"),
    ("GET", "/v1/TrustProducts/{TrustProductSid}/Evaluations/{Sid}"),
    ("DELETE", "/v1/EndUsers/{Sid}"),
    ("DELETE", "/v1/SupportingDocuments/{Sid}"),
    ("GET", "/v1/Services/{ServiceSid}/PhoneNumbers/{Sid}"),
    ("DELETE", "/v1/Services/{ServiceSid}/PhoneNumbers/{Sid}"),
    ("DELETE", "/v1/Services/{Sid}"),
})

# Far beyond the module's wall-clock run time: only advance_clock moves anything.
REVIEW = 600
REVIEWS = {"profile_review_seconds": REVIEW, "trust_product_review_seconds": REVIEW,
           "brand_review_seconds": REVIEW, "campaign_in_progress_seconds": REVIEW,
           "campaign_review_seconds": REVIEW}
STEP = REVIEW + 1

MOBILE_000, MOBILE_001, MOBILE_ASYNC = "+14155550131", "+14155550132", "+14155550133"
MOBILE_IN_THREE_BRANDS = "+12025550199"  # sandbox scenario: FAILED 30712 (mobile number cap)


# ---------------------------------------------------------------------------------------------
# "The real SDK parses every one": each call returns its instance class, holding the raw body
# ---------------------------------------------------------------------------------------------
def _same(key: str, attr: Any, raw: Any) -> bool:
    if raw is None:
        return attr is None
    if isinstance(attr, dt.datetime):  # the SDK parsed an ISO 8601 / RFC 2822 date string
        return isinstance(raw, str) and key.startswith("date_")
    return attr == raw


def assert_parsed(instance: Any, cls: type, body: Any) -> None:
    """``instance`` is the SDK's ``cls`` and every field of the raw JSON ``body`` the class knows
    reads back equal (dates as datetimes); the class must know at least ``sid`` or its owner's."""
    assert isinstance(instance, cls) and isinstance(instance, InstanceResource), (type(instance), cls)
    assert isinstance(body, dict), body
    known = {k for k in body if hasattr(instance, k)}
    assert known & {"sid", "brand_registration_sid"}, f"{cls.__name__} read nothing of {sorted(body)}"
    wrong = {k: (getattr(instance, k), body[k]) for k in known if not _same(k, getattr(instance, k), body[k])}
    assert not wrong, f"{cls.__name__} parsed differently from the body: {wrong}"


def _items(exchanges: list[Exchange]) -> list[dict]:
    """The records of the list pages in ``exchanges`` (v1 ``meta.key`` or the v2010 key)."""
    out = []
    for ex in exchanges:
        assert ex.method == "GET" and ex.status == 200, (ex.method, ex.url, ex.status)
        key = ex.body["meta"]["key"] if "meta" in ex.body else "addresses"
        out += ex.body[key]
    return out


@dataclass
class Recorder:
    """A twilio Client on a recording HTTP client, plus the checks of each call's parsing."""

    client: Client
    http: RecordingHttpClient | RecordingAsyncHttpClient
    checked: int = 0  # exchanges whose SDK result was checked; must end equal to len(http.exchanges)

    def _since(self, start: int) -> list[Exchange]:
        assert start == self.checked, "an SDK call went around the Recorder: its parsing was not checked"
        self.checked = len(self.http.exchanges)
        return self.http.exchanges[start:]

    async def _run(self, call: Callable[[], Any]) -> tuple[Any, list[Exchange]]:
        start = len(self.http.exchanges)
        result = call()
        if inspect.isawaitable(result):
            result = await result
        return result, self._since(start)

    def one(self, call: Callable[[], Any], cls: type, status: int = 200) -> Any:
        """A create / fetch / update: one exchange of ``status``, parsed into ``cls``."""
        start = len(self.http.exchanges)
        result = call()
        return self._check_one(result, self._since(start), cls, status)

    async def one_async(self, call: Callable[[], Awaitable[Any]], cls: type, status: int = 200) -> Any:
        result, exchanges = await self._run(call)
        return self._check_one(result, exchanges, cls, status)

    def many(self, call: Callable[[], Any], cls: type) -> list:
        """A list(): every page parsed, the instances in the pages' order."""
        start = len(self.http.exchanges)
        result = list(call())
        return self._check_many(result, self._since(start), cls)

    async def many_async(self, call: Callable[[], Awaitable[Any]], cls: type) -> list:
        result, exchanges = await self._run(call)
        return self._check_many(list(result), exchanges, cls)

    def delete(self, call: Callable[[], Any]) -> None:
        start = len(self.http.exchanges)
        result = call()
        self._check_delete(result, self._since(start))

    async def delete_async(self, call: Callable[[], Awaitable[Any]]) -> None:
        result, exchanges = await self._run(call)
        self._check_delete(result, exchanges)

    @staticmethod
    def _check_one(result: Any, exchanges: list[Exchange], cls: type, status: int) -> Any:
        assert [ex.status for ex in exchanges] == [status], [(ex.method, ex.url, ex.status) for ex in exchanges]
        assert_parsed(result, cls, exchanges[0].body)
        return result

    @staticmethod
    def _check_many(result: list, exchanges: list[Exchange], cls: type) -> list:
        items = _items(exchanges)
        assert [getattr(r, "sid") for r in result] == [i["sid"] for i in items][:len(result)]
        for instance, body in zip(result, items):
            assert_parsed(instance, cls, body)
        return result

    @staticmethod
    def _check_delete(result: Any, exchanges: list[Exchange]) -> None:
        assert result is True
        assert [(ex.method, ex.status, ex.text) for ex in exchanges] == [("DELETE", 204, "")]


# ---------------------------------------------------------------------------------------------
# Fixtures: the sandbox, and the recorded drives
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox() -> Any:
    with SandboxProcess(REVIEWS) as process:
        yield process
    logs = process.logs()
    assert "Traceback" not in logs and "ERROR" not in logs, logs[-3000:]


@pytest.fixture(scope="module")
def control(sandbox: SandboxProcess) -> Any:
    with sandbox.sync_control() as ctl:
        yield ctl


def recording_client(sandbox: SandboxProcess, account_sid: str, auth_token: str, *,
                     async_http: bool = False) -> Recorder:
    http = RecordingAsyncHttpClient() if async_http else RecordingHttpClient()
    client = Client(account_sid, auth_token, http_client=http)
    client.trusthub.base_url = client.messaging.base_url = client.api.base_url = sandbox.base_url
    return Recorder(client, http)


def new_customer(sandbox: SandboxProcess, control: SyncSandboxControl, *, async_http: bool = False) -> Recorder:
    """A fresh subaccount (where ISVs keep customers), driven as itself."""
    sub = control.create_subaccount()
    return recording_client(sandbox, sub["sid"], sub["auth_token"], async_http=async_http)


@dataclass
class Drive:
    exchanges: list[Exchange] = field(default_factory=list)

    def add(self, recorder: Recorder) -> None:
        assert recorder.checked == len(recorder.http.exchanges), "an SDK call's parsing was not checked"
        self.exchanges += recorder.http.exchanges


@pytest.fixture(scope="module")
def sync_drive(sandbox: SandboxProcess, control: SyncSandboxControl) -> Drive:
    drive = Drive()
    for flow in (seed_000_new_registration, seed_001_legacy_conversion, parent_account_lists):
        recorder = flow(sandbox, control)
        drive.add(recorder)
    return drive


@pytest.fixture(scope="module")
async def async_drive(sandbox: SandboxProcess, control: SyncSandboxControl) -> Drive:
    recorder = new_customer(sandbox, control, async_http=True)
    try:
        await async_new_registration(recorder, control)
    finally:
        await recorder.http.close()
    drive = Drive()
    drive.add(recorder)
    return drive


# ---------------------------------------------------------------------------------------------
# Seed 000: a new Sole Proprietor registration
# ---------------------------------------------------------------------------------------------
def seed_000_new_registration(sandbox: SandboxProcess, control: SyncSandboxControl) -> Recorder:
    r = new_customer(sandbox, control)
    client, account_sid = r.client, r.client.account_sid
    th, msg = client.trusthub.v1, client.messaging.v1

    # 1.1 / 2.1 both policies
    for policy_sid in (c.STARTER_PROFILE_POLICY_SID, c.SOLE_PROPRIETOR_TRUST_POLICY_SID):
        policy = r.one(lambda: th.policies(policy_sid).fetch(), PoliciesInstance)
        assert policy.sid == policy_sid and policy.requirements["end_user"]
    assert {p.sid for p in r.many(lambda: th.policies.list(), PoliciesInstance)} >= {
        c.STARTER_PROFILE_POLICY_SID, c.SOLE_PROPRIETOR_TRUST_POLICY_SID}

    # 1.2 starter customer profile: create, fetch, list (filtered), update (not the status)
    profile = r.one(lambda: th.customer_profiles.create(
        friendly_name="Jane Doe Starter", email="jane.doe@example.com", policy_sid=c.STARTER_PROFILE_POLICY_SID,
        status_callback="https://isv.example.com/twilio/bundles"), CustomerProfilesInstance, 201)
    assert profile.status == "draft"
    assert r.one(lambda: th.customer_profiles(profile.sid).fetch(), CustomerProfilesInstance).status == "draft"
    listed = r.many(lambda: th.customer_profiles.list(policy_sid=c.STARTER_PROFILE_POLICY_SID, status="draft",
                                                      friendly_name="Jane Doe Starter"), CustomerProfilesInstance)
    assert [p.sid for p in listed] == [profile.sid]
    profile = r.one(lambda: th.customer_profiles(profile.sid).update(
        friendly_name="Jane Doe Starter Customer Profile"), CustomerProfilesInstance)
    assert profile.friendly_name == "Jane Doe Starter Customer Profile"

    # an empty profile evaluates noncompliant, every requirement explained
    evaluation = r.one(lambda: th.customer_profiles(profile.sid).customer_profiles_evaluations.create(
        policy_sid=c.STARTER_PROFILE_POLICY_SID), CustomerProfilesEvaluationsInstance, 201)
    assert evaluation.status == "noncompliant" and not any(x["passed"] for x in evaluation.results)

    # 1.3 end user: create, fetch, update, list
    end_user = r.one(lambda: th.end_users.create(
        friendly_name="Starter Profile End User", type=c.STARTER_PROFILE_END_USER_TYPE,
        attributes={"first_name": "Jane", "last_name": "Doe", "email": "jane.doe@example.com",
                    "phone_number": "+14155550100"}), EndUserInstance, 201)
    assert r.one(lambda: th.end_users(end_user.sid).fetch(), EndUserInstance).attributes["first_name"] == "Jane"
    end_user = r.one(lambda: th.end_users(end_user.sid).update(attributes={
        **end_user.attributes, "phone_number": "+14155550101"}), EndUserInstance)
    assert end_user.attributes["phone_number"] == "+14155550101"
    assert end_user.sid in [u.sid for u in r.many(lambda: th.end_users.list(), EndUserInstance)]

    # 1.4 address: create, fetch, update, list
    address = r.one(lambda: client.addresses.create(**GOOD_ADDRESS, friendly_name="Jane Doe",
                                                    street_secondary="Apt B"), AddressInstance, 201)
    assert r.one(lambda: client.addresses(address.sid).fetch(), AddressInstance).street == GOOD_ADDRESS["street"]
    address = r.one(lambda: client.addresses(address.sid).update(street_secondary="Apt C"), AddressInstance)
    assert address.street_secondary == "Apt C"
    assert [a.sid for a in r.many(lambda: client.addresses.list(customer_name="Jane Doe"), AddressInstance)] == [
        address.sid]

    # 1.5 supporting document: create, fetch, update, list
    document = r.one(lambda: th.supporting_documents.create(
        friendly_name="SP Document Address", type=c.ADDRESS_DOCUMENT_TYPE,
        attributes={"address_sids": address.sid}), SupportingDocumentInstance, 201)
    assert document.status == "DRAFT"
    assert r.one(lambda: th.supporting_documents(document.sid).fetch(), SupportingDocumentInstance).sid == document.sid
    document = r.one(lambda: th.supporting_documents(document.sid).update(friendly_name="Jane Doe Address"),
                     SupportingDocumentInstance)
    assert document.friendly_name == "Jane Doe Address"
    assert [d.sid for d in r.many(lambda: th.supporting_documents.list(), SupportingDocumentInstance)] == [
        document.sid]

    # 1.6 assignments: create (one assigned by mistake, then removed), list (filtered), fetch, delete
    assignments = th.customer_profiles(profile.sid).customer_profiles_entity_assignments
    stray = r.one(lambda: th.end_users.create(friendly_name="Stray", type=c.STARTER_PROFILE_END_USER_TYPE),
                  EndUserInstance, 201)
    mistake = r.one(lambda: assignments.create(object_sid=stray.sid), CustomerProfilesEntityAssignmentsInstance, 201)
    assert r.one(lambda: assignments(mistake.sid).fetch(), CustomerProfilesEntityAssignmentsInstance).object_sid == \
        stray.sid
    r.delete(lambda: assignments(mistake.sid).delete())
    r.delete(lambda: th.end_users(stray.sid).delete())
    for object_sid in (end_user.sid, document.sid, defaults.PRIMARY_CUSTOMER_PROFILE_SID):
        assigned = r.one(lambda: assignments.create(object_sid=object_sid), CustomerProfilesEntityAssignmentsInstance,
                         201)
        assert assigned.customer_profile_sid == profile.sid
    assert len(r.many(lambda: assignments.list(), CustomerProfilesEntityAssignmentsInstance)) == 3
    assert [a.object_sid for a in r.many(lambda: assignments.list(object_type=c.STARTER_PROFILE_END_USER_TYPE),
                                         CustomerProfilesEntityAssignmentsInstance)] == [end_user.sid]

    # 1.7 compliant evaluation (and the evaluations' list / fetch), 1.8 submission
    evaluations = th.customer_profiles(profile.sid).customer_profiles_evaluations
    evaluation = r.one(lambda: evaluations.create(policy_sid=c.STARTER_PROFILE_POLICY_SID),
                       CustomerProfilesEvaluationsInstance, 201)
    assert evaluation.status == "compliant"
    assert len(r.many(lambda: evaluations.list(), CustomerProfilesEvaluationsInstance)) == 2
    assert r.one(lambda: evaluations(evaluation.sid).fetch(), CustomerProfilesEvaluationsInstance).status == \
        "compliant"
    profile = r.one(lambda: th.customer_profiles(profile.sid).update(status="pending-review"),
                    CustomerProfilesInstance)
    assert profile.status == "in-review"

    # 2.2 - 2.6 trust product: create, fetch, list, update; noncompliant then compliant evaluation
    trust = r.one(lambda: th.trust_products.create(
        friendly_name="Jane Doe Sole Proprietor A2P Trust Bundle", email="jane.doe@example.com",
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID), TrustProductsInstance, 201)
    assert r.one(lambda: th.trust_products(trust.sid).fetch(), TrustProductsInstance).status == "draft"
    assert trust.sid in [t.sid for t in r.many(lambda: th.trust_products.list(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID, status="draft"), TrustProductsInstance)]
    trust = r.one(lambda: th.trust_products(trust.sid).update(status_callback="https://isv.example.com/twilio/tp"),
                  TrustProductsInstance)
    assert trust.status_callback == "https://isv.example.com/twilio/tp"
    tp_evaluations = th.trust_products(trust.sid).trust_products_evaluations
    early = r.one(lambda: tp_evaluations.create(policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID),
                  TrustProductsEvaluationsInstance, 201)
    assert early.status == "noncompliant"
    sole_prop = r.one(lambda: th.end_users.create(
        friendly_name="Sole Proprietor A2P Trust Bundle End User", type=c.SOLE_PROPRIETOR_END_USER_TYPE,
        attributes={"brand_name": "Jane Doe", "vertical": "RETAIL", "mobile_phone_number": MOBILE_000}),
        EndUserInstance, 201)
    tp_assignments = th.trust_products(trust.sid).trust_products_entity_assignments
    for object_sid in (sole_prop.sid, profile.sid):
        assigned = r.one(lambda: tp_assignments.create(object_sid=object_sid),
                         TrustProductsEntityAssignmentsInstance, 201)
        assert assigned.trust_product_sid == trust.sid
    listed = r.many(lambda: tp_assignments.list(object_type=c.SOLE_PROPRIETOR_END_USER_TYPE),
                    TrustProductsEntityAssignmentsInstance)
    assert [a.object_sid for a in listed] == [sole_prop.sid]
    # remove the end user and put it back: delete, fetch of the new assignment
    r.delete(lambda: tp_assignments(listed[0].sid).delete())
    again = r.one(lambda: tp_assignments.create(object_sid=sole_prop.sid), TrustProductsEntityAssignmentsInstance, 201)
    assert r.one(lambda: tp_assignments(again.sid).fetch(), TrustProductsEntityAssignmentsInstance).sid == again.sid
    assert len(r.many(lambda: tp_assignments.list(), TrustProductsEntityAssignmentsInstance)) == 2
    evaluation = r.one(lambda: tp_evaluations.create(policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID),
                       TrustProductsEvaluationsInstance, 201)
    assert evaluation.status == "compliant"
    assert [e.status for e in r.many(lambda: tp_evaluations.list(), TrustProductsEvaluationsInstance)] == [
        "compliant", "noncompliant"]  # newest first
    assert r.one(lambda: tp_evaluations(early.sid).fetch(), TrustProductsEvaluationsInstance).status == "noncompliant"
    trust = r.one(lambda: th.trust_products(trust.sid).update(status="pending-review"), TrustProductsInstance)
    assert trust.status == "in-review"

    # 3 brand: PENDING (identity_status null) -> APPROVED + UNVERIFIED; OTP re-sent; YES -> VERIFIED
    brands = msg.brand_registrations
    brand = r.one(lambda: brands.create(customer_profile_bundle_sid=profile.sid, a2p_profile_bundle_sid=trust.sid,
                                        brand_type=c.BRAND_TYPE_SOLE_PROPRIETOR), BrandRegistrationInstance, 201)
    assert (brand.status, brand.identity_status) == ("PENDING", None)
    assert r.one(lambda: brands(brand.sid).fetch(), BrandRegistrationInstance).status == "PENDING"
    control.advance_clock(STEP)
    brand = r.one(lambda: brands(brand.sid).fetch(), BrandRegistrationInstance)
    assert (brand.status, brand.identity_status) == ("APPROVED", "UNVERIFIED") and brand.tcr_id
    otp = r.one(lambda: brands(brand.sid).brand_registration_otps.create(), BrandRegistrationOtpInstance, 201)
    assert (otp.brand_registration_sid, otp.account_sid) == (brand.sid, account_sid)
    assert control.reply_otp(MOBILE_000, "YES")["accepted"]
    brand = r.one(lambda: brands(brand.sid).fetch(), BrandRegistrationInstance)
    assert (brand.status, brand.identity_status) == ("APPROVED", "VERIFIED")
    assert r.one(lambda: th.customer_profiles(profile.sid).fetch(), CustomerProfilesInstance).status == \
        "twilio-approved"
    assert r.one(lambda: th.trust_products(trust.sid).fetch(), TrustProductsInstance).status == "twilio-approved"

    # 4.1 messaging service (create, fetch, list) and its number (add, list, fetch)
    service = r.one(lambda: msg.services.create(friendly_name="Jane Doe Hair Studio",
                                                inbound_request_url="https://isv.example.com/sms"),
                    ServiceInstance, 201)
    assert r.one(lambda: msg.services(service.sid).fetch(), ServiceInstance).us_app_to_person_registered is False
    assert [s.sid for s in r.many(lambda: msg.services.list(), ServiceInstance)] == [service.sid]
    number = control.create_phone_number(account_sid)
    numbers = msg.services(service.sid).phone_numbers
    added = r.one(lambda: numbers.create(phone_number_sid=number["sid"]), PhoneNumberInstance, 201)
    assert added.phone_number == number["phone_number"]
    assert [n.sid for n in r.many(lambda: numbers.list(), PhoneNumberInstance)] == [number["sid"]]
    assert r.one(lambda: numbers(number["sid"]).fetch(), PhoneNumberInstance).service_sid == service.sid

    # 4.2 campaign: PENDING -> IN_PROGRESS -> VERIFIED (create, fetch, list)
    campaigns = msg.services(service.sid).us_app_to_person
    campaign = r.one(lambda: campaigns.create(brand_registration_sid=brand.sid, **CAMPAIGN,
                                              opt_out_keywords=["STOP"], opt_out_message="You are unsubscribed.",
                                              privacy_policy_url="https://janedoe.example.com/privacy"),
                     UsAppToPersonInstance, 201)
    assert campaign.campaign_status == "PENDING"
    for expected in ("IN_PROGRESS", "VERIFIED"):
        control.advance_clock(STEP)
        campaign = r.one(lambda: campaigns(campaign.sid).fetch(), UsAppToPersonInstance)
        assert campaign.campaign_status == expected
    assert [x.sid for x in r.many(lambda: campaigns.list(), UsAppToPersonInstance)] == [campaign.sid]
    assert r.one(lambda: msg.services(service.sid).fetch(), ServiceInstance).us_app_to_person_registered is True

    # a second customer in the same account: rejected profile (disposable email), FAILED brand (mobile cap)
    failed_profile = r.one(lambda: th.customer_profiles.create(
        friendly_name="Ann Lee Starter", email="ann@mailinator.com", policy_sid=c.STARTER_PROFILE_POLICY_SID),
        CustomerProfilesInstance, 201)
    ann = r.one(lambda: th.end_users.create(
        friendly_name="Ann Lee", type=c.STARTER_PROFILE_END_USER_TYPE,
        attributes={"first_name": "Ann", "last_name": "Lee", "email": "ann@mailinator.com",
                    "phone_number": "+14155550102"}), EndUserInstance, 201)
    ann_address = r.one(lambda: client.addresses.create(**{**GOOD_ADDRESS, "customer_name": "Ann Lee",
                                                           "street": "2 Jersey St"}), AddressInstance, 201)
    ann_document = r.one(lambda: th.supporting_documents.create(
        friendly_name="Ann Lee Address", type=c.ADDRESS_DOCUMENT_TYPE,
        attributes={"address_sids": ann_address.sid}), SupportingDocumentInstance, 201)
    for object_sid in (ann.sid, ann_document.sid, defaults.PRIMARY_CUSTOMER_PROFILE_SID):
        r.one(lambda: th.customer_profiles(failed_profile.sid).customer_profiles_entity_assignments.create(
            object_sid=object_sid), CustomerProfilesEntityAssignmentsInstance, 201)
    assert r.one(lambda: th.customer_profiles(failed_profile.sid).update(status="pending-review"),
                 CustomerProfilesInstance).status == "in-review"
    ann_trust = r.one(lambda: th.trust_products.create(
        friendly_name="Ann Lee Sole Proprietor A2P Trust Bundle", email="ann.lee@example.com",
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID), TrustProductsInstance, 201)
    ann_sp = r.one(lambda: th.end_users.create(
        friendly_name="Ann Lee Sole Proprietor", type=c.SOLE_PROPRIETOR_END_USER_TYPE,
        attributes={"brand_name": "Ann Lee", "mobile_phone_number": MOBILE_IN_THREE_BRANDS}), EndUserInstance, 201)
    for object_sid in (ann_sp.sid, failed_profile.sid):
        r.one(lambda: th.trust_products(ann_trust.sid).trust_products_entity_assignments.create(object_sid=object_sid),
              TrustProductsEntityAssignmentsInstance, 201)
    assert r.one(lambda: th.trust_products(ann_trust.sid).update(status="pending-review"),
                 TrustProductsInstance).status == "in-review"
    ann_brand = r.one(lambda: brands.create(customer_profile_bundle_sid=failed_profile.sid,
                                            a2p_profile_bundle_sid=ann_trust.sid,
                                            brand_type=c.BRAND_TYPE_SOLE_PROPRIETOR), BrandRegistrationInstance, 201)
    control.advance_clock(STEP)
    rejected = r.one(lambda: th.customer_profiles(failed_profile.sid).fetch(), CustomerProfilesInstance)
    assert rejected.status == "twilio-rejected" and rejected.errors[0]["code"] == 30701
    assert rejected.sid in [p.sid for p in r.many(lambda: th.customer_profiles.list(status="twilio-rejected"),
                                                  CustomerProfilesInstance)]
    ann_brand = r.one(lambda: brands(ann_brand.sid).fetch(), BrandRegistrationInstance)
    assert ann_brand.status == "FAILED" and ann_brand.errors and ann_brand.failure_reason
    listed = {b.sid: b.status for b in r.many(lambda: brands.list(), BrandRegistrationInstance)}
    assert listed == {brand.sid: "APPROVED", ann_brand.sid: "FAILED"}
    # the rejected bundle's own Email is fixed (FACTS.md remediation)
    fixed = r.one(lambda: th.customer_profiles(failed_profile.sid).update(email="ann.lee@example.com"),
                  CustomerProfilesInstance)
    assert (fixed.email, fixed.status) == ("ann.lee@example.com", "twilio-rejected")

    # paging: one record per page, following meta.next_page_url (absolute) to the end
    paged = r.many(lambda: th.customer_profiles.list(page_size=1), CustomerProfilesInstance)
    assert {p.sid for p in paged} == {profile.sid, failed_profile.sid}
    assert len(r.http.exchanges[-1].body["results"]) == 1 and r.http.exchanges[-1].body["meta"]["page"] >= 1

    # the campaign goes (the brand and the service then take a new one, which goes too), then its number,
    # then the service
    r.delete(lambda: campaigns(campaign.sid).delete())
    assert r.many(lambda: campaigns.list(), UsAppToPersonInstance) == []
    again = r.one(lambda: campaigns.create(brand_registration_sid=brand.sid, **CAMPAIGN), UsAppToPersonInstance, 201)
    assert again.sid != campaign.sid and again.campaign_status == "PENDING"
    r.delete(lambda: campaigns(again.sid).delete())
    r.delete(lambda: numbers(number["sid"]).delete())
    r.delete(lambda: msg.services(service.sid).delete())
    # a document no bundle uses may be deleted
    spare = r.one(lambda: th.supporting_documents.create(
        friendly_name="Spare", type=c.ADDRESS_DOCUMENT_TYPE, attributes={"address_sids": address.sid}),
        SupportingDocumentInstance, 201)
    r.delete(lambda: th.supporting_documents(spare.sid).delete())
    return r


# ---------------------------------------------------------------------------------------------
# Seed 001: the legacy brand, converted
# ---------------------------------------------------------------------------------------------
def seed_001_legacy_conversion(sandbox: SandboxProcess, control: SyncSandboxControl) -> Recorder:
    r = new_customer(sandbox, control)
    client, account_sid = r.client, r.client.account_sid
    th, msg = client.trusthub.v1, client.messaging.v1
    legacy = control.legacy_fixture(account_sid=account_sid, first_name="John", last_name="Doe",
                                    email="john.doe@example.com", phone_number="+14155550111",
                                    address={"street": "3 Jersey St", "city": "Boston", "region": "MA",
                                             "postal_code": "02215", "iso_country": "US"})
    profile = r.one(lambda: th.customer_profiles(legacy["customer_profile_sid"]).fetch(), CustomerProfilesInstance)
    assert profile.status == "twilio-approved"
    assert r.one(lambda: client.addresses(legacy["address_sid"]).fetch(), AddressInstance).street == "3 Jersey St"
    assert r.one(lambda: th.supporting_documents(legacy["supporting_document_sid"]).fetch(),
                 SupportingDocumentInstance).sid == legacy["supporting_document_sid"]
    trust = r.one(lambda: th.trust_products(legacy["trust_product_sid"]).fetch(), TrustProductsInstance)
    assert trust.status == "twilio-rejected" and trust.errors
    tp_assignments = th.trust_products(trust.sid).trust_products_entity_assignments
    assert [a.object_sid for a in r.many(lambda: tp_assignments.list(), TrustProductsEntityAssignmentsInstance)] == [
        profile.sid]
    brand = r.one(lambda: msg.brand_registrations(legacy["brand_sid"]).fetch(), BrandRegistrationInstance)
    assert brand.status == "FAILED"

    # complete the trust bundle, evaluate (compliant), resubmit
    sole_prop = r.one(lambda: th.end_users.create(
        friendly_name="John Doe Sole Proprietor", type=c.SOLE_PROPRIETOR_END_USER_TYPE,
        attributes={"brand_name": "John Doe", "vertical": "COMMUNICATION", "mobile_phone_number": MOBILE_001}),
        EndUserInstance, 201)
    r.one(lambda: tp_assignments.create(object_sid=sole_prop.sid), TrustProductsEntityAssignmentsInstance, 201)
    evaluation = r.one(lambda: th.trust_products(trust.sid).trust_products_evaluations.create(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID), TrustProductsEvaluationsInstance, 201)
    assert evaluation.status == "compliant"
    assert r.one(lambda: th.trust_products(trust.sid).update(status="pending-review"),
                 TrustProductsInstance).status == "in-review"

    # update the FAILED brand: 202, PENDING; then APPROVED, the OTP answered, VERIFIED
    brand = r.one(lambda: msg.brand_registrations(brand.sid).update(), BrandRegistrationInstance, 202)
    assert brand.status == "PENDING"
    control.advance_clock(STEP)
    brand = r.one(lambda: msg.brand_registrations(brand.sid).fetch(), BrandRegistrationInstance)
    assert (brand.status, brand.identity_status) == ("APPROVED", "UNVERIFIED")
    assert control.reply_otp(MOBILE_001, "YES")["accepted"]
    assert r.one(lambda: msg.brand_registrations(brand.sid).fetch(), BrandRegistrationInstance).identity_status == \
        "VERIFIED"

    # a campaign whose message flow names no opt-in: FAILED with errors[]
    service = r.one(lambda: msg.services.create(friendly_name="John Doe Plumbing"), ServiceInstance, 201)
    number = control.create_phone_number(account_sid)
    r.one(lambda: msg.services(service.sid).phone_numbers.create(phone_number_sid=number["sid"]),
          PhoneNumberInstance, 201)
    campaigns = msg.services(service.sid).us_app_to_person
    campaign = r.one(lambda: campaigns.create(
        brand_registration_sid=brand.sid, **{**CAMPAIGN, "message_flow": "Customers give us their number at the "
                                                                         "counter when they book a visit."}),
        UsAppToPersonInstance, 201)
    control.advance_clock(STEP)
    control.advance_clock(STEP)
    campaign = r.one(lambda: campaigns(campaign.sid).fetch(), UsAppToPersonInstance)
    assert campaign.campaign_status == "FAILED" and campaign.errors

    # edited (UpdateUsAppToPerson): back to review, errors cleared, then VERIFIED
    campaign = r.one(lambda: campaigns(campaign.sid).update(
        has_embedded_links=False, has_embedded_phone=False, message_samples=CAMPAIGN["message_samples"],
        message_flow=CAMPAIGN["message_flow"], description=CAMPAIGN["description"], age_gated=False,
        direct_lending=False, terms_and_conditions_url="https://johndoe.example.com/terms"), UsAppToPersonInstance)
    assert (campaign.campaign_status, campaign.errors) == ("PENDING", [])
    control.advance_clock(STEP)
    control.advance_clock(STEP)
    campaign = r.one(lambda: campaigns(campaign.sid).fetch(), UsAppToPersonInstance)
    assert (campaign.campaign_status, campaign.terms_and_conditions_url) == (
        "VERIFIED", "https://johndoe.example.com/terms")
    return r


def parent_account_lists(sandbox: SandboxProcess, control: SyncSandboxControl) -> Recorder:
    """The parent account (the ISV): its primary profile, and the empty lists of a fresh account."""
    r = recording_client(sandbox, defaults.PARENT_ACCOUNT_SID, defaults.PARENT_AUTH_TOKEN)
    th, msg = r.client.trusthub.v1, r.client.messaging.v1
    primary = r.one(lambda: th.customer_profiles(defaults.PRIMARY_CUSTOMER_PROFILE_SID).fetch(),
                    CustomerProfilesInstance)
    assert primary.status == "twilio-approved"
    # a subaccount read by its parent carries its auth token; the parent owns itself
    sub = control.create_subaccount(friendly_name="Customer 42")
    account = r.one(lambda: r.client.api.v2010.accounts(sub["sid"]).fetch(), AccountInstance)
    assert (account.auth_token, account.owner_account_sid, account.friendly_name) == (
        sub["auth_token"], defaults.PARENT_ACCOUNT_SID, "Customer 42")
    assert r.one(lambda: r.client.api.v2010.accounts(defaults.PARENT_ACCOUNT_SID).fetch(),
                 AccountInstance).owner_account_sid == defaults.PARENT_ACCOUNT_SID
    assert r.many(lambda: msg.brand_registrations.list(), BrandRegistrationInstance) == []
    assert r.many(lambda: th.trust_products.list(), TrustProductsInstance) == []
    assert r.many(lambda: r.client.addresses.list(), AddressInstance) == []
    return r


# ---------------------------------------------------------------------------------------------
# The async SDK (what the product's activities use): a new registration to a VERIFIED campaign
# ---------------------------------------------------------------------------------------------
async def async_new_registration(r: Recorder, control: SyncSandboxControl) -> None:
    client, account_sid = r.client, r.client.account_sid
    th, msg = client.trusthub.v1, client.messaging.v1
    assert (await r.one_async(lambda: th.policies(c.STARTER_PROFILE_POLICY_SID).fetch_async(),
                              PoliciesInstance)).sid == c.STARTER_PROFILE_POLICY_SID
    assert await r.many_async(lambda: th.customer_profiles.list_async(friendly_name="Kim Park Starter", limit=1),
                              CustomerProfilesInstance) == []
    profile = await r.one_async(lambda: th.customer_profiles.create_async(
        friendly_name="Kim Park Starter", email="kim.park@example.com", policy_sid=c.STARTER_PROFILE_POLICY_SID),
        CustomerProfilesInstance, 201)
    end_user = await r.one_async(lambda: th.end_users.create_async(
        friendly_name="Kim Park", type=c.STARTER_PROFILE_END_USER_TYPE,
        attributes={"first_name": "Kim", "last_name": "Park", "email": "kim.park@example.com",
                    "phone_number": "+14155550103"}), EndUserInstance, 201)
    end_user = await r.one_async(lambda: th.end_users(end_user.sid).update_async(
        attributes={**end_user.attributes, "last_name": "Park-Lee"}), EndUserInstance)
    assert await r.many_async(lambda: client.addresses.list_async(friendly_name="Kim Park", limit=1),
                              AddressInstance) == []
    address = await r.one_async(lambda: client.addresses.create_async(
        **{**GOOD_ADDRESS, "customer_name": "Kim Park", "street": "4 Jersey St"}, friendly_name="Kim Park"),
        AddressInstance, 201)
    await r.one_async(lambda: client.addresses(address.sid).update_async(postal_code="02215-4147"), AddressInstance)
    document = await r.one_async(lambda: th.supporting_documents.create_async(
        friendly_name="Kim Park Address", type=c.ADDRESS_DOCUMENT_TYPE, attributes={"address_sids": address.sid}),
        SupportingDocumentInstance, 201)
    assignments = th.customer_profiles(profile.sid).customer_profiles_entity_assignments
    for object_sid in (end_user.sid, document.sid, defaults.PRIMARY_CUSTOMER_PROFILE_SID):
        await r.one_async(lambda: assignments.create_async(object_sid=object_sid),
                          CustomerProfilesEntityAssignmentsInstance, 201)
    assert len(await r.many_async(lambda: assignments.list_async(), CustomerProfilesEntityAssignmentsInstance)) == 3
    evaluation = await r.one_async(lambda: th.customer_profiles(profile.sid).customer_profiles_evaluations.create_async(
        policy_sid=c.STARTER_PROFILE_POLICY_SID), CustomerProfilesEvaluationsInstance, 201)
    assert evaluation.status == "compliant"
    assert (await r.one_async(lambda: th.customer_profiles(profile.sid).update_async(status="pending-review"),
                              CustomerProfilesInstance)).status == "in-review"

    trust = await r.one_async(lambda: th.trust_products.create_async(
        friendly_name="Kim Park Sole Proprietor A2P Trust Bundle", email="kim.park@example.com",
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID), TrustProductsInstance, 201)
    sole_prop = await r.one_async(lambda: th.end_users.create_async(
        friendly_name="Kim Park Sole Proprietor", type=c.SOLE_PROPRIETOR_END_USER_TYPE,
        attributes={"brand_name": "Kim Park", "vertical": "PROFESSIONAL", "mobile_phone_number": MOBILE_ASYNC}),
        EndUserInstance, 201)
    tp_assignments = th.trust_products(trust.sid).trust_products_entity_assignments
    for object_sid in (sole_prop.sid, profile.sid):
        await r.one_async(lambda: tp_assignments.create_async(object_sid=object_sid),
                          TrustProductsEntityAssignmentsInstance, 201)
    [assigned] = await r.many_async(lambda: tp_assignments.list_async(object_type=c.SOLE_PROPRIETOR_END_USER_TYPE),
                                    TrustProductsEntityAssignmentsInstance)
    assert (await r.one_async(lambda: th.end_users(assigned.object_sid).fetch_async(),
                              EndUserInstance)).attributes["mobile_phone_number"] == MOBILE_ASYNC
    evaluation = await r.one_async(lambda: th.trust_products(trust.sid).trust_products_evaluations.create_async(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID), TrustProductsEvaluationsInstance, 201)
    assert evaluation.status == "compliant"
    assert (await r.one_async(lambda: th.trust_products(trust.sid).update_async(status="pending-review"),
                              TrustProductsInstance)).status == "in-review"

    brands = msg.brand_registrations
    brand = await r.one_async(lambda: brands.create_async(
        customer_profile_bundle_sid=profile.sid, a2p_profile_bundle_sid=trust.sid,
        brand_type=c.BRAND_TYPE_SOLE_PROPRIETOR), BrandRegistrationInstance, 201)
    assert [b.sid for b in await r.many_async(lambda: brands.list_async(page_size=1000),
                                              BrandRegistrationInstance)] == [brand.sid]
    control.advance_clock(STEP)
    brand = await r.one_async(lambda: brands(brand.sid).fetch_async(), BrandRegistrationInstance)
    assert (brand.status, brand.identity_status) == ("APPROVED", "UNVERIFIED")
    await r.one_async(lambda: brands(brand.sid).brand_registration_otps.create_async(),
                      BrandRegistrationOtpInstance, 201)
    assert control.reply_otp(MOBILE_ASYNC, "YES")["accepted"]
    assert (await r.one_async(lambda: brands(brand.sid).fetch_async(),
                              BrandRegistrationInstance)).identity_status == "VERIFIED"
    assert (await r.one_async(lambda: th.trust_products(trust.sid).fetch_async(),
                              TrustProductsInstance)).status == "twilio-approved"

    assert await r.many_async(lambda: msg.services.list_async(page_size=1000), ServiceInstance) == []
    service = await r.one_async(lambda: msg.services.create_async(friendly_name="Kim Park Tutoring"),
                                ServiceInstance, 201)
    numbers = msg.services(service.sid).phone_numbers
    assert await r.many_async(lambda: numbers.list_async(), PhoneNumberInstance) == []
    number = control.create_phone_number(account_sid)
    await r.one_async(lambda: numbers.create_async(phone_number_sid=number["sid"]), PhoneNumberInstance, 201)
    campaigns = msg.services(service.sid).us_app_to_person
    assert await r.many_async(lambda: campaigns.list_async(), UsAppToPersonInstance) == []
    campaign = await r.one_async(lambda: campaigns.create_async(brand_registration_sid=brand.sid, **CAMPAIGN),
                                 UsAppToPersonInstance, 201)
    control.advance_clock(STEP)
    control.advance_clock(STEP)
    campaign = await r.one_async(lambda: campaigns(campaign.sid).fetch_async(), UsAppToPersonInstance)
    assert campaign.campaign_status == "VERIFIED"
    assert (await r.one_async(lambda: msg.services(service.sid).fetch_async(),
                              ServiceInstance)).us_app_to_person_registered is True
    await r.delete_async(lambda: campaigns(campaign.sid).delete_async())


# ---------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------
def _operations(ops: list[Operation]) -> set[tuple[str, str]]:
    return {(op.method, op.path) for op in ops}


def test_sync_sdk_responses_conform(twilio_specs, sync_drive):
    """Every response of the sync drives validates, with no property the spec does not declare."""
    assert all(ex.status < 400 for ex in sync_drive.exchanges), [
        (ex.method, ex.url, ex.status, ex.body) for ex in sync_drive.exchanges if ex.status >= 400]
    ops = twilio_specs.assert_exchanges_conform(sync_drive.exchanges, forbid_unknown_properties=True)
    assert len(ops) == len(sync_drive.exchanges) > 100


async def test_async_sdk_responses_conform(twilio_specs, async_drive):
    assert all(ex.status < 400 for ex in async_drive.exchanges)
    ops = twilio_specs.assert_exchanges_conform(async_drive.exchanges, forbid_unknown_properties=True)
    assert len(_operations(ops)) >= 20, sorted(_operations(ops))


def test_every_operation_is_covered(twilio_specs, sync_drive, async_drive):
    """An endpoint silently dropped from the drives fails here, by name."""
    assert not PRODUCT_OPERATIONS & SANDBOX_EXTRA_OPERATIONS
    for method, template in PRODUCT_OPERATIONS | SANDBOX_EXTRA_OPERATIONS:  # the lists name real operations
        op = twilio_specs.find_operation(method, template)
        assert (op.method, op.path) == (method, template)
    exercised = _operations(twilio_specs.assert_exchanges_conform(sync_drive.exchanges))
    missing = sorted((PRODUCT_OPERATIONS | SANDBOX_EXTRA_OPERATIONS) - exercised)
    assert not missing, f"operations no sync SDK call exercised: {missing}"
    async_exercised = _operations(twilio_specs.assert_exchanges_conform(async_drive.exchanges))
    assert async_exercised <= PRODUCT_OPERATIONS, sorted(async_exercised - PRODUCT_OPERATIONS)
    assert {("GET", "/v1/Policies/{Sid}"), ("POST", "/v1/a2p/BrandRegistrations"),
            ("POST", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p"),
            ("POST", "/2010-04-01/Accounts/{AccountSid}/Addresses.json")} <= async_exercised


def test_requests_conform(twilio_specs, sync_drive, async_drive):
    """Every form the SDK sent names only parameters of its operation, all the required ones, each
    of its declared type — in particular the campaign update, the campaign delete, the profile's
    Email update and the account fetch."""
    exchanges = sync_drive.exchanges + async_drive.exchanges
    ops = twilio_specs.assert_requests_conform(exchanges)
    sent = {(op.method, op.path): ex.data for op, ex in zip(ops, exchanges)}
    update = sent[("POST", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/{Sid}")]
    assert {"HasEmbeddedLinks", "HasEmbeddedPhone", "MessageSamples", "MessageFlow", "Description", "AgeGated",
            "DirectLending"} <= set(update)
    assert sent[("DELETE", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/{Sid}")] is None
    assert sent[("GET", "/2010-04-01/Accounts/{Sid}.json")] is None
    assert any(ex.data and ex.data.get("Email") == "ann.lee@example.com" for ex in exchanges
               if ex.method == "POST" and ex.path.startswith("/v1/CustomerProfiles/"))


def test_the_brand_states_seen(sync_drive):
    """The drives saw the realistic states, not just happy-path creates."""
    def seen(collection: str, key: str) -> set:
        return {ex.body[key] for ex in sync_drive.exchanges
                if f"/{collection}" in ex.path and isinstance(ex.body, dict) and key in ex.body}
    assert {"PENDING", "APPROVED", "FAILED"} <= seen("BrandRegistrations", "status")
    assert {None, "UNVERIFIED", "VERIFIED"} <= seen("BrandRegistrations", "identity_status")
    assert {"draft", "in-review", "twilio-rejected", "twilio-approved"} <= seen("CustomerProfiles", "status") | \
        seen("TrustProducts", "status")
    assert {"PENDING", "IN_PROGRESS", "VERIFIED", "FAILED"} <= seen("Usa2p", "campaign_status")


def test_error_responses_are_twilio_error_json(twilio_specs, sandbox, control):
    """4xx/5xx answers are not in the specs; they must be Twilio's error envelope, and the SDK
    raises TwilioRestException carrying their code."""
    r = new_customer(sandbox, control)
    th, msg = r.client.trusthub.v1, r.client.messaging.v1
    expected = []

    def refused(call: Callable[[], Any], status: int, code: int) -> TwilioRestException:
        with pytest.raises(TwilioRestException) as info:
            call()
        assert (info.value.status, info.value.code) == (status, code), info.value
        expected.append((status, code))
        return info.value

    refused(lambda: th.customer_profiles("BU" + "0" * 32).fetch(), 404, 20404)
    refused(lambda: msg.brand_registrations("BN" + "0" * 32).update(), 404, 20404)
    refused(lambda: th.customer_profiles.create(friendly_name="x", email="", policy_sid=c.STARTER_PROFILE_POLICY_SID),
            400, 20001)
    empty = th.customer_profiles.create(friendly_name="Empty", email="e@example.com",
                                        policy_sid=c.STARTER_PROFILE_POLICY_SID)
    expected.append((201, None))
    assert "starter_customer_profile_information" in refused(
        lambda: th.customer_profiles(empty.sid).update(status="pending-review"), 400, 22215).msg
    refused(lambda: msg.brand_registrations.create(customer_profile_bundle_sid=empty.sid,
                                                   a2p_profile_bundle_sid=empty.sid,
                                                   brand_type=c.BRAND_TYPE_SOLE_PROPRIETOR), 400, 30793)
    control.set_config(campaign_updates_supported=False)
    try:
        refused(lambda: msg.services("MG" + "0" * 32).us_app_to_person("QE" + "0" * 32).update(
            has_embedded_links=False, has_embedded_phone=False, message_samples=CAMPAIGN["message_samples"],
            message_flow=CAMPAIGN["message_flow"], description=CAMPAIGN["description"], age_gated=False,
            direct_lending=False), 405, 20004)
    finally:
        control.set_config(campaign_updates_supported=True)
    control.set_faults(rate_429=1.0, path_regex=r"^/v1/Policies/", seed=1)
    try:
        refused(lambda: th.policies(c.STARTER_PROFILE_POLICY_SID).fetch(), 429, 20429)
        control.set_faults(rate_500=1.0, path_regex=r"^/v1/Policies/", seed=1)
        refused(lambda: th.policies(c.STARTER_PROFILE_POLICY_SID).fetch(), 500, 20500)
    finally:
        control.clear_faults()
    intruder = recording_client(sandbox, r.client.account_sid, "not-the-token")
    with pytest.raises(TwilioRestException) as info:
        intruder.client.trusthub.v1.customer_profiles(empty.sid).fetch()
    assert (info.value.status, info.value.code) == (401, 20003)

    exchanges = r.http.exchanges + intruder.http.exchanges
    assert [(ex.status, ex.body.get("code") if ex.status >= 400 else None) for ex in exchanges] == \
        expected + [(401, 20003)]
    twilio_specs.assert_exchanges_conform(exchanges, allow_error_status=True, forbid_unknown_properties=True)
    for ex in exchanges:
        if ex.status >= 400:
            assert ex.body["more_info"].endswith(str(ex.body["code"])) and ex.body["message"]
    with pytest.raises(AssertionError, match="HTTP 404 is not a documented response"):
        twilio_specs.assert_exchanges_conform(exchanges[:1])  # without the opt-in, an error is a violation
