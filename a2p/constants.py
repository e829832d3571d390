"""Fixed facts of Twilio's A2P 10DLC Sole Proprietor registration (seeds 000 and 001, FACTS.md)."""

from __future__ import annotations

import re
from typing import Final

# Trust Hub policies (seed 000, steps 1.1 and 2.1).
STARTER_PROFILE_POLICY_SID: Final = "RN806dd6cd175f314e1f96a9727ee271f4"
SOLE_PROPRIETOR_TRUST_POLICY_SID: Final = "RN670d5d2e282a6130ae063b234b6019c8"

# Trust Hub object types.
STARTER_PROFILE_END_USER_TYPE: Final = "starter_customer_profile_information"
SOLE_PROPRIETOR_END_USER_TYPE: Final = "sole_proprietor_information"
ADDRESS_DOCUMENT_TYPE: Final = "customer_profile_address"

BRAND_TYPE_SOLE_PROPRIETOR: Final = "SOLE_PROPRIETOR"
CAMPAIGN_USECASE_SOLE_PROPRIETOR: Final = "SOLE_PROPRIETOR"

# The number that sends the OTP and to which the customer replies YES (seed 000, 3.1).
OTP_SENDER: Final = "+19152782000"
OTP_MESSAGE: Final = (
    "Please confirm your registration for US A2P Messaging by replying YES. "
    "Msg & data rates may apply."
)
OTP_CONFIRMATION: Final = "Thank you. Your registration has been confirmed."

# Verticals accepted in sole_proprietor_information (seed 001, 1.3).
VERTICALS: Final = (
    "AGRICULTURE", "COMMUNICATION", "CONSTRUCTION", "EDUCATION", "ENERGY",
    "ENTERTAINMENT", "FINANCIAL", "GAMBLING", "GOVERNMENT", "HEALTHCARE",
    "HOSPITALITY", "HUMAN_RESOURCES", "INSURANCE", "LEGAL", "MANUFACTURING",
    "NGO", "POLITICAL", "POSTAL", "PROFESSIONAL", "REAL_ESTATE", "RETAIL",
    "TECHNOLOGY", "TRANSPORTATION",
)

# Statuses (FACTS.md, ENDPOINTS.md section 1).
BUNDLE_STATUSES: Final = ("draft", "pending-review", "in-review", "twilio-rejected", "twilio-approved")
BRAND_STATUSES: Final = (
    "PENDING", "APPROVED", "FAILED", "IN_REVIEW", "DELETION_PENDING", "DELETION_FAILED",
    "SUSPENDED", "EXPIRED",
)
IDENTITY_STATUSES: Final = ("SELF_DECLARED", "UNVERIFIED", "VERIFIED", "VETTED_VERIFIED")
CAMPAIGN_STATUSES: Final = ("PENDING", "IN_PROGRESS", "VERIFIED", "FAILED", "SUSPENDED")

# TCR lifetime reuse caps (FACTS.md).
MAX_BRANDS_PER_MOBILE: Final = 3
MAX_BRANDS_PER_EMAIL: Final = 10
MAX_BRANDS_PER_ADDRESS: Final = 10
MAX_BRAND_UPDATES: Final = 3

OTP_RESEND_RATE_PER_SECOND: Final = 10

SID_RE: Final = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def is_sid(value: str, prefix: str) -> bool:
    return bool(SID_RE.match(value)) and value.startswith(prefix)


# Twilio error codes we explain to a person (FACTS.md).
ERROR_EXPLANATIONS: Final[dict[int, str]] = {
    20404: "The resource does not exist (wrong SID, or another account's).",
    20429: "Too many requests: Twilio did not process this one; it is retried with backoff.",
    20004: "Twilio does not allow this operation on this resource (HTTP 405).",
    21724: "Brand update count exceeded: the 3 self-service updates or resubmissions are used up; "
           "only Twilio Support can resubmit the brand.",
    21725: "A brand may be updated only while it is FAILED.",
    22204: "Status and other bundle properties cannot be changed in one request.",
    30701: "The profile's email or address was not accepted: correct it and resubmit.",
    30712: "Maximum registrations reached: the mobile number (3 brands), email (10) or address (10) has been used up at TCR; use another.",
    30751: "The mobile number is not a supported US/Canadian mobile number.",
    30752: "The OTP is invalid or expired: re-send it and ask the customer to reply YES.",
    30791: "A temporary error at The Campaign Registry: nothing to correct; wait 30 s, then `decide retry` "
           "resubmits the brand (one of its 3 updates).",
    30793: "The bundle SIDs are wrong or transposed.",
    30896: "Campaign opt-in details are missing.",
    30897: "The campaign's message flow is not acceptable.",
    30914: "The campaign name does not match the sole proprietor's name.",
    60723: "Brand status does not allow updates: fix and resubmit the customer profile or trust bundle first, "
           "or the brand is not editable.",
    60724: "Brand status does not allow dismissal.",
}


def explain(code: int | None) -> str | None:
    return ERROR_EXPLANATIONS.get(code) if code is not None else None
