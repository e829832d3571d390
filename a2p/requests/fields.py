"""The shared field rules, as ``Annotated`` types every model applies the same way.

``Text(min, max)``, ``PersonName``, ``E164Phone``, ``NanpMobile``, ``Email``, ``BrandName``,
``VerticalCode``, ``Sid("BU")``, ``IsvCustomerId``, ``HttpUrlStr``, ``Keywords``; and
``MODEL_CONFIG``, the configuration of every model of this package.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, ConfigDict

from a2p.constants import SID_RE, VERTICALS, is_sid
from a2p.requests.errors import rule_error


MODEL_CONFIG = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


# Characters no name or campaign text may hold: NUL and the other control characters (C0, DEL,
# C1) — line breaks and tabs are allowed only in multi-line texts —, and the bidirectional
# overrides, embeddings, isolates and marks that make text display in another order than it is
# stored (and so read differently by a person and by a machine).
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_FORBIDDEN_ANYWHERE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _BIDI + "]")
_FORBIDDEN_ON_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "]")


def _control_character(v: str, multiline: bool) -> None:
    found = (_FORBIDDEN_ANYWHERE if multiline else _FORBIDDEN_ON_ONE_LINE).search(v)
    if found:
        char = found.group()
        what = ("a bidirectional text control character" if char in _BIDI else
                "a line break or tab" if char in "\n\r\t" else "a control character")
        raise rule_error("text_characters", f"must not contain {what} (U+{ord(char):04X}, at position {found.start()})")


@cache
def Text(min_length: int, max_length: int, multiline: bool = False) -> Any:  # noqa: N802 - used like a type
    """A string of ``min_length``..``max_length`` characters (after stripping whitespace), without
    control characters or bidirectional overrides; ``multiline``: line breaks and tabs allowed."""

    def check(v: str) -> str:
        if not v and min_length > 0:
            raise rule_error("text_length", "must not be empty")
        if not min_length <= len(v) <= max_length:
            raise rule_error("text_length", f"must be {min_length} to {max_length} characters long (it has {len(v)})")
        _control_character(v, multiline)
        return v

    return Annotated[str, AfterValidator(check)]


def _person_name(v: str) -> str:
    if not any(c.isalpha() for c in v):
        raise rule_error("person_name", "must be a real name: it contains no letter")
    return v


PersonName = Annotated[Text(1, 100), AfterValidator(_person_name)]
"""A first or last name: 1..100 characters, at least one letter."""


# -- phone numbers ------------------------------------------------------------------------------

_PHONE_PUNCTUATION = re.compile(r"[\s\-.()/\u00a0\u2010-\u2015]")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_E164_HELP = "must be a phone number in E.164 form: + and the country code, 8 to 15 digits in all, e.g. +14155550123"
_MOBILE_HELP = "must be a US or Canadian mobile number in E.164 form, e.g. +14155550123"

# NANP area codes (+1) that are not in the US or Canada: Caribbean countries and Bermuda. US
# territories (340, 670, 671, 684, 787, 939) are US numbers and are accepted.
_NANP_ELSEWHERE: dict[str, str] = {
    "242": "the Bahamas", "246": "Barbados", "264": "Anguilla", "268": "Antigua and Barbuda",
    "284": "the British Virgin Islands", "345": "the Cayman Islands", "441": "Bermuda",
    "473": "Grenada", "649": "the Turks and Caicos Islands", "658": "Jamaica", "664": "Montserrat",
    "721": "Sint Maarten", "758": "Saint Lucia", "767": "Dominica",
    "784": "Saint Vincent and the Grenadines", "809": "the Dominican Republic",
    "829": "the Dominican Republic", "849": "the Dominican Republic", "868": "Trinidad and Tobago",
    "869": "Saint Kitts and Nevis", "876": "Jamaica",
}
_NANP_NOT_MOBILE = {"800", "833", "844", "855", "866", "877", "888", "900"}  # toll-free / premium


def _normalise_phone(v: Any) -> Any:
    """Drop common punctuation: ``+1 (415) 555-0123`` -> ``+14155550123``."""
    return _PHONE_PUNCTUATION.sub("", v) if isinstance(v, str) else v


def _e164(v: str) -> str:
    if not v.startswith("+"):
        raise rule_error("e164_phone", _E164_HELP + " (it must start with +)")
    if not _E164.match(v):
        raise rule_error("e164_phone", _E164_HELP)
    if v.startswith("+1") and len(v) != 12:
        raise rule_error("e164_phone", _E164_HELP + " (a +1 number has exactly 10 digits after +1)")
    return v


def _nanp_mobile(v: str) -> str:
    if not re.fullmatch(r"\+1[0-9]{10}", v):
        raise rule_error("nanp_mobile", _MOBILE_HELP + " (+1 then 10 digits)")
    area, exchange = v[2:5], v[5:8]
    if area[0] in "01" or exchange[0] in "01":
        raise rule_error("nanp_mobile", _MOBILE_HELP + " (neither the area code nor the next 3 digits may start with 0 or 1)")
    if area[1:] == "11" or exchange[1:] == "11":
        raise rule_error("nanp_mobile", _MOBILE_HELP + " (N11 codes such as 911 are not valid)")
    if area in _NANP_NOT_MOBILE:
        raise rule_error("nanp_mobile", _MOBILE_HELP + f" ({area} is a toll-free or premium code, not a mobile number)")
    if area in _NANP_ELSEWHERE:
        raise rule_error("nanp_mobile", _MOBILE_HELP + f" (area code {area} is in {_NANP_ELSEWHERE[area]})")
    return v


E164Phone = Annotated[str, BeforeValidator(_normalise_phone), AfterValidator(_e164)]
"""Any phone number in E.164 (``+`` and 8..15 digits); spaces, dashes, dots, parentheses dropped."""

NanpMobile = Annotated[str, BeforeValidator(_normalise_phone), AfterValidator(_nanp_mobile)]
"""A US or Canadian mobile number: ``+1 NXX NXX XXXX`` (N = 2..9); punctuation dropped."""


# -- email --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+$")
_DOMAIN_LABEL = re.compile(r"^[^\W_](?:[^\W_]|-)*(?<!-)$")  # letters/digits, inner hyphens
_EMAIL_HELP = "must be an email address such as name@example.com"


def _email(v: str) -> str:
    _control_character(v, False)
    if not _EMAIL.match(v):
        raise rule_error("email", _EMAIL_HELP + " (one @, no spaces)")
    local, domain = v.split("@")
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2:
        raise rule_error("email", _EMAIL_HELP + " (the domain needs a dot, e.g. example.com)")
    if not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise rule_error("email", _EMAIL_HELP + " (the domain has an empty part or a character not allowed in a domain)")
    if not (re.fullmatch(r"[^\W\d_]{2,}", labels[-1]) or labels[-1].startswith("xn--")):
        raise rule_error("email", _EMAIL_HELP + " (the domain must end in a top-level domain of 2 or more letters)")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise rule_error("email", _EMAIL_HELP + " (the part before the @ cannot start or end with a dot, or have two in a row)")
    if len(local) > 64 or len(v) > 254:
        raise rule_error("email", _EMAIL_HELP + " (at most 64 characters before the @ and 254 in all)")
    return f"{local}@{domain}"


Email = Annotated[str, AfterValidator(_email)]
"""A syntactically valid email address; the domain is lower-cased. Twilio checks the rest
(known domain, not disposable) after submission."""


# -- brand name ---------------------------------------------------------------------------------

_BRAND_HELP = "brand_name must be the customer's real business name or first and last name, not an id or email"
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)
_ANY_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$", re.I)
_LONG_HEX = re.compile(r"^(?:0x)?[0-9a-f]{12,}$", re.I)
_PREFIXED_ID = re.compile(r"^[A-Za-z]{1,10}[_:#][A-Za-z0-9_-]{6,}$")  # cus_9s6XKzkN, acct:a1b2c3
_EMAIL_LIKE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


def _opaque_reason(v: str) -> str | None:
    """Why ``v`` looks like an identifier or an email rather than a name, or None."""
    if _EMAIL_LIKE.match(v):
        return "it looks like an email address"
    compact = v.replace(" ", "")
    if _UUID.match(compact):
        return "it looks like a UUID"
    if _ANY_SID.match(compact):
        return "it looks like a Twilio SID"
    if not any(c.isalpha() for c in v):
        return "it has no letters"
    if _LONG_HEX.match(compact) and any(c.isdigit() for c in compact):
        return "it looks like a hexadecimal id"
    if " " not in v:
        digits = sum(c.isdigit() for c in v)
        if digits >= 5 or (_PREFIXED_ID.match(v) and digits >= 2):
            return "it looks like an account id"
    return None


def _brand_name(v: str) -> str:
    reason = _opaque_reason(v)
    if reason:
        raise rule_error("brand_name", f"{_BRAND_HELP} ({reason})")
    return v


BrandName = Annotated[Text(1, 255), AfterValidator(_brand_name)]
"""The customer's real business name (or first and last name): not an email, UUID, SID or id."""


