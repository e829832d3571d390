"""Boundary models: a registration is validated here, before anything reaches Twilio.

Every rule raises an error whose location names the field (``customer.address.postal_code``) and
whose message states the rule in words an ISV engineer understands; ``format_validation_error``
turns a ``ValidationError`` into ``[{"field": ..., "message": ...}]`` for the HTTP service and CLI.

The field rules are shared as ``Annotated`` types (``E164Phone``, ``NanpMobile``, ``Email``,
``BrandName``, ``Sid("BU")``, ...), so every model applies the same validation.

All models are frozen, forbid unknown fields, strip whitespace and round-trip through
``model_dump(mode="json")`` / ``model_validate`` (they travel through Temporal's pydantic data
converter): every normalisation is idempotent.

Sources: seed 000 (customer fields, campaign parameters), seed 001 (legacy conversion),
ENDPOINTS.md 2 and 3.6, FACTS.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from a2p.constants import CAMPAIGN_USECASE_SOLE_PROPRIETOR, SID_RE, VERTICALS, is_sid
from a2p.timings import Timings

__all__ = [
    "AddressCorrection",
    "BrandName",
    "CampaignDetails",
    "Correction",
    "CustomerIdentity",
    "E164Phone",
    "Email",
    "HttpUrlStr",
    "IsvCustomerId",
    "Keyword",
    "LegacyConversionRequest",
    "MessagingServiceSpec",
    "NanpMobile",
    "PersonName",
    "PostalAddress",
    "RegistrationRequest",
    "Sid",
    "Text",
    "Timings",
    "Vertical",
    "VerticalCode",
    "describe_validation_error",
    "format_validation_error",
]

_CONFIG = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _error(kind: str, message: str) -> PydanticCustomError:
    # The message is passed as a context value, never as the template itself, so braces in it
    # (or in user input quoted by it) are never interpreted.
    return PydanticCustomError(kind, "{message}", {"message": message})


def _raise_at(model: str, errors: Sequence[tuple[tuple[str | int, ...], str, str, Any]]) -> None:
    """Raise errors located at given fields of a model from a model-level validator.

    ``errors``: (loc, kind, message, input). Pydantic prefixes the locations with the model's own
    location when it is nested (``customer.address.region``)."""
    if errors:
        raise ValidationError.from_exception_data(
            model,
            [InitErrorDetails(type=_error(kind, msg), loc=loc, input=value) for loc, kind, msg, value in errors],
        )


# ---------------------------------------------------------------------------------------------
# Shared field types
# ---------------------------------------------------------------------------------------------


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
        raise _error("text_characters", f"must not contain {what} (U+{ord(char):04X}, at position {found.start()})")


@cache
def Text(min_length: int, max_length: int, multiline: bool = False) -> Any:  # noqa: N802 - used like a type
    """A string of ``min_length``..``max_length`` characters (after stripping whitespace), without
    control characters or bidirectional overrides; ``multiline``: line breaks and tabs allowed."""

    def check(v: str) -> str:
        if not v and min_length > 0:
            raise _error("text_length", "must not be empty")
        if not min_length <= len(v) <= max_length:
            raise _error("text_length", f"must be {min_length} to {max_length} characters long (it has {len(v)})")
        _control_character(v, multiline)
        return v

    return Annotated[str, AfterValidator(check)]


def _person_name(v: str) -> str:
    if not any(c.isalpha() for c in v):
        raise _error("person_name", "must be a real name: it contains no letter")
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
        raise _error("e164_phone", _E164_HELP + " (it must start with +)")
    if not _E164.match(v):
        raise _error("e164_phone", _E164_HELP)
    if v.startswith("+1") and len(v) != 12:
        raise _error("e164_phone", _E164_HELP + " (a +1 number has exactly 10 digits after +1)")
    return v


def _nanp_mobile(v: str) -> str:
    if not re.fullmatch(r"\+1[0-9]{10}", v):
        raise _error("nanp_mobile", _MOBILE_HELP + " (+1 then 10 digits)")
    area, exchange = v[2:5], v[5:8]
    if area[0] in "01" or exchange[0] in "01":
        raise _error("nanp_mobile", _MOBILE_HELP + " (neither the area code nor the next 3 digits may start with 0 or 1)")
    if area[1:] == "11" or exchange[1:] == "11":
        raise _error("nanp_mobile", _MOBILE_HELP + " (N11 codes such as 911 are not valid)")
    if area in _NANP_NOT_MOBILE:
        raise _error("nanp_mobile", _MOBILE_HELP + f" ({area} is a toll-free or premium code, not a mobile number)")
    if area in _NANP_ELSEWHERE:
        raise _error("nanp_mobile", _MOBILE_HELP + f" (area code {area} is in {_NANP_ELSEWHERE[area]})")
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
    if not _EMAIL.match(v):
        raise _error("email", _EMAIL_HELP + " (one @, no spaces)")
    local, domain = v.split("@")
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2:
        raise _error("email", _EMAIL_HELP + " (the domain needs a dot, e.g. example.com)")
    if not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise _error("email", _EMAIL_HELP + " (the domain has an empty part or a character not allowed in a domain)")
    if not (re.fullmatch(r"[^\W\d_]{2,}", labels[-1]) or labels[-1].startswith("xn--")):
        raise _error("email", _EMAIL_HELP + " (the domain must end in a top-level domain of 2 or more letters)")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise _error("email", _EMAIL_HELP + " (the part before the @ cannot start or end with a dot, or have two in a row)")
    if len(local) > 64 or len(v) > 254:
        raise _error("email", _EMAIL_HELP + " (at most 64 characters before the @ and 254 in all)")
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
        raise _error("brand_name", f"{_BRAND_HELP} ({reason})")
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
            raise _error("vertical", "must be one of " + ", ".join(VERTICALS))
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
                raise _error("sid", f"{help_} (this is {_SID_KINDS[v[:2]]} SID)")
            raise _error("sid", help_)
        return v

    return Annotated[str, BeforeValidator(normalise), AfterValidator(check)]


def _isv_customer_id(v: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", v):
        raise _error(
            "isv_customer_id",
            "must be 1 to 64 characters, each a letter, digit, '.', '_', ':' or '-' "
            "(it becomes part of the workflow id)",
        )
    return v


IsvCustomerId = Annotated[str, AfterValidator(_isv_customer_id)]
"""The ISV's own id of its customer: 1..64 of ``[A-Za-z0-9._:-]``."""


