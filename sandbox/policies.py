"""Trust Hub policies the sandbox knows, as ``GET /v1/Policies/{RN}`` serves them (ENDPOINTS.md 2.8),
and the evaluation of a bundle against them.

An evaluation really checks the bundle's assignments: each policy requirement yields one item of
``results[]`` shaped like the seed's example (``requirement_name``, ``requirement_friendly_name``,
``object_type``, ``friendly_name``, ``passed``, ``failure_reason``, ``error_code``, ``valid[]``,
``invalid[]``; each field entry has ``object_field``, ``friendly_name``, ``passed``,
``failure_reason``, ``error_code``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from a2p import constants as c

from . import scenarios

if TYPE_CHECKING:
    from .core import Sandbox

PRIMARY_PROFILE_POLICY_SID = "RN" + "b0b15e55" * 4   # sandbox stand-in for the ISV's primary profile policy

POLICIES: dict[str, dict] = {
    c.STARTER_PROFILE_POLICY_SID: {
        "friendly_name": "Starter Customer Profile of type Business",
        "requirements": {
            "end_user": [{
                "url": "/EndUserTypes/starter_customer_profile_information",
                "fields": ["first_name", "last_name", "email", "phone_number"],
                "type": "starter_customer_profile_information",
                "name": "Information",
                "requirement_name": "starter_customer_profile_information",
            }],
            "supporting_trust_products": [],
            "supporting_document": [[{
                "description": "Customer Profile Address",
                "type": "document",
                "name": "Customer Profile Address",
                "accepted_documents": [
                    {"url": "/SupportingDocumentTypes/customer_profile_address", "fields": ["address_sids"],
                     "type": "customer_profile_address", "name": "Legal Company Address"},
                    {"url": "/SupportingDocumentTypes/starter_customer_profile_address", "fields": ["address_sids"],
                     "type": "starter_customer_profile_address", "name": "Legal Company Address"},
                ],
                "requirement_name": "customer_profile_address",
            }]],
            "supporting_customer_profiles": [{
                "type": "primary_customer_profile_type_business",
                "name": "Primary Customer Profile Bundle",
                "requirement_name": "primary_customer_profile",
            }],
        },
    },
    c.SOLE_PROPRIETOR_TRUST_POLICY_SID: {
        "friendly_name": "Sole Proprietor TrustProduct",
        "requirements": {
            "end_user": [{
                "url": "/EndUserTypes/sole_proprietor_information",
                "fields": ["brand_name", "mobile_phone_number", "vertical"],
                "type": "sole_proprietor_information",
                "name": "Sole Proprietor Information",
                "requirement_name": "sole_proprietor_information",
            }],
            "supporting_trust_products": [],
            "supporting_document": [[]],
            "supporting_customer_profiles": [
                {"type": "starter_customer_profile_type_business",
                 "name": "Starter Customer Profile(isv customers) Proof", "requirement_name": "customer_profile"},
                {"type": "starter_customer_profile_type_direct_long_tail",
                 "name": "Starter Customer Profile(direct customers) Proof", "requirement_name": "customer_profile"},
            ],
        },
    },
    PRIMARY_PROFILE_POLICY_SID: {
        "friendly_name": "Primary Customer Profile of type Business",
        "requirements": {
            "end_user": [{
                "url": "/EndUserTypes/customer_profile_business_information",
                "fields": ["business_type", "business_registration_number", "business_name",
                           "business_registration_identifier", "business_identity", "business_industry",
                           "website_url", "business_regions_of_operation", "social_media_profile_urls"],
                "type": "customer_profile_business_information",
                "name": "Business Information",
                "requirement_name": "customer_profile_business_information",
            }],
            "supporting_trust_products": [],
            "supporting_document": [[{
                "description": "Customer Profile HQ Physical Address", "type": "document",
                "name": "Physical Business Address",
                "accepted_documents": [{"url": "/SupportingDocumentTypes/customer_profile_address",
                                        "fields": ["address_sids"], "type": "customer_profile_address",
                                        "name": "Physical Business Address"}],
                "requirement_name": "customer_profile_address",
            }]],
            "supporting_customer_profiles": [],
        },
    },
}

CUSTOMER_PROFILE_POLICIES = frozenset({c.STARTER_PROFILE_POLICY_SID, PRIMARY_PROFILE_POLICY_SID})
TRUST_PRODUCT_POLICIES = frozenset({c.SOLE_PROPRIETOR_TRUST_POLICY_SID})

ADDRESS_DOCUMENT_TYPES = frozenset({c.ADDRESS_DOCUMENT_TYPE, "starter_customer_profile_address"})
END_USER_TYPES = frozenset({
    c.STARTER_PROFILE_END_USER_TYPE, c.SOLE_PROPRIETOR_END_USER_TYPE, "customer_profile_business_information",
    "authorized_representative_1", "authorized_representative_2", "us_a2p_messaging_profile_information",
    "individual", "business",
})
SUPPORTING_DOCUMENT_TYPES = ADDRESS_DOCUMENT_TYPES | frozenset({"business_registration", "government_issued_document"})

FIELD_NAMES = {
    "first_name": "First Name", "last_name": "Last Name", "email": "Email Address", "phone_number": "Phone Number",
    "brand_name": "Brand Name", "mobile_phone_number": "Mobile Phone Number", "vertical": "Vertical",
    "address_sids": "address sids", "bundle_sid": "Supporting Bundle Status",
}
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")

MISSING_OBJECT = 22216
MISSING_END_USER = 22214
MISSING_FIELD = 22215
INVALID_FIELD = 22217
MISSING_ADDRESS = 22219


def _field(name: str, failure: str | None = None, code: int | None = None) -> dict:
    return {"object_field": name, "friendly_name": FIELD_NAMES.get(name, name), "passed": failure is None,
            "failure_reason": failure, "error_code": code if failure else None}


def _requirement(name: str, friendly: str, object_type: str, object_friendly: str, fields: list[dict],
                 failure: str | None = None, code: int | None = None) -> dict:
    invalid = [f for f in fields if not f["passed"]]
    if failure is None and invalid:
        failure = invalid[0]["failure_reason"]
        code = invalid[0]["error_code"]
    return {
        "requirement_name": name, "requirement_friendly_name": friendly, "object_type": object_type,
        "friendly_name": object_friendly, "passed": failure is None, "failure_reason": failure,
        "error_code": code if failure else None,
        "valid": [f for f in fields if f["passed"]], "invalid": invalid,
    }


def _assigned(sb: "Sandbox", bundle_sid: str) -> list[str]:
    return [a["object_sid"] for a in sb.store.find("entity_assignments", "bundle_sid", bundle_sid)]


def _end_user_requirement(sb: "Sandbox", bundle: dict, objects: list[str], end_user_type: str, name: str,
                          friendly: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    end_user = next((eu for sid in objects if (eu := sb.store.get("end_users", sid)) and eu["type"] == end_user_type),
                    None)
    if end_user is None:
        fields = [_field(f, f"The {FIELD_NAMES[f]} is missing. Please enter in a {FIELD_NAMES[f]} on the "
                            f"{friendly}.", MISSING_FIELD) for f in required]
        return _requirement(name, friendly, end_user_type, friendly, fields,
                            f"A {friendly} End-User is missing. Please add one to the regulatory bundle.",
                            MISSING_END_USER)
    attributes = end_user.get("attributes") or {}
    fields = []
    for f in required:
        value = attributes.get(f)
        if value is None or (isinstance(value, str) and not value.strip()):
            fields.append(_field(f, f"The {FIELD_NAMES[f]} is missing. Please enter in a {FIELD_NAMES[f]} on the "
                                    f"{friendly}.", MISSING_FIELD))
        elif f in ("mobile_phone_number", "phone_number") and not E164_RE.match(str(value)):
            fields.append(_field(f, f"The {FIELD_NAMES[f]} {value!r} is invalid. Please enter it in E.164 format, "
                                    "e.g. +14155550100.", INVALID_FIELD))
        else:
            fields.append(_field(f))
    for f in optional:
        value = attributes.get(f)
        if value in (None, ""):
            continue
        if f == "vertical" and value not in c.VERTICALS:
            fields.append(_field(f, f"The Vertical {value!r} is invalid. Use one of: {', '.join(c.VERTICALS)}.",
                                 INVALID_FIELD))
        else:
            fields.append(_field(f))
    return _requirement(name, friendly, end_user_type, friendly, fields)


def _address_requirement(sb: "Sandbox", bundle: dict, objects: list[str]) -> dict:
    name, friendly, object_friendly = "customer_profile_address", "Customer Profile Address", "Legal Company Address"
    document = next((d for sid in objects if (d := sb.store.get("supporting_documents", sid))
                     and d["type"] in ADDRESS_DOCUMENT_TYPES), None)
    if document is None:
        return _requirement(name, friendly, c.ADDRESS_DOCUMENT_TYPE, object_friendly,
                            [_field("address_sids", "The Address is missing. Please add a Customer Profile Address "
                                                    "document with address_sids.", MISSING_ADDRESS)],
                            "A Customer Profile Address is missing. Please add one to the regulatory bundle.",
                            MISSING_OBJECT)
    sids = address_sids(document)
    if not sids:
        fields = [_field("address_sids", "The Address is missing. Please enter address_sids on the Customer Profile "
                                         "Address document.", MISSING_ADDRESS)]
    else:
        unknown = [s for s in sids if not _owned_address(sb, s, bundle["account_sid"])]
        fields = [_field("address_sids", f"{scenarios.address_not_found(unknown[0])}.", INVALID_FIELD)
                  if unknown else _field("address_sids")]
    return _requirement(name, friendly, document["type"], object_friendly, fields)


def _owned_address(sb: "Sandbox", sid: str, account_sid: str) -> dict | None:
    address = sb.store.get("addresses", sid)
    return address if address and address["account_sid"] == account_sid else None


def address_sids(document: dict) -> list[str]:
    value = (document.get("attributes") or {}).get("address_sids")
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(value, list):
        return [str(s) for s in value]
    return []


def _bundle_requirement(sb: "Sandbox", objects: list[str], name: str, friendly: str, object_type: str,
                        object_friendly: str, accept) -> dict:
    bundles = [b for sid in objects if (b := sb.store.get("customer_profiles", sid))]
    if not bundles:
        return _requirement(name, friendly, object_type, object_friendly,
                            [_field("bundle_sid", f"The {object_friendly} is missing.", MISSING_FIELD)],
                            f"A {object_friendly} is missing. Please add one to the regulatory bundle.", MISSING_OBJECT)
    problems = [p for b in bundles if (p := accept(b))]
    if len(problems) == len(bundles):
        return _requirement(name, friendly, object_type, object_friendly,
                            [_field("bundle_sid", problems[0], INVALID_FIELD)])
    return _requirement(name, friendly, object_type, object_friendly, [_field("bundle_sid")])


def evaluate(sb: "Sandbox", bundle: dict, policy_sid: str) -> tuple[str, list[dict]]:
    """Evaluate ``bundle`` against ``policy_sid``: ``("compliant"|"noncompliant", results)``."""
    objects = _assigned(sb, bundle["sid"])
    results: list[dict]
    if policy_sid == c.STARTER_PROFILE_POLICY_SID:
        def primary_ok(b: dict) -> str | None:
            if b["policy_sid"] != PRIMARY_PROFILE_POLICY_SID:
                return f"{b['sid']} is not a Primary Customer Profile."
            if b["status"] != "twilio-approved":
                return f"The Primary Customer Profile {b['sid']} is {b['status']}, not twilio-approved."
            return None

        results = [
            _end_user_requirement(sb, bundle, objects, c.STARTER_PROFILE_END_USER_TYPE,
                                  "starter_customer_profile_information", "Starter Customer Profile Information",
                                  ("first_name", "last_name", "email", "phone_number")),
            _address_requirement(sb, bundle, objects),
            _bundle_requirement(sb, objects, "primary_customer_profile", "Primary Customer Profile",
                                "primary_customer_profile_type_business", "Primary Customer Profile Bundle",
                                primary_ok),
        ]
    elif policy_sid == c.SOLE_PROPRIETOR_TRUST_POLICY_SID:
        def starter_ok(b: dict) -> str | None:
            if b["policy_sid"] != c.STARTER_PROFILE_POLICY_SID or b["account_sid"] != bundle["account_sid"]:
                return f"{b['sid']} is not a Starter Customer Profile of this account."
            return None

        results = [
            _end_user_requirement(sb, bundle, objects, c.SOLE_PROPRIETOR_END_USER_TYPE, "sole_proprietor_information",
                                  "Sole Proprietor Information", ("brand_name", "mobile_phone_number"),
                                  optional=("vertical",)),
            _bundle_requirement(sb, objects, "customer_profile", "Starter Customer Profile",
                                "starter_customer_profile_type_business",
                                "Starter Customer Profile(isv customers) Proof", starter_ok),
        ]
    else:
        results = [_requirement("policy", "Policy", "policy", "Policy", [],
                                f"The sandbox cannot evaluate bundles against policy {policy_sid}.", MISSING_OBJECT)]
    status = "compliant" if all(r["passed"] for r in results) else "noncompliant"
    return status, results


def first_failure(results: list[dict]) -> str:
    failed = next(r for r in results if not r["passed"])
    return f"{failed['requirement_friendly_name']} ({failed['requirement_name']}): {failed['failure_reason']}"
