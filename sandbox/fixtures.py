"""Fixtures for states the public API cannot create, e.g. seed 001's legacy customers.

``legacy_customer`` builds what Twilio left behind for a customer registered before October 2022:
a ``twilio-approved`` Starter customer profile (end user, address, address document, primary
profile assigned), the converted Sole Proprietor trust product (same policy as a new one, in
``trust_bundle_status`` — ``twilio-rejected`` by default — with the starter profile assigned and, if
asked, an already-assigned ``sole_proprietor_information`` end user) and the converted legacy
SOLE_PROPRIETOR brand in ``brand_status`` (``FAILED`` by default) with no mobile number yet.
Updating that brand after the trust bundle got its end user and was resubmitted goes
PENDING -> APPROVED -> OTP like a new one.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from a2p import constants as c
from pydantic import BaseModel, ConfigDict, Field

from . import defaults, errors, trusthub
from .brands import brand_error, new_brand, schedule_review
from .core import new_sid

if TYPE_CHECKING:
    from .core import Sandbox


class LegacyAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_name: str | None = None
    street: str = "1 Jersey St"
    street_secondary: str | None = None
    city: str = "Boston"
    region: str = "MA"
    postal_code: str = "02215"
    iso_country: str = "US"


class LegacyFixture(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_sid: str | None = None
    first_name: str = "Jane"
    last_name: str = "Doe"
    email: str = "jane.doe@example.com"
    phone_number: str = "+14155550100"
    address: LegacyAddress = Field(default_factory=LegacyAddress)
    brand_status: str = "FAILED"
    trust_bundle_status: str = "twilio-rejected"
    with_sole_proprietor_end_user: bool = False
    brand_name: str | None = None
    mobile_phone_number: str | None = None
    vertical: str | None = None
    status_callback: str | None = None


LEGACY_TRUST_REASON = ("Legacy A2P Starter Trust Bundle converted to a Sole Proprietor A2P Trust Bundle: "
                       "sole_proprietor_information (brand name, mobile number) is missing")
LEGACY_BRAND_REASON = ("Legacy Starter brand converted to a Sole Proprietor brand: complete the Sole Proprietor A2P "
                       "trust bundle, resubmit it, then update this brand and verify the OTP")


def legacy_customer(sb: "Sandbox", spec: LegacyFixture) -> dict:
    account_sid = spec.account_sid or defaults.PARENT_ACCOUNT_SID
    if sb.store.get("accounts", account_sid) is None:
        raise ValueError(f"unknown account {account_sid}")
    if spec.brand_status not in c.BRAND_STATUSES:
        raise ValueError(f"brand_status must be one of {', '.join(c.BRAND_STATUSES)}")
    if spec.trust_bundle_status not in c.BUNDLE_STATUSES:
        raise ValueError(f"trust_bundle_status must be one of {', '.join(c.BUNDLE_STATUSES)}")
    now = sb.now()
    name = f"{spec.first_name} {spec.last_name}"

    def item(kind: str, prefix: str, type_: str, friendly: str, attributes: dict, **extra) -> dict:
        return sb.store.put(kind, {"sid": new_sid(prefix), "account_sid": account_sid, "friendly_name": friendly,
                                   "type": type_, "attributes": attributes, "date_created": now,
                                   "date_updated": now, **extra})

    def assign(bundle: dict, kind: str, object_sid: str) -> str:
        return sb.store.put("entity_assignments", {
            "sid": new_sid("BV"), "account_sid": account_sid, "bundle_sid": bundle["sid"], "bundle_kind": kind,
            "object_sid": object_sid, "date_created": now})["sid"]

    profile = trusthub.new_bundle(sb, trusthub.CP, account_sid, friendly_name=f"{name} Starter Customer Profile",
                                  email=spec.email, policy_sid=c.STARTER_PROFILE_POLICY_SID,
                                  status_callback=spec.status_callback, status="twilio-approved")
    end_user = item("end_users", "IT", c.STARTER_PROFILE_END_USER_TYPE, f"{name} Starter Profile End User",
                    {"first_name": spec.first_name, "last_name": spec.last_name, "email": spec.email,
                     "phone_number": spec.phone_number})
    address_data = spec.address.model_dump()
    address_data["customer_name"] = address_data["customer_name"] or name
    address = sb.store.put("addresses", {"sid": new_sid("AD"), "account_sid": account_sid, **address_data,
                                         "friendly_name": None, "emergency_enabled": False,
                                         "auto_correct_address": True, "date_created": now, "date_updated": now})
    document = item("supporting_documents", "RD", c.ADDRESS_DOCUMENT_TYPE, f"{name} Address",
                    {"address_sids": address["sid"]}, status="APPROVED", mime_type=None)
    profile_assignments = [assign(profile, trusthub.CP, sid)
                           for sid in (end_user["sid"], document["sid"], defaults.PRIMARY_CUSTOMER_PROFILE_SID)]
    profile["submissions"] = 1
    sb.store.put(trusthub.CP, profile)

    trust = trusthub.new_bundle(sb, trusthub.TP, account_sid, friendly_name=f"{name} Sole Proprietor A2P Trust Bundle",
                                email=spec.email, policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID,
                                status_callback=spec.status_callback, status=spec.trust_bundle_status)
    trust["submissions"] = 1
    if spec.trust_bundle_status == "twilio-rejected":
        trust.update(errors=[{"code": errors.BRAND_INVALID_INPUT, "message": LEGACY_TRUST_REASON}],
                     failure_reason=LEGACY_TRUST_REASON)
    sb.store.put(trusthub.TP, trust)
    trust_assignments = [assign(trust, trusthub.TP, profile["sid"])]
    sole_prop = None
    if spec.with_sole_proprietor_end_user:
        attributes = {"brand_name": spec.brand_name or name, "mobile_phone_number": spec.mobile_phone_number or ""}
        if spec.vertical:
            attributes["vertical"] = spec.vertical
        sole_prop = item("end_users", "IT", c.SOLE_PROPRIETOR_END_USER_TYPE, f"{name} Sole Proprietor End User",
                         attributes)
        trust_assignments.append(assign(trust, trusthub.TP, sole_prop["sid"]))

    failed = spec.brand_status == "FAILED"
    brand = new_brand(
        sb, account_sid, profile["sid"], trust["sid"], brand_type=c.BRAND_TYPE_SOLE_PROPRIETOR, legacy=True,
        status=spec.brand_status, identity_status=None if spec.brand_status == "PENDING" else "UNVERIFIED",
        tcr_id="B" + hashlib.sha1(profile["sid"].encode()).hexdigest()[:6].upper(),
        errors=[brand_error(errors.BRAND_INVALID_INPUT, LEGACY_BRAND_REASON, ["mobile_phone_number"])] if failed else [],
        failure_reason=LEGACY_BRAND_REASON if failed else None,
        failed_marker={"cp": 1, "tp": 1} if failed else None,
    )
    if spec.brand_status == "PENDING":
        schedule_review(sb, brand)
    return {
        "account_sid": account_sid, "customer_profile_sid": profile["sid"], "end_user_sid": end_user["sid"],
        "address_sid": address["sid"], "supporting_document_sid": document["sid"],
        "customer_profile_assignment_sids": profile_assignments, "trust_product_sid": trust["sid"],
        "trust_product_assignment_sids": trust_assignments,
        "sole_proprietor_end_user_sid": sole_prop["sid"] if sole_prop else None, "brand_sid": brand["sid"],
    }