def _http_url(v: str) -> str:
    parts = urlsplit(v) if not re.search(r"\s", v) else None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or len(v) > 2048
    ):
        raise _error("url", "must be an http:// or https:// URL with a host name, e.g. https://example.com/privacy")
    return v


HttpUrlStr = Annotated[str, AfterValidator(_http_url)]
"""An absolute http(s) URL, kept as the string given."""


def _keyword(v: str) -> str:
    if not v or not v.isalnum():
        raise _error("keyword", "must be one word of letters and digits only (no spaces or punctuation)")
    if len(v) > 255:
        raise _error("keyword", f"must be at most 255 characters long (it has {len(v)})")
    return v


Keyword = Annotated[str, AfterValidator(_keyword)]


def _keywords(v: list[str]) -> list[str] | None:
    return v or None  # an empty list means "none"


Keywords = Annotated[list[Keyword], AfterValidator(_keywords)]


def _message_samples(v: list[str]) -> list[str]:
    if not 2 <= len(v) <= 5:
        raise _error("message_samples", f"must have 2 to 5 sample messages (it has {len(v)})")
    return v


# ---------------------------------------------------------------------------------------------
# Address
# ---------------------------------------------------------------------------------------------

US_REGIONS = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI".split()
)
CA_REGIONS = frozenset("AB BC MB NB NL NS NT NU ON PE QC SK YT".split())
# First letter of a Canadian postal code -> the provinces/territories it serves.
_CA_POSTAL_PROVINCE = {
    "A": {"NL"}, "B": {"NS"}, "C": {"PE"}, "E": {"NB"}, "G": {"QC"}, "H": {"QC"}, "J": {"QC"},
    "K": {"ON"}, "L": {"ON"}, "M": {"ON"}, "N": {"ON"}, "P": {"ON"}, "R": {"MB"}, "S": {"SK"},
    "T": {"AB"}, "V": {"BC"}, "X": {"NT", "NU"}, "Y": {"YT"},
}
_US_ZIP = re.compile(r"^[0-9]{5}(?:-[0-9]{4})?$")
_CA_POSTAL = re.compile(r"^[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z][0-9][ABCEGHJ-NPRSTV-Z][0-9]$")
_US_REGION_HELP = "must be a US state, DC or territory code of 2 letters, e.g. MA"
_CA_REGION_HELP = "must be a Canadian province or territory code: " + " ".join(sorted(CA_REGIONS))
_US_POSTAL_HELP = "must be a US ZIP code: 12345 or 12345-6789"
_CA_POSTAL_HELP = "must be a Canadian postal code such as K1A 0B1"


