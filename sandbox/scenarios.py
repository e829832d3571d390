"""Deterministic failure scenarios: which inputs make the sandbox reject, fail or refuse.

Everything not listed here passes. Normal fictional data — names, ``+1 415 555 01xx`` numbers,
``@example.com`` emails, ``1 Jersey St, Boston, MA 02215, US`` — goes through to VERIFIED.

Starter customer profile review (asynchronous, ``profile_review_seconds`` after submission; the
profile becomes ``twilio-rejected``, the reason goes to the status callback's ``FailureReason`` and to
``errors[]`` as ``{"code": 30701, "message": reason}``). The end user's ``email`` and the bundle's
``Email`` are both checked, then every address of the address document:

=========================================================  ==========================================================
Input                                                      Failure reason
=========================================================  ==========================================================
email without exactly one ``@`` or with a malformed domain  ``Email domain has an invalid address syntax.``
  (``john@@example.com``, ``john@example``, ``john@-x-.com``)
email domain ending in ``.invalid`` or ``.unknown``         ``Unknown email domain.``
  (``john@nowhere.invalid``)
disposable domain: ``disposable.test``, ``mailinator.com``,  ``Email is a suspected disposable address.``
  ``10minutemail.com``, ``guerrillamail.com``, ``yopmail.com``,
  ``temp-mail.org``, ``trashmail.com``, ``sharklasers.com``
domain ``bad-mailbox.test``                                 ``Email is invalid.``
address SID that does not exist (document changed after     ``Address not found with sid AD...``
  submission)
``iso_country`` not ``US``/``CA``                          ``The provided address is not a valid US or Canada address``
region not a US state/DC/territory (US) or province         ``[address_sids] - Invalid Region. Address suggestion -> ...``
  /territory (CA) code, e.g. ``MAA``
postal code ``00000`` or not ``NNNNN[-NNNN]`` (US) /          ``[address_sids] - Invalid Postal Code. Address suggestion -> ...``
  ``A1A 1A1`` (CA)
street ending with the word ``Str`` (``1 Jersey Str``)      ``[address_sids] - Invalid Street. Address suggestion -> ...``
city ``Bostun``                                             ``[address_sids] - Invalid Locality. Address suggestion -> ...``
house number >= 10000 (``10000 Jersey St``)                 ``[address_sids] - Invalid House Number``
=========================================================  ==========================================================

Sole Proprietor trust product review (``trust_product_review_seconds`` after submission):
``brand_name`` that is an email address, only digits, or a Twilio SID -> ``twilio-rejected`` with
``Brand name must be the customer's name or business name, not an email address or an identifier.``

Brand review (``brand_review_seconds`` after create/update; ``FAILED`` with ``errors[]``):

* customer profile or trust product ``twilio-rejected`` (or still ``draft``) -> 30701;
* mobile number ``+12025550198``, or any number that is not a NANP mobile (``+1`` then 10 digits,
  area code and exchange not starting with 0/1) -> 30751 (unsupported mobile number);
* mobile number ``+12025550199`` (already used in 3 brands at TCR), or any mobile already used by 3
  submitted non-mock brands of any account -> 30712 (mobile number cap);
* any email at ``ten-brands.test`` (used in 10 brands), or an email used by 10 brands -> 30712;
* street ``999 Overused Ave`` (used in 10 brands), or an address used by 10 brands -> 30712.

Campaign review (``campaign_review_seconds`` after IN_PROGRESS): a ``MessageFlow`` with no opt-in
language — none of ``opt``, ``consent``, ``subscribe``, ``sign up``, ``signup`` (any case) -> ``FAILED``
with error 30896 on ``MESSAGE_FLOW``.
"""

from __future__ import annotations

import re

from .web import SID_RE

# ---- email ---------------------------------------------------------------------------------
EMAIL_SYNTAX = "Email domain has an invalid address syntax."
EMAIL_UNKNOWN_DOMAIN = "Unknown email domain."
EMAIL_DISPOSABLE = "Email is a suspected disposable address."
EMAIL_INVALID = "Email is invalid."

DISPOSABLE_DOMAINS = frozenset({
    "disposable.test", "mailinator.com", "10minutemail.com", "guerrillamail.com", "yopmail.com",
    "temp-mail.org", "trashmail.com", "sharklasers.com",
})
UNKNOWN_TLDS = frozenset({"invalid", "unknown"})
INVALID_MAILBOX_DOMAINS = frozenset({"bad-mailbox.test"})
_DOMAIN_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def email_rejection(email: str | None) -> str | None:
    """The seed's rejection reason for ``email``, or None if it passes."""
    if email is None:
        return None
    email = email.strip()
    if email.count("@") != 1:
        return EMAIL_SYNTAX
    local, domain = email.split("@")
    domain = domain.lower()
    if not local or not _DOMAIN_RE.match(domain):
        return EMAIL_SYNTAX
    if domain.rsplit(".", 1)[-1] in UNKNOWN_TLDS:
        return EMAIL_UNKNOWN_DOMAIN
    if domain in DISPOSABLE_DOMAINS:
        return EMAIL_DISPOSABLE
    if domain in INVALID_MAILBOX_DOMAINS or any(c.isspace() for c in local):
        return EMAIL_INVALID
    return None