# -- vertical -----------------------------------------------------------------------------------

Vertical = Literal[
    "AGRICULTURE", "COMMUNICATION", "CONSTRUCTION", "EDUCATION", "ENERGY",
    "ENTERTAINMENT", "FINANCIAL", "GAMBLING", "GOVERNMENT", "HEALTHCARE",
    "HOSPITALITY", "HUMAN_RESOURCES", "INSURANCE", "LEGAL", "MANUFACTURING",
    "NGO", "POLITICAL", "POSTAL", "PROFESSIONAL", "REAL_ESTATE", "RETAIL",
    "TECHNOLOGY", "TRANSPORTATION",
]
"""The 23 verticals of ``sole_proprietor_information`` (seed 001, 1.3)."""
assert get_args(Vertical) == VERTICALS, "Vertical is out of step with a2p.constants.VERTICALS"


def _vertical(v: Any) -> Any:
    if isinstance(v, str):
        code = re.sub(r"[\s-]+", "_", v.strip()).upper()
        if code not in VERTICALS:
            raise rule_error("vertical", "must be one of " + ", ".join(VERTICALS))
        return code
    return v


VerticalCode = Annotated[Vertical, BeforeValidator(_vertical)]
"""A ``Vertical``; case and spaces are forgiven (``"real estate"`` -> ``REAL_ESTATE``)."""