def _upper(v: Any) -> Any:
    return v.strip().upper() if isinstance(v, str) else v


def _normalise_postal_code(v: Any) -> Any:
    """Canadian codes -> upper case with one space (``k1a0b1`` -> ``K1A 0B1``); others unchanged."""
    if isinstance(v, str):
        compact = re.sub(r"[\s-]", "", v).upper()
        if _CA_POSTAL.match(compact):
            return f"{compact[:3]} {compact[3:]}"
        return v.strip()
    return v


def _blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


def _address_errors(country: str, region: str | None, postal_code: str | None) -> list[tuple]:
    """Country-dependent checks of region and postal code (locations relative to the address)."""
    errors: list[tuple] = []
    if country == "US":
        if region is not None and region not in US_REGIONS:
            errors.append((("region",), "region", _US_REGION_HELP, region))
        if postal_code is not None and not _US_ZIP.match(postal_code):
            errors.append((("postal_code",), "postal_code", _US_POSTAL_HELP, postal_code))
    else:
        if region is not None and region not in CA_REGIONS:
            errors.append((("region",), "region", _CA_REGION_HELP, region))
        if postal_code is not None:
            compact = postal_code.replace(" ", "")
            if not _CA_POSTAL.match(compact):
                errors.append((("postal_code",), "postal_code", _CA_POSTAL_HELP, postal_code))
            elif region in CA_REGIONS and region not in _CA_POSTAL_PROVINCE[compact[0]]:
                provinces = "/".join(sorted(_CA_POSTAL_PROVINCE[compact[0]]))
                errors.append((
                    ("postal_code",), "postal_code",
                    f"{_CA_POSTAL_HELP}, of the region given: a postal code starting with {compact[0]} "
                    f"is in {provinces}, but region is {region}",
                    postal_code,
                ))
    return errors


Region = Annotated[str, BeforeValidator(_upper)]
PostalCode = Annotated[str, BeforeValidator(_normalise_postal_code)]
StreetSecondary = Annotated[Text(1, 255) | None, BeforeValidator(_blank_to_none)]


