"""Boundary models: a registration is validated here, before anything reaches Twilio.

Every rule raises an error whose location names the field (``customer.address.postal_code``) and
whose message states the rule in words an ISV engineer understands; ``format_validation_error``
turns a ``ValidationError`` into ``[{"field": ..., "message": ...}]`` for the HTTP service and CLI.

The field rules are shared as ``Annotated`` types (``E164Phone``, ``NanpMobile``, ``Email``,
``BrandName``, ``Sid("BU")``, ...), so every model applies the same validation.

All models are frozen, forbid unknown fields, strip whitespace and round-trip through
``model_dump(mode="json")`` / ``model_validate`` (they travel through Temporal's pydantic data
converter): every normalisation is idempotent.

One module per concept, each importing only those above it:

- ``errors``: how a rule raises, and ``format_validation_error`` / ``describe_validation_error``;
- ``fields``: the shared field types and the models' configuration;
- ``address``: ``PostalAddress``, ``AddressCorrection``;
- ``campaign``: ``CampaignDetails``, ``MessagingServiceSpec``, ``CampaignCorrection``, ``merge_campaign``;
- ``registration``: ``CustomerIdentity``, ``RegistrationRequest``, ``LegacyConversionRequest``;
- ``corrections``: ``Correction`` and the correction field lists.

Every name is also importable from ``a2p.requests`` itself.

Sources: seed 000 (customer fields, campaign parameters), seed 001 (legacy conversion),
ENDPOINTS.md 2 and 3.6, FACTS.md.
"""

from a2p.requests.address import CA_REGIONS, US_REGIONS, AddressCorrection, PostalAddress, PostalCode, Region, StreetSecondary
from a2p.requests.campaign import CampaignCorrection, CampaignDetails, MessagingServiceSpec, merge_campaign
from a2p.requests.corrections import (
    CAMPAIGN_CORRECTION_FIELDS,
    SOLE_PROPRIETOR_CORRECTION_FIELDS,
    STARTER_CORRECTION_FIELDS,
    Correction,
)
from a2p.requests.errors import describe_validation_error, format_validation_error
from a2p.requests.fields import (
    BrandName,
    E164Phone,
    Email,
    HttpUrlStr,
    IsvCustomerId,
    Keyword,
    Keywords,
    NanpMobile,
    PersonName,
    Sid,
    Text,
    Vertical,
    VerticalCode,
)
from a2p.requests.registration import CustomerIdentity, LegacyConversionRequest, RegistrationRequest
from a2p.timings import Timings

__all__ = [
    "CAMPAIGN_CORRECTION_FIELDS",
    "CA_REGIONS",
    "SOLE_PROPRIETOR_CORRECTION_FIELDS",
    "STARTER_CORRECTION_FIELDS",
    "US_REGIONS",
    "AddressCorrection",
    "BrandName",
    "CampaignCorrection",
    "CampaignDetails",
    "Correction",
    "CustomerIdentity",
    "E164Phone",
    "Email",
    "HttpUrlStr",
    "IsvCustomerId",
    "Keyword",
    "Keywords",
    "LegacyConversionRequest",
    "MessagingServiceSpec",
    "NanpMobile",
    "PersonName",
    "PostalAddress",
    "PostalCode",
    "Region",
    "RegistrationRequest",
    "Sid",
    "StreetSecondary",
    "Text",
    "Timings",
    "Vertical",
    "VerticalCode",
    "describe_validation_error",
    "format_validation_error",
    "merge_campaign",
]