# -- SIDs, ids, URLs, keywords ------------------------------------------------------------------

_SID_KINDS = {
    "AC": "an account", "BU": "a Trust Hub bundle", "BN": "a brand registration",
    "MG": "a Messaging Service", "PN": "a phone number", "IT": "an end user",
    "RD": "a supporting document", "AD": "an address", "QE": "a campaign", "RN": "a policy",
}


@cache
def Sid(prefix: str) -> Any:  # noqa: N802 - used like a type
    """A Twilio SID with the given 2-letter prefix: ``Sid("BU")``."""
    kind = _SID_KINDS.get(prefix, "a")
    help_ = f"must be {kind} SID: {prefix} followed by 32 lower-case hex digits"

    def normalise(v: Any) -> Any:
        # Twilio SIDs are upper-case prefix + lower-case hex; forgive the case.
        if isinstance(v, str) and re.fullmatch(r"[A-Za-z]{2}[0-9a-fA-F]{32}", v.strip()):
            v = v.strip()
            return v[:2].upper() + v[2:].lower()
        return v

    def check(v: str) -> str:
        if not is_sid(v, prefix):
            if SID_RE.match(v) and v[:2] in _SID_KINDS:
                raise rule_error("sid", f"{help_} (this is {_SID_KINDS[v[:2]]} SID)")
            raise rule_error("sid", help_)
        return v

    return Annotated[str, BeforeValidator(normalise), AfterValidator(check)]


def _isv_customer_id(v: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", v):
        raise rule_error(
            "isv_customer_id",
            "must be 1 to 64 characters, each a letter, digit, '.', '_', ':' or '-' "
            "(it becomes part of the workflow id)",
        )
    return v


IsvCustomerId = Annotated[str, AfterValidator(_isv_customer_id)]
"""The ISV's own id of its customer: 1..64 of ``[A-Za-z0-9._:-]``."""


def _http_url(v: str) -> str:
    _control_character(v, False)
    parts = urlsplit(v) if not re.search(r"\s", v) else None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or len(v) > 2048
    ):
        raise rule_error("url", "must be an http:// or https:// URL with a host name, e.g. https://example.com/privacy")
    return v


HttpUrlStr = Annotated[str, AfterValidator(_http_url)]
"""An absolute http(s) URL, kept as the string given."""


def _keyword(v: str) -> str:
    if not v or not v.isascii() or not v.isalnum():
        raise rule_error("keyword", "must be one word of ASCII letters and digits only (A-Z, 0-9: no spaces, "
                                    "punctuation or other scripts' letters and digits)")
    if len(v) > 255:
        raise rule_error("keyword", f"must be at most 255 characters long (it has {len(v)})")
    return v


Keyword = Annotated[str, AfterValidator(_keyword)]


def _keywords(v: list[str]) -> list[str] | None:
    return v or None  # an empty list means "none"


Keywords = Annotated[list[Keyword], AfterValidator(_keywords)]
