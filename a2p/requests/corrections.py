"""An operator's fix of a rejected profile, a failed brand or a failed campaign: ``Correction``,
and which of its fields belong to which Twilio resource."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from a2p.requests.address import AddressCorrection
from a2p.requests.campaign import CampaignCorrection
from a2p.requests.errors import raise_at, rule_error
from a2p.requests.fields import MODEL_CONFIG, BrandName, E164Phone, Email, NanpMobile, PersonName, VerticalCode
from a2p.requests.registration import CustomerIdentity


_STARTER_FIELDS = ("first_name", "last_name", "email", "business_phone")
_SOLE_PROPRIETOR_FIELDS = ("brand_name", "mobile_number", "vertical")
STARTER_CORRECTION_FIELDS: tuple[str, ...] = (*_STARTER_FIELDS, "address")
SOLE_PROPRIETOR_CORRECTION_FIELDS: tuple[str, ...] = _SOLE_PROPRIETOR_FIELDS
CAMPAIGN_CORRECTION_FIELDS: tuple[str, ...] = ("campaign",)


class Correction(BaseModel):
    """An operator's fix of a rejected profile or a failed brand: only the fields to change.

    Starter profile end user (first_name, last_name, email, business_phone): the workflow
    re-sends ALL its attributes. Address: only the changed fields are sent. Sole proprietor end
    user: brand_name, mobile_number, vertical."""

    model_config = MODEL_CONFIG

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
            raise rule_error("empty_correction", "give at least one field to correct: " + ", ".join(type(self).model_fields))
        if self.campaign is not None and not self.campaign.model_dump(exclude_none=True):
            raise_at("Correction", [(("campaign",), "empty_correction", "give at least one campaign field to change",
                                     {})])
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
