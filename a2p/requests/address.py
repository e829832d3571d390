"""A US or Canadian postal address, and the changes a correction may make to one.

Region and postal code are checked against the country (and a Canadian postal code against the
province it serves).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from a2p.requests.errors import raise_at, rule_error
from a2p.requests.fields import MODEL_CONFIG, Text


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

    model_config = MODEL_CONFIG

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
                raise rule_error(
                    "iso_country",
                    "must be US or CA: Sole Proprietor registration is only for customers in the US and Canada",
                )
        return v

    @model_validator(mode="after")
    def _country_rules(self) -> PostalAddress:
        raise_at("PostalAddress", _address_errors(self.iso_country, self.region, self.postal_code))
        return self


class AddressCorrection(BaseModel):
    """Changed address fields only (at least one). The country cannot change; whether region and
    postal code fit the country is checked by ``Correction.apply_to``. ``street_secondary=""``
    clears the second street line."""

    model_config = MODEL_CONFIG

    street: Text(1, 255) | None = None
    street_secondary: Text(0, 255) | None = None
    city: Text(1, 255) | None = None
    region: Region | None = None
    postal_code: PostalCode | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_country(cls, data: Any) -> Any:
        if isinstance(data, dict) and "iso_country" in data:
            raise_at("AddressCorrection", [(
                ("iso_country",), "country_change",
                "the country of an address cannot be changed by a correction; "
                "register the customer again with the new address",
                data["iso_country"],
            )])
        return data

    @model_validator(mode="after")
    def _check(self) -> AddressCorrection:
        if not any(getattr(self, name) is not None for name in type(self).model_fields):
            raise rule_error("empty_correction", "give at least one address field to correct: "
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
        raise_at("AddressCorrection", errors)
        return self