class PostalAddress(BaseModel):
    """A US or Canadian postal address (Twilio Address, API 2010). It can be a PO Box."""

    model_config = _CONFIG

    street: Text(1, 255)
    street_secondary: StreetSecondary = None
    city: Text(1, 255)
    region: Region = Field(description="US: state/DC/territory code (MA); CA: province/territory code (ON)")
    postal_code: PostalCode = Field(description="US: 12345 or 12345-6789; CA: A1A 1A1")
    iso_country: Literal["US", "CA"]

    @field_validator("iso_country", mode="before")
    @classmethod
    def _country(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().upper()
            if v not in ("US", "CA"):
                raise _error(
                    "iso_country",
                    "must be US or CA: Sole Proprietor registration is only for customers in the US and Canada",
                )
        return v

    @model_validator(mode="after")
    def _country_rules(self) -> PostalAddress:
        _raise_at("PostalAddress", _address_errors(self.iso_country, self.region, self.postal_code))
        return self


class AddressCorrection(BaseModel):
    """Changed address fields only (at least one). The country cannot change; whether region and
    postal code fit the country is checked by ``Correction.apply_to``. ``street_secondary=""``
    clears the second street line."""

    model_config = _CONFIG

    street: Text(1, 255) | None = None
    street_secondary: Text(0, 255) | None = None
    city: Text(1, 255) | None = None
    region: Region | None = None
    postal_code: PostalCode | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_country(cls, data: Any) -> Any:
        if isinstance(data, dict) and "iso_country" in data:
            _raise_at("AddressCorrection", [(
                ("iso_country",), "country_change",
                "the country of an address cannot be changed by a correction; "
                "register the customer again with the new address",
                data["iso_country"],
            )])
        return data

    @model_validator(mode="after")
    def _check(self) -> AddressCorrection:
        if not any(getattr(self, name) is not None for name in type(self).model_fields):
            raise _error("empty_correction", "give at least one address field to correct: "
                         + ", ".join(type(self).model_fields))
        errors = []
        if self.region is not None and self.region not in US_REGIONS | CA_REGIONS:
            errors.append((("region",), "region",
                           "must be a US state/territory code (e.g. MA) or a Canadian province code (e.g. ON)",
                           self.region))
        if self.postal_code is not None and not (
            _US_ZIP.match(self.postal_code) or _CA_POSTAL.match(self.postal_code.replace(" ", ""))
        ):
            errors.append((("postal_code",), "postal_code",
                           "must be a US ZIP code (12345 or 12345-6789) or a Canadian postal code (A1A 1A1)",
                           self.postal_code))
        _raise_at("AddressCorrection", errors)
        return self


# ---------------------------------------------------------------------------------------------
# Customer
# ---------------------------------------------------------------------------------------------


class CustomerIdentity(BaseModel):
    """The customer's Starter Customer Profile and Sole Proprietor information (seed 000).

    Use the customer's details, never the ISV's."""

    model_config = _CONFIG

    first_name: PersonName
    last_name: PersonName
    email: Email = Field(description="reusable in at most 10 brands at TCR")
    business_phone: E164Phone = Field(description="business/contact number: landline, mobile or other")
    mobile_number: NanpMobile = Field(
        description="US/Canadian mobile that receives the OTP; not a CPaaS (e.g. Twilio) number; "
        "reusable in at most 3 brands at TCR"
    )
    address: PostalAddress
    brand_name: BrandName = Field(description="real business name (or DBA), or first and last name")
    vertical: VerticalCode | None = None


# ---------------------------------------------------------------------------------------------
# Campaign
# ---------------------------------------------------------------------------------------------

_LINK = re.compile(r"https?://|\bwww\.", re.I)


class CampaignDetails(BaseModel):
    """The Sole Proprietor campaign (``us_app_to_person``). Twilio's schema enforces none of
    these limits, so they are checked here (ENDPOINTS.md 2)."""

    model_config = _CONFIG

    description: Text(40, 4096, multiline=True) = Field(description="who sends, to whom, and why")
    message_flow: Text(40, 2048, multiline=True) = Field(description="how end users opt in; list every method, with links")
    message_samples: Annotated[list[Text(20, 1024, multiline=True)], AfterValidator(_message_samples)] = Field(
        description="2 to 5 concrete messages naming the brand; [brackets] for variable content"
    )
    has_embedded_links: bool
    has_embedded_phone: bool
    opt_in_message: Text(20, 320, multiline=True) | None = None
    opt_out_message: Text(20, 320, multiline=True) | None = None
    help_message: Text(20, 320, multiline=True) | None = None
    opt_in_keywords: Keywords | None = None
    opt_out_keywords: Keywords | None = None
    help_keywords: Keywords | None = None
    use_twilio_default_opt_out: bool = Field(
        True,
        description="true: Twilio's Default/Advanced Opt-Out answers STOP/HELP; false: you do, and "
        "opt_out_message, opt_out_keywords, help_message and help_keywords are required",
    )
    subscriber_opt_in: bool | None = None
    age_gated: bool | None = None
    direct_lending: bool | None = None
    privacy_policy_url: HttpUrlStr | None = None
    terms_and_conditions_url: HttpUrlStr | None = None

    @model_validator(mode="after")
    def _conditional(self) -> CampaignDetails:
        errors = []
        if not self.use_twilio_default_opt_out:
            for name in ("opt_out_message", "opt_out_keywords", "help_message", "help_keywords"):
                if getattr(self, name) is None:
                    errors.append(((name,), "required_when",
                                   "is required when use_twilio_default_opt_out is false "
                                   "(you answer STOP and HELP yourself)", None))
        if self.opt_in_keywords is not None and self.opt_in_message is None:
            errors.append((("opt_in_message",), "required_when",
                           "is required when opt_in_keywords are given: the auto-reply sent to someone "
                           "who texts an opt-in keyword", None))
        if not self.has_embedded_links:
            with_links = [i for i, s in enumerate(self.message_samples) if _LINK.search(s)]
            if with_links:
                errors.append((("has_embedded_links",), "embedded_links",
                               f"must be true: message_samples[{with_links[0]}] contains a link",
                               self.has_embedded_links))
        _raise_at("CampaignDetails", errors)
        return self

    # What Twilio's UpdateUsAppToPerson carries: the rest (opt-in/out/help) needs a new campaign.
    UPDATABLE: ClassVar[frozenset[str]] = frozenset({"description", "message_flow", "message_samples", "has_embedded_links",
                           "has_embedded_phone", "age_gated", "direct_lending", "privacy_policy_url",
                           "terms_and_conditions_url"})

    def to_twilio_update_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``...us_app_to_person(QE).update(...)``: Twilio's required fields in
        full (age_gated and direct_lending default to false), the optional URLs when set."""
        kwargs: dict[str, Any] = {
            "description": self.description, "message_flow": self.message_flow,
            "message_samples": list(self.message_samples),
            "has_embedded_links": self.has_embedded_links, "has_embedded_phone": self.has_embedded_phone,
            "age_gated": bool(self.age_gated), "direct_lending": bool(self.direct_lending),
        }
        for name in ("privacy_policy_url", "terms_and_conditions_url"):
            if getattr(self, name) is not None:
                kwargs[name] = getattr(self, name)
        return kwargs

    def to_twilio_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``client.messaging.v1.services(MG).us_app_to_person.create(...)``,
        without ``brand_registration_sid``; None values left out."""
        kwargs: dict[str, Any] = {
            "description": self.description,
            "message_flow": self.message_flow,
            "message_samples": list(self.message_samples),
            "us_app_to_person_usecase": CAMPAIGN_USECASE_SOLE_PROPRIETOR,
            "has_embedded_links": self.has_embedded_links,
            "has_embedded_phone": self.has_embedded_phone,
        }
        optional = (
            "opt_in_message", "opt_out_message", "help_message",
            "opt_in_keywords", "opt_out_keywords", "help_keywords",
            "subscriber_opt_in", "age_gated", "direct_lending",
            "privacy_policy_url", "terms_and_conditions_url",
        )
        for name in optional:
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = list(value) if isinstance(value, list) else value
        return kwargs


class MessagingServiceSpec(BaseModel):
    """Which Messaging Service carries the campaign: an existing one, or a new one to create.
    A Sole Proprietor campaign may have only one 10DLC number in its service."""

    model_config = _CONFIG

    existing_sid: Sid("MG") | None = Field(None, description="an existing Messaging Service (MG...)")
    friendly_name: Text(1, 64) | None = Field(None, description="name of a Messaging Service to create")
    phone_number_sid: Sid("PN") | None = Field(None, description="10DLC number (PN...) to attach to the service")

    @model_validator(mode="after")
    def _exactly_one(self) -> MessagingServiceSpec:
        if (self.existing_sid is None) == (self.friendly_name is None):
            raise _error(
                "messaging_service",
                "give exactly one of existing_sid (use an existing Messaging Service) "
                "or friendly_name (create a new one)",
            )
        return self


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


class RegistrationRequest(BaseModel):
    """A new Sole Proprietor registration: profile, trust bundle, brand (+OTP), campaign."""

    model_config = _CONFIG

    isv_customer_id: IsvCustomerId
    subaccount_sid: Sid("AC") | None = Field(None, description="the customer's subaccount (AC...), if any")
    customer: CustomerIdentity
    campaign: CampaignDetails
    messaging_service: MessagingServiceSpec
    timings: Timings = Timings()
    mock_brand: bool = Field(False, description="register a mock brand (no fee, no OTP)")

    @property
    def workflow_id(self) -> str:
        return f"a2p-registration-{self.isv_customer_id}"


class LegacyConversionRequest(BaseModel):
    """Conversion of a legacy Starter brand to a Sole Proprietor brand (seed 001): the existing
    trust bundle gets brand name, mobile number and vertical; the brand is updated; optionally
    a campaign is created."""

    model_config = _CONFIG

    isv_customer_id: IsvCustomerId
    subaccount_sid: Sid("AC") | None = None
    trust_bundle_sid: Sid("BU") = Field(description="the existing Sole Proprietor A2P trust bundle (BU...)")
    brand_sid: Sid("BN") = Field(description="the existing (legacy Starter) brand (BN...)")
    brand_name: BrandName
    mobile_number: NanpMobile
    vertical: VerticalCode | None = None
    campaign: CampaignDetails | None = None
    messaging_service: MessagingServiceSpec | None = None
    timings: Timings = Timings()

    @model_validator(mode="after")
    def _service_with_campaign(self) -> LegacyConversionRequest:
        if self.campaign is not None and self.messaging_service is None:
            _raise_at("LegacyConversionRequest", [(
                ("messaging_service",), "required_when",
                "is required when campaign is given: the Messaging Service the campaign belongs to", None,
            )])
        if self.campaign is None and self.messaging_service is not None:
            _raise_at("LegacyConversionRequest", [(
                ("messaging_service",), "unused",
                "is only used to create a campaign: give campaign too, or leave messaging_service out",
                None,
            )])
        return self

    @property
    def workflow_id(self) -> str:
        return f"a2p-conversion-{self.isv_customer_id}"


# ---------------------------------------------------------------------------------------------
# Corrections
# ---------------------------------------------------------------------------------------------

_STARTER_FIELDS = ("first_name", "last_name", "email", "business_phone")
_SOLE_PROPRIETOR_FIELDS = ("brand_name", "mobile_number", "vertical")
STARTER_CORRECTION_FIELDS: tuple[str, ...] = (*_STARTER_FIELDS, "address")
SOLE_PROPRIETOR_CORRECTION_FIELDS: tuple[str, ...] = _SOLE_PROPRIETOR_FIELDS
CAMPAIGN_CORRECTION_FIELDS: tuple[str, ...] = ("campaign",)


def _partial(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """``model`` with every field optional and checked by the same rules; the whole model's rules
    (e.g. which fields go together) are checked when a partial is merged into a complete one."""
    fields: dict[str, Any] = {
        n: (f.rebuild_annotation() | None, Field(None, description=f.description))
        for n, f in model.model_fields.items()
    }
    partial = create_model(name, __config__=_CONFIG, __doc__=doc, __module__=__name__, **fields)
    return partial


CampaignCorrection = _partial(
    CampaignDetails, "CampaignCorrection",
    "The campaign fields to change after Twilio FAILED the campaign: any subset of `CampaignDetails`, "
    "checked by the same rules, then against the whole campaign once merged.",
)


def merge_campaign(campaign: CampaignDetails, changes: BaseModel) -> CampaignDetails:
    """The corrected campaign, validated again as a whole (raises ValidationError located
    relative to the campaign, e.g. ``message_flow``)."""
    return CampaignDetails.model_validate({**campaign.model_dump(), **changes.model_dump(exclude_none=True)})


class Correction(BaseModel):
    """An operator's fix of a rejected profile or a failed brand: only the fields to change.

    Starter profile end user (first_name, last_name, email, business_phone): the workflow
    re-sends ALL its attributes. Address: only the changed fields are sent. Sole proprietor end
    user: brand_name, mobile_number, vertical."""

    model_config = _CONFIG

    first_name: PersonName | None = None
    last_name: PersonName | None = None
    email: Email | None = None
    business_phone: E164Phone | None = None
    address: AddressCorrection | None = None
    brand_name: BrandName | None = None
    mobile_number: NanpMobile | None = None
    vertical: VerticalCode | None = None
    campaign: CampaignCorrection | None = Field(  # type: ignore[valid-type]
        None, description="campaign fields to change (a FAILED campaign is edited and resubmitted)")

    @model_validator(mode="after")
    def _not_empty(self) -> Correction:
        if not any(getattr(self, name) is not None for name in type(self).model_fields):
            raise _error("empty_correction", "give at least one field to correct: " + ", ".join(type(self).model_fields))
        if self.campaign is not None and not self.campaign.model_dump(exclude_none=True):
            raise _error("empty_correction", "campaign: give at least one campaign field to change")
        return self

    def touches_starter_profile(self) -> bool:
        """True when the Starter profile's end user (starter_customer_profile_information) changes."""
        return any(getattr(self, name) is not None for name in _STARTER_FIELDS)

    def touches_address(self) -> bool:
        return self.address is not None

    def touches_campaign(self) -> bool:
        return self.campaign is not None

    def fields(self) -> list[str]:
        """The top-level fields this correction sets."""
        return [name for name in type(self).model_fields if getattr(self, name) is not None]

    def touches_sole_proprietor(self) -> bool:
        """True when the trust bundle's end user (sole_proprietor_information) changes."""
        return any(getattr(self, name) is not None for name in _SOLE_PROPRIETOR_FIELDS)

    def apply_to(self, identity: CustomerIdentity) -> CustomerIdentity:
        """The corrected identity, validated again as a whole (raises ValidationError, located
        relative to the identity, e.g. ``address.postal_code``, when the result is invalid)."""
        data = identity.model_dump()
        for name in (*_STARTER_FIELDS, *_SOLE_PROPRIETOR_FIELDS):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.address is not None:
            data["address"] = {**data["address"], **self.address.model_dump(exclude_none=True)}
        return CustomerIdentity.model_validate(data)


# ---------------------------------------------------------------------------------------------
# Errors for people
# ---------------------------------------------------------------------------------------------

_FRIENDLY: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda e: "is required",
    "extra_forbidden": lambda e: "is not a known field (check the spelling)",
    "string_type": lambda e: "must be a string",
    "bool_type": lambda e: "must be true or false",
    "bool_parsing": lambda e: "must be true or false",
    "list_type": lambda e: "must be a list",
    "dict_type": lambda e: "must be an object",
    "model_type": lambda e: "must be an object",
    "model_attributes_type": lambda e: "must be an object",
    "float_type": lambda e: "must be a number",
    "float_parsing": lambda e: "must be a number",
    "finite_number": lambda e: "must be a finite number",
    "time_delta_type": lambda e: 'must be a duration: ISO 8601 such as "PT30S" or "P1D", or a number of seconds',
    "time_delta_parsing": lambda e: 'must be a duration: ISO 8601 such as "PT30S" or "P1D", or a number of seconds',
    "literal_error": lambda e: f"must be one of {e.get('ctx', {}).get('expected', '')}",
}


def _field_path(loc: Iterable[str | int]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def format_validation_error(err: ValidationError) -> list[dict[str, str]]:
    """``[{"field": "customer.address.postal_code", "message": "must be a US ZIP code: ..."}]``.

    ``field`` is the dotted path (list items as ``[i]``), ``""`` for a rule about the whole
    object. Messages are the rule in words, without pydantic's prefixes."""
    out = []
    for e in err.errors(include_url=False):
        friendly = _FRIENDLY.get(e["type"])
        message = friendly(e) if friendly else e["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        out.append({"field": _field_path(e["loc"]), "message": message})
    return out


def describe_validation_error(err: ValidationError) -> str:
    """One ``field: message`` line per error, for a terminal or a log."""
    return "\n".join(
        f"{item['field']}: {item['message']}" if item["field"] else item["message"]
        for item in format_validation_error(err)
    )
