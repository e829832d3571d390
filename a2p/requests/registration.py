"""What the ISV asks for: a new registration (``RegistrationRequest``) or the conversion of a
legacy Starter brand (``LegacyConversionRequest``); and the customer's identity both are about."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from a2p.requests.address import PostalAddress
from a2p.requests.campaign import CampaignDetails, MessagingServiceSpec
from a2p.requests.errors import raise_at
from a2p.requests.fields import (
    MODEL_CONFIG, BrandName, E164Phone, Email, IsvCustomerId, NanpMobile, PersonName, Sid, VerticalCode,
)
from a2p.timings import Timings


class CustomerIdentity(BaseModel):
    """The customer's Starter Customer Profile and Sole Proprietor information (seed 000).

    Use the customer's details, never the ISV's."""

    model_config = MODEL_CONFIG

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


class RegistrationRequest(BaseModel):
    """A new Sole Proprietor registration: profile, trust bundle, brand (+OTP), campaign."""

    model_config = MODEL_CONFIG

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

    model_config = MODEL_CONFIG

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
            raise_at("LegacyConversionRequest", [(
                ("messaging_service",), "required_when",
                "is required when campaign is given: the Messaging Service the campaign belongs to", None,
            )])
        if self.campaign is None and self.messaging_service is not None:
            raise_at("LegacyConversionRequest", [(
                ("messaging_service",), "unused",
                "is only used to create a campaign: give campaign too, or leave messaging_service out",
                None,
            )])
        return self

    @property
    def workflow_id(self) -> str:
        return f"a2p-conversion-{self.isv_customer_id}"