# ---- addresses -----------------------------------------------------------------------------
ADDRESS_NOT_US_CA = "The provided address is not a valid US or Canada address"

US_REGIONS = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP".split()
)
CA_REGIONS = frozenset("AB BC MB NB NL NS NT NU ON PE QC SK YT".split())
_POSTAL = {"US": re.compile(r"^\d{5}(-\d{4})?$"), "CA": re.compile(r"^[A-Za-z]\d[A-Za-z][ -]?\d[A-Za-z]\d$")}
# What the (fictional) address verifier suggests for the places used in examples and tests.
_GAZETTEER = {("boston", "MA"): "02215-4147"}
_CITY_FIXES = {"bostun": "Boston"}
_REGION_FIXES = {"MAA": "MA", "MASS": "MA", "CALIF": "CA"}


def address_not_found(address_sid: str) -> str:
    return f"Address not found with sid {address_sid}"


def _suggestion(address: dict, *, trailing: str) -> str:
    street = re.sub(r"\bStr$", "St", address.get("street") or "").strip()
    city = _CITY_FIXES.get((address.get("city") or "").strip().lower(), address.get("city") or "")
    region = (address.get("region") or "").strip().upper()
    region = _REGION_FIXES.get(region, region)
    country = (address.get("iso_country") or "").upper()
    postal = _GAZETTEER.get((city.lower(), region), address.get("postal_code") or "")
    return (
        f"Address suggestion -> Street: {street}. Secondary Street: {city}, {region} {postal}. "
        f"Locality: {city}. Region: {region}. Postal Code: {postal}. Country: {country}{trailing}"
    )


def address_rejection(address: dict) -> str | None:
    """The seed's rejection reason for an address record (API field names), or None if it passes."""
    country = (address.get("iso_country") or "").upper()
    if country not in ("US", "CA"):
        return ADDRESS_NOT_US_CA
    region = (address.get("region") or "").strip().upper()
    if region not in (US_REGIONS if country == "US" else CA_REGIONS):
        return "[address_sids] - Invalid Region. " + _suggestion(address, trailing=";")
    postal = (address.get("postal_code") or "").strip()
    if postal.startswith("00000") or not _POSTAL[country].match(postal):
        return "[address_sids] - Invalid Postal Code. " + _suggestion(address, trailing=";")
    street = (address.get("street") or "").strip()
    if re.search(r"\bStr$", street):
        return "[address_sids] - Invalid Street. " + _suggestion(address, trailing="")
    if (address.get("city") or "").strip().lower() in _CITY_FIXES:
        return "[address_sids] - Invalid Locality. " + _suggestion(address, trailing=";")
    house = re.match(r"^(\d+)", street)
    if house and int(house.group(1)) >= 10000:
        return "[address_sids] - Invalid House Number"
    return None


# ---- trust product -------------------------------------------------------------------------
BRAND_NAME_IDENTIFIER = (
    "Brand name must be the customer's name or business name, not an email address or an identifier."
)


def brand_name_rejection(brand_name: str | None) -> str | None:
    name = (brand_name or "").strip()
    if "@" in name or name.isdigit() or SID_RE.match(name):
        return BRAND_NAME_IDENTIFIER
    return None


# ---- TCR (brand review) --------------------------------------------------------------------
MOBILE_USED_THREE_TIMES = "+12025550199"
MOBILE_UNSUPPORTED = "+12025550198"
EMAIL_DOMAIN_USED_TEN_TIMES = "ten-brands.test"
STREET_USED_TEN_TIMES = "999 overused ave"
_NANP_MOBILE = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")


def mobile_unsupported(mobile: str) -> bool:
    return mobile == MOBILE_UNSUPPORTED or not _NANP_MOBILE.match(mobile)


def mobile_key(mobile: str) -> str:
    return re.sub(r"[^\d+]", "", mobile)


def email_key(email: str) -> str:
    return email.strip().lower()


def address_key(address: dict) -> str:
    def norm(value: str | None) -> str:
        return " ".join((value or "").lower().replace(".", "").split())

    postal = (address.get("postal_code") or "").strip()[:5]
    return "|".join([norm(address.get("street")), norm(address.get("city")),
                     norm(address.get("region")), postal, norm(address.get("iso_country"))])


def external_uses(kind: str, key: str) -> int:
    """Brands registered at TCR by other vendors (reserved inputs), counted toward the caps."""
    if kind == "mobile" and key == MOBILE_USED_THREE_TIMES:
        return 3
    if kind == "email" and key.endswith("@" + EMAIL_DOMAIN_USED_TEN_TIMES):
        return 10
    if kind == "address" and key.startswith(STREET_USED_TEN_TIMES + "|"):
        return 10
    return 0


# ---- campaigns -----------------------------------------------------------------------------
OPT_IN_WORDS = ("opt", "consent", "subscribe", "sign up", "signup")


def message_flow_lacks_opt_in(message_flow: str) -> bool:
    lowered = message_flow.lower()
    return not any(word in lowered for word in OPT_IN_WORDS)
