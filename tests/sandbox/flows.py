"""The seed's API sequences as small building blocks, made with the real twilio SDK."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from twilio.rest import Client

from a2p import constants as c
from sandbox import defaults

GOOD_ADDRESS = {"customer_name": "Jane Doe", "street": "1 Jersey St", "city": "Boston", "region": "MA",
                "postal_code": "02215", "iso_country": "US"}
CAMPAIGN = {
    "description": "Appointment reminders and updates sent by Jane Doe Hair Studio to clients who booked online.",
    "message_flow": "Clients opt in by checking an unchecked consent box when booking at janedoe.example.com/book; "
                    "terms at janedoe.example.com/terms.",
    "message_samples": ["Jane Doe Hair Studio: your appointment is tomorrow at [time]. Reply STOP to opt out.",
                        "Jane Doe Hair Studio: we moved your appointment to [date]. Reply HELP for help."],
    "us_app_to_person_usecase": c.CAMPAIGN_USECASE_SOLE_PROPRIETOR,
    "has_embedded_links": False,
    "has_embedded_phone": False,
}


_serial = itertools.count(100)


def unique_email() -> str:
    """TCR caps emails (10 brands) and addresses (10 brands) across the whole sandbox: vary them."""
    return f"jane.doe+{next(_serial)}@example.com"


def unique_address() -> dict:
    return {**GOOD_ADDRESS, "street": f"{next(_serial)} Jersey St"}


def last_json(client: Client) -> Any:
    """The raw JSON body of the client's last response (for what the SDK's instance does not show)."""
    return json.loads(client.http_client._test_only_last_response.text)


@dataclass
class Customer:
    profile_sid: str = ""
    end_user_sid: str = ""
    address_sid: str = ""
    document_sid: str = ""
    trust_sid: str = ""
    sole_prop_sid: str = ""
    brand_sid: str = ""
    mobile: str = ""
    assignments: list[str] = field(default_factory=list)


def starter_profile(client: Client, customer: Customer, *, email: str | None = None,
                    address: dict | None = None, status_callback: str | None = None, submit: bool = True,
                    first_name: str = "Jane") -> Customer:
    """Seed 000 section 1: profile, end user, address, document, 3 assignments, evaluation, submission."""
    th = client.trusthub.v1
    email = email or unique_email()
    profile = th.customer_profiles.create(friendly_name=f"{first_name} Doe Starter Customer Profile", email=email,
                                          policy_sid=c.STARTER_PROFILE_POLICY_SID, status_callback=status_callback)
    customer.profile_sid = profile.sid
    end_user = th.end_users.create(friendly_name="Starter Profile End User", type=c.STARTER_PROFILE_END_USER_TYPE,
                                   attributes={"first_name": first_name, "last_name": "Doe", "email": email,
                                               "phone_number": "+14155550100"})
    customer.end_user_sid = end_user.sid
    addr = client.addresses.create(**(address or unique_address()))
    customer.address_sid = addr.sid
    document = th.supporting_documents.create(friendly_name="SP Document Address", type=c.ADDRESS_DOCUMENT_TYPE,
                                              attributes={"address_sids": addr.sid})
    customer.document_sid = document.sid
    for object_sid in (end_user.sid, document.sid, defaults.PRIMARY_CUSTOMER_PROFILE_SID):
        customer.assignments.append(
            th.customer_profiles(profile.sid).customer_profiles_entity_assignments.create(object_sid=object_sid).sid)
    evaluation = th.customer_profiles(profile.sid).customer_profiles_evaluations.create(
        policy_sid=c.STARTER_PROFILE_POLICY_SID)
    assert evaluation.status == "compliant", evaluation.results
    if submit:
        assert th.customer_profiles(profile.sid).update(status="pending-review").status == "in-review"
    return customer


def trust_product(client: Client, customer: Customer, *, mobile: str, brand_name: str = "Jane Doe",
                  vertical: str | None = "RETAIL", status_callback: str | None = None, submit: bool = True) -> Customer:
    """Seed 000 section 2: trust product, sole proprietor end user, 2 assignments, evaluation, submission."""
    th = client.trusthub.v1
    trust = th.trust_products.create(friendly_name="Jane Doe Sole Proprietor A2P Trust Bundle",
                                     email="jane.doe@example.com", policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID,
                                     status_callback=status_callback)
    customer.trust_sid = trust.sid
    attributes = {"brand_name": brand_name, "mobile_phone_number": mobile}
    if vertical:
        attributes["vertical"] = vertical
    sole_prop = th.end_users.create(friendly_name="Sole Proprietor A2P Trust Bundle End User",
                                    type=c.SOLE_PROPRIETOR_END_USER_TYPE, attributes=attributes)
    customer.sole_prop_sid = sole_prop.sid
    customer.mobile = mobile
    for object_sid in (sole_prop.sid, customer.profile_sid):
        th.trust_products(trust.sid).trust_products_entity_assignments.create(object_sid=object_sid)
    evaluation = th.trust_products(trust.sid).trust_products_evaluations.create(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID)
    assert evaluation.status == "compliant", evaluation.results
    if submit:
        assert th.trust_products(trust.sid).update(status="pending-review").status == "in-review"
    return customer


def brand(client: Client, customer: Customer, *, mock: bool = False) -> Customer:
    created = client.messaging.v1.brand_registrations.create(
        customer_profile_bundle_sid=customer.profile_sid, a2p_profile_bundle_sid=customer.trust_sid,
        brand_type=c.BRAND_TYPE_SOLE_PROPRIETOR, mock=mock)
    assert created.status == "PENDING"
    customer.brand_sid = created.sid
    return customer


def registered(client: Client, mobile: str, **profile_kwargs: Any) -> Customer:
    """Profile + trust product + brand, submitted (the brand still PENDING)."""
    customer = starter_profile(client, Customer(), **profile_kwargs)
    trust_product(client, customer, mobile=mobile)
    return brand(client, customer)


async def verified(account: Any, control: Any, mobile: str) -> Customer:
    """Profile + trust product + brand, reviewed (sandbox clock advanced) and OTP-confirmed: VERIFIED."""
    customer = registered(account.client, mobile)
    await control.advance_clock(4)
    assert (await control.reply_otp(mobile))["accepted"]
    return customer


def service_with_number(account: Any, number_sid: str) -> Any:
    """A messaging service of ``account`` holding the number ``number_sid``."""
    msg = account.client.messaging.v1
    service = msg.services.create(friendly_name="Campaign test")
    msg.services(service.sid).phone_numbers.create(phone_number_sid=number_sid)
    return service
