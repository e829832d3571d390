"""Boundary models (a2p.requests) and timings (a2p.timings)."""

from __future__ import annotations

import copy
import inspect
import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from a2p.constants import VERTICALS
from a2p.requests import (
    AddressCorrection,
    CampaignCorrection,
    CampaignDetails,
    Correction,
    CustomerIdentity,
    LegacyConversionRequest,
    MessagingServiceSpec,
    PostalAddress,
    RegistrationRequest,
    Vertical,
    describe_validation_error,
    format_validation_error,
    merge_campaign,
)
from a2p.timings import Timings, human_duration

EXAMPLE = Path(__file__).resolve().parents[2] / "a2p" / "examples" / "registration.json"
DELETE = object()

MG = "MG" + "a" * 32
PN = "PN" + "b" * 32
AC = "AC" + "c" * 32
BU = "BU" + "d" * 32
BN = "BN" + "e" * 32


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


def with_(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with paths (``customer__address__region``) set, or deleted with DELETE."""
    data = copy.deepcopy(data)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = data
        for key in parents:
            node = node[key]
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return data


def errors(model: type[BaseModel], data: Any) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return format_validation_error(info.value)


def assert_error(model: type[BaseModel], data: Any, field: str, fragment: str) -> None:
    found = errors(model, data)
    assert any(e["field"] == field and fragment in e["message"] for e in found), found


def campaign(**changes: Any) -> dict[str, Any]:
    return with_(example()["campaign"], **changes)


def legacy(**changes: Any) -> dict[str, Any]:
    base = {
        "isv_customer_id": "crm-10042",
        "trust_bundle_sid": BU,
        "brand_sid": BN,
        "brand_name": "John Doe",
        "mobile_number": "+14155550124",
        "vertical": "COMMUNICATION",
    }
    return with_(base, **changes)


# ----------------------------------------------------------------------------------------------
# The example and round trips
# ----------------------------------------------------------------------------------------------


def test_example_is_valid() -> None:
    request = RegistrationRequest.model_validate_json(EXAMPLE.read_text())
    assert request.workflow_id == "a2p-registration-crm-10042"
    assert request.customer.brand_name == "John Doe Photography"
    assert request.customer.vertical == "PROFESSIONAL"
    assert request.messaging_service.friendly_name == "John Doe Photography"
    assert request.timings == Timings()
    assert request.mock_brand is False


def test_to_twilio_kwargs_matches_the_sdk_signature() -> None:
    from twilio.rest.messaging.v1.service.us_app_to_person import UsAppToPersonList

    kwargs = RegistrationRequest.model_validate(example()).campaign.to_twilio_kwargs()
    assert kwargs["us_app_to_person_usecase"] == "SOLE_PROPRIETOR"
    assert "brand_registration_sid" not in kwargs and "use_twilio_default_opt_out" not in kwargs
    assert None not in kwargs.values()
    inspect.signature(UsAppToPersonList.create).bind(None, brand_registration_sid=BN, **kwargs)

    full = CampaignDetails.model_validate(campaign(
        use_twilio_default_opt_out=False,
        opt_in_message="John Doe Photography: you are subscribed. Reply HELP for help, STOP to opt out.",
        opt_in_keywords=["START"],
        opt_out_message="John Doe Photography: you are unsubscribed and will get no more messages.",
        opt_out_keywords=["STOP", "QUIT"],
        help_message="John Doe Photography: for help email john.doe@example.com. Reply STOP to opt out.",
        help_keywords=["HELP"],
    )).to_twilio_kwargs()
    assert full["opt_out_keywords"] == ["STOP", "QUIT"]
    inspect.signature(UsAppToPersonList.create).bind(None, brand_registration_sid=BN, **full)


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (RegistrationRequest, example()),
        (RegistrationRequest, with_(example(), subaccount_sid=AC, mock_brand=True,
                                    timings=Timings.fast().model_dump(mode="json"),
                                    messaging_service={"existing_sid": MG, "phone_number_sid": PN})),
        (RegistrationRequest, with_(example(), customer__address={
            "street": "24 Sussex Dr", "street_secondary": "Unit 2", "city": "Ottawa",
            "region": "on", "postal_code": "k1m1m4", "iso_country": "ca"})),
        (LegacyConversionRequest, legacy()),
        (LegacyConversionRequest, legacy(campaign=example()["campaign"], messaging_service={"existing_sid": MG})),
        (Correction, {"email": "Jane@Example.COM", "address": {"postal_code": "02116"}, "vertical": "retail"}),
        (Timings, {"otp_deadline": "P14D", "poll_backoff": 1.5}),
    ],
)
def test_json_round_trip(model: type[BaseModel], data: dict[str, Any]) -> None:
    obj = model.model_validate(data)
    dumped = obj.model_dump(mode="json")
    json.dumps(dumped)  # plain JSON
    assert model.model_validate(dumped) == obj
    assert model.model_validate_json(obj.model_dump_json()) == obj


def test_round_trip_through_temporal_pydantic_converter() -> None:
    from temporalio.contrib.pydantic import pydantic_data_converter

    request = RegistrationRequest.model_validate(with_(example(), timings=Timings.fast().model_dump(mode="json")))
    correction = Correction.model_validate({"address": {"street_secondary": ""}, "vertical": "RETAIL"})
    converter = pydantic_data_converter.payload_converter
    payloads = converter.to_payloads([request, correction])
    assert converter.from_payloads(payloads, [RegistrationRequest, Correction]) == [request, correction]


def test_timedelta_survives_json() -> None:
    request = RegistrationRequest.model_validate(with_(example(), timings={"settle_wait": 0.5, "otp_deadline": "P7D"}))
    dumped = request.model_dump(mode="json")
    assert dumped["timings"]["settle_wait"] == "PT0.5S"
    again = RegistrationRequest.model_validate(dumped)
    assert again.timings.settle_wait == timedelta(seconds=0.5)
    assert again.timings.otp_deadline == timedelta(days=7)


def test_models_are_frozen() -> None:
    request = RegistrationRequest.model_validate(example())
    with pytest.raises(ValidationError):
        request.isv_customer_id = "other"  # type: ignore[misc]


def test_json_schema_names_what_each_request_requires() -> None:
    """The schemas the API documents: a signup service builds its requests from them."""
    schemas = {m.__name__: json.loads(json.dumps(m.model_json_schema()))
               for m in (RegistrationRequest, LegacyConversionRequest, Correction)}
    assert {"isv_customer_id", "customer", "messaging_service"} <= set(schemas["RegistrationRequest"]["required"])
    assert {"isv_customer_id", "trust_bundle_sid", "brand_sid"} <= set(schemas["LegacyConversionRequest"]["required"])
    assert "required" not in schemas["Correction"]  # any subset of the fields
    assert {"email", "address", "mobile_number", "campaign"} <= set(schemas["Correction"]["properties"])


def test_vertical_matches_constants() -> None:
    assert get_args(Vertical) == VERTICALS and len(VERTICALS) == 23


# ----------------------------------------------------------------------------------------------
# Every rule fails with the field and the rule named
# ----------------------------------------------------------------------------------------------

MOBILE = "must be a US or Canadian mobile number in E.164 form, e.g. +14155550123"
E164 = "must be a phone number in E.164 form"
EMAIL = "must be an email address such as name@example.com"
BRAND = "brand_name must be the customer's real business name or first and last name, not an id or email"


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        # request
        ({"isv_customer_id": "crm 10042"}, "isv_customer_id", "each a letter, digit, '.', '_', ':' or '-'"),
        ({"isv_customer_id": ""}, "isv_customer_id", "must be 1 to 64 characters"),
        ({"isv_customer_id": "x" * 65}, "isv_customer_id", "must be 1 to 64 characters"),
        ({"isv_customer_id": "crm/10042"}, "isv_customer_id", "workflow id"),
        ({"subaccount_sid": "AC123"}, "subaccount_sid", "must be an account SID: AC followed by 32 lower-case hex"),
        ({"subaccount_sid": BU}, "subaccount_sid", "(this is a Trust Hub bundle SID)"),
        ({"customer": DELETE}, "customer", "is required"),
        ({"surprise": 1}, "surprise", "is not a known field"),
        ({"mock_brand": "maybe"}, "mock_brand", "must be true or false"),
        ({"timings": {"poll_backoff": 0.5}}, "timings.poll_backoff", "must be at least 1"),
        # names
        ({"customer__first_name": "   "}, "customer.first_name", "must not be empty"),
        ({"customer__last_name": "D" * 101}, "customer.last_name", "must be 1 to 100 characters long (it has 101)"),
        ({"customer__first_name": "1234"}, "customer.first_name", "it contains no letter"),
        ({"customer__first_name": 42}, "customer.first_name", "must be a string"),
        # email
        ({"customer__email": "john.doe at example.com"}, "customer.email", EMAIL),
        ({"customer__email": "john doe@example.com"}, "customer.email", "no spaces"),
        ({"customer__email": "john@doe@example.com"}, "customer.email", "one @"),
        ({"customer__email": "john@localhost"}, "customer.email", "the domain needs a dot"),
        ({"customer__email": "john@example.c"}, "customer.email", "top-level domain of 2 or more letters"),
        ({"customer__email": "john@example.123"}, "customer.email", "top-level domain of 2 or more letters"),
        ({"customer__email": "john@example..com"}, "customer.email", "empty part"),
        ({"customer__email": "john@-example.com"}, "customer.email", "not allowed in a domain"),
        ({"customer__email": "john..doe@example.com"}, "customer.email", "two in a row"),
        # business phone
        ({"customer__business_phone": "4155550123"}, "customer.business_phone", "it must start with +"),
        ({"customer__business_phone": "+1415555"}, "customer.business_phone", E164),
        ({"customer__business_phone": "+4420 7946 0958 1234 5"}, "customer.business_phone", "8 to 15 digits"),
        ({"customer__business_phone": "+0415555012"}, "customer.business_phone", E164),
        ({"customer__business_phone": "+1415555012"}, "customer.business_phone", "exactly 10 digits after +1"),
        ({"customer__business_phone": "+1 415 555 0123 ext 4"}, "customer.business_phone", E164),
        # mobile number
        ({"customer__mobile_number": "+442079460958"}, "customer.mobile_number", MOBILE),
        ({"customer__mobile_number": "4155550124"}, "customer.mobile_number", MOBILE),
        ({"customer__mobile_number": "+1415555012"}, "customer.mobile_number", "+1 then 10 digits"),
        ({"customer__mobile_number": "+10155550124"}, "customer.mobile_number", "may start with 0 or 1"),
        ({"customer__mobile_number": "+14151550124"}, "customer.mobile_number", "may start with 0 or 1"),
        ({"customer__mobile_number": "+19115550124"}, "customer.mobile_number", "N11"),
        ({"customer__mobile_number": "+18005550124"}, "customer.mobile_number", "toll-free"),
        ({"customer__mobile_number": "+18765550124"}, "customer.mobile_number", "Jamaica"),
        # brand name
        ({"customer__brand_name": ""}, "customer.brand_name", "must not be empty"),
        ({"customer__brand_name": "B" * 256}, "customer.brand_name", "must be 1 to 255 characters"),
        ({"customer__brand_name": "john.doe@example.com"}, "customer.brand_name", BRAND + " (it looks like an email"),
        ({"customer__brand_name": "3f2b8c1e-9d4a-4b7e-8f6a-1c2d3e4f5a6b"}, "customer.brand_name", "UUID"),
        ({"customer__brand_name": "3f2b8c1e9d4a4b7e8f6a1c2d3e4f5a6b"}, "customer.brand_name", "UUID"),
        ({"customer__brand_name": "ACe2f8e1f2a3b4c5d6e7f8a9b0c1d2e3f4"}, "customer.brand_name", "Twilio SID"),
        ({"customer__brand_name": "0x5f3a9c2e7b1d"}, "customer.brand_name", "hexadecimal id"),
        ({"customer__brand_name": "10042"}, "customer.brand_name", "no letters"),
        ({"customer__brand_name": "customer100423"}, "customer.brand_name", "account id"),
        ({"customer__brand_name": "cus_9s6XKzkNRiz8i3"}, "customer.brand_name", "account id"),
        # vertical
        ({"customer__vertical": "PHOTOGRAPHY"}, "customer.vertical", "must be one of AGRICULTURE, COMMUNICATION"),
        ({"customer__vertical": 7}, "customer.vertical", "must be one of"),
        # address
        ({"customer__address__street": ""}, "customer.address.street", "must not be empty"),
        ({"customer__address__city": "C" * 256}, "customer.address.city", "must be 1 to 255 characters"),
        ({"customer__address__iso_country": "MX"}, "customer.address.iso_country", "must be US or CA"),
        ({"customer__address__region": "Massachusetts"}, "customer.address.region", "US state, DC or territory code"),
        ({"customer__address__region": "ON"}, "customer.address.region", "US state, DC or territory code"),
        ({"customer__address__postal_code": "2215"}, "customer.address.postal_code", "US ZIP code: 12345 or 12345-6789"),
        ({"customer__address__postal_code": "02215-41"}, "customer.address.postal_code", "US ZIP code"),
        ({"customer__address__postal_code": "K1A 0B1"}, "customer.address.postal_code", "US ZIP code"),
        ({"customer__address__iso_country": "CA", "customer__address__postal_code": "K1A 0B1"},
         "customer.address.region", "Canadian province or territory code: AB BC MB"),
        ({"customer__address__iso_country": "CA", "customer__address__region": "ON"},
         "customer.address.postal_code", "Canadian postal code such as K1A 0B1"),
        ({"customer__address__iso_country": "CA", "customer__address__region": "ON",
          "customer__address__postal_code": "D1A 1A1"}, "customer.address.postal_code", "Canadian postal code"),
        ({"customer__address__iso_country": "CA", "customer__address__region": "QC",
          "customer__address__postal_code": "K1A 0B1"}, "customer.address.postal_code",
         "starting with K is in ON, but region is QC"),
        ({"customer__address__country": "US"}, "customer.address.country", "is not a known field"),
        # campaign texts
        ({"campaign__description": "Too short."}, "campaign.description", "must be 40 to 4096 characters long (it has 10)"),
        ({"campaign__description": "d" * 4097}, "campaign.description", "must be 40 to 4096 characters"),
        ({"campaign__message_flow": "Opt in on the web."}, "campaign.message_flow", "must be 40 to 2048 characters"),
        ({"campaign__message_flow": "f" * 2049}, "campaign.message_flow", "must be 40 to 2048 characters"),
        ({"campaign__message_samples": ["John Doe Photography: see you at [time]."]},
         "campaign.message_samples", "must have 2 to 5 sample messages (it has 1)"),
        ({"campaign__message_samples": ["John Doe Photography: see you at [time]."] * 6},
         "campaign.message_samples", "must have 2 to 5 sample messages (it has 6)"),
        ({"campaign__message_samples": ["John Doe Photography: see you at [time].", "Too short"]},
         "campaign.message_samples[1]", "must be 20 to 1024 characters long (it has 9)"),
        ({"campaign__message_samples": ["s" * 1025, "John Doe Photography: see you at [time]."]},
         "campaign.message_samples[0]", "must be 20 to 1024 characters"),
        ({"campaign__message_samples": "one string"}, "campaign.message_samples", "must be a list"),
        ({"campaign__has_embedded_links": DELETE}, "campaign.has_embedded_links", "is required"),
        ({"campaign__has_embedded_phone": DELETE}, "campaign.has_embedded_phone", "is required"),
        ({"campaign__opt_in_message": "Too short"}, "campaign.opt_in_message", "must be 20 to 320 characters"),
        ({"campaign__opt_out_message": "o" * 321}, "campaign.opt_out_message", "must be 20 to 320 characters"),
        ({"campaign__help_message": "Help?"}, "campaign.help_message", "must be 20 to 320 characters"),
        ({"campaign__opt_out_keywords": ["STOP", "OPT OUT"]}, "campaign.opt_out_keywords[1]",
         "one word of ASCII letters and digits only"),
        ({"campaign__help_keywords": ["HELP!"]}, "campaign.help_keywords[0]", "letters and digits only"),
        ({"campaign__opt_in_keywords": ["K" * 256]}, "campaign.opt_in_keywords[0]", "at most 255 characters"),
        ({"campaign__privacy_policy_url": "johndoephotography.example.com/privacy"},
         "campaign.privacy_policy_url", "must be an http:// or https:// URL"),
        ({"campaign__terms_and_conditions_url": "ftp://example.com/terms"},
         "campaign.terms_and_conditions_url", "http:// or https://"),
        ({"campaign__terms_and_conditions_url": "https://exa mple.com/terms"},
         "campaign.terms_and_conditions_url", "http:// or https://"),
        ({"campaign__subscriber_opt_in": "sometimes"}, "campaign.subscriber_opt_in", "must be true or false"),
        ({"campaign__message_samples": [
            "John Doe Photography: your gallery is at https://jdp.example.com/g/[id]. Reply STOP to opt out.",
            "John Doe Photography: see you at [time] on [date]. Reply STOP to opt out."]},
         "campaign.has_embedded_links", "must be true: message_samples[0] contains a link"),
        # messaging service
        ({"messaging_service": {}}, "messaging_service", "give exactly one of existing_sid"),
        ({"messaging_service": {"existing_sid": MG, "friendly_name": "John Doe Photography"}},
         "messaging_service", "give exactly one of existing_sid"),
        ({"messaging_service": {"existing_sid": "MG123"}}, "messaging_service.existing_sid",
         "must be a Messaging Service SID: MG followed by 32"),
        ({"messaging_service": {"existing_sid": "MG" + "g" * 32}}, "messaging_service.existing_sid",
         "Messaging Service SID"),
        ({"messaging_service": {"friendly_name": "N" * 65}}, "messaging_service.friendly_name",
         "must be 1 to 64 characters"),
        ({"messaging_service": {"friendly_name": "JDP", "phone_number_sid": MG}},
         "messaging_service.phone_number_sid", "must be a phone number SID: PN"),
    ],
)
def test_registration_rule(changes: dict[str, Any], field: str, fragment: str) -> None:
    assert_error(RegistrationRequest, with_(example(), **changes), field, fragment)


@pytest.mark.parametrize(
    "name",
    ["John Doe", "John Doe Photography", "7-Eleven Corner Shop", "1-800-Flowers.com", "Route-66 Diner",
     "Café Zoë", "O'Brien & Sons", "3M Studio", "Acme-Widgets2024", "Pets @ Home", "Studio 54321 Dance"],
)
def test_brand_name_accepts_real_names(name: str) -> None:
    assert RegistrationRequest.model_validate(with_(example(), customer__brand_name=name)).customer.brand_name == name


@pytest.mark.parametrize(
    "email", ["john.doe@example.com", "j+tag@mail.example.co.uk", "jo@xn--mnchen-3ya.de", "ana@münchen.de"]
)
def test_email_accepts_valid_addresses(email: str) -> None:
    RegistrationRequest.model_validate(with_(example(), customer__email=email))


@pytest.mark.parametrize(
    "mobile", ["+14165550199", "+1 (787) 555-0123", "+16045550123", "+1-212-555-0100"]
)
def test_mobile_accepts_us_and_canadian_numbers(mobile: str) -> None:
    RegistrationRequest.model_validate(with_(example(), customer__mobile_number=mobile))


# ----------------------------------------------------------------------------------------------
# Normalisations
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "attribute", "expected"),
    [
        ({"customer__business_phone": "+1 (415) 555-0123"}, "business_phone", "+14155550123"),
        ({"customer__business_phone": "+44 20.7946.0958"}, "business_phone", "+442079460958"),
        ({"customer__mobile_number": " +1 415-555-0124 "}, "mobile_number", "+14155550124"),
        ({"customer__email": "John.Doe@Example.COM"}, "email", "John.Doe@example.com"),
        ({"customer__first_name": "  John "}, "first_name", "John"),
        ({"customer__vertical": "real estate"}, "vertical", "REAL_ESTATE"),
        ({"customer__vertical": "human-resources"}, "vertical", "HUMAN_RESOURCES"),
    ],
)
def test_customer_normalisation(changes: dict[str, Any], attribute: str, expected: str) -> None:
    customer = RegistrationRequest.model_validate(with_(example(), **changes)).customer
    assert getattr(customer, attribute) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ({"region": "ma", "postal_code": "02215-4147"}, {"region": "MA", "postal_code": "02215-4147"}),
        ({"region": " pr ", "iso_country": "us"}, {"region": "PR", "iso_country": "US"}),
        ({"region": "on", "postal_code": "k1a0b1", "iso_country": "CA"}, {"region": "ON", "postal_code": "K1A 0B1"}),
        ({"region": "BC", "postal_code": "v6b  1a1", "iso_country": "ca"}, {"postal_code": "V6B 1A1", "iso_country": "CA"}),
        ({"region": "NU", "postal_code": "X0A-0H0", "iso_country": "CA"}, {"postal_code": "X0A 0H0"}),
        ({"street_secondary": "   "}, {"street_secondary": None}),
        ({"street_secondary": " Apt 2 "}, {"street_secondary": "Apt 2"}),
    ],
)
def test_address_normalisation(address: dict[str, Any], expected: dict[str, Any]) -> None:
    base = {"street": "1 Jersey St", "city": "Boston", "region": "MA", "postal_code": "02215", "iso_country": "US"}
    result = PostalAddress.model_validate({**base, **address})
    for key, value in expected.items():
        assert getattr(result, key) == value


def test_sid_case_is_normalised() -> None:
    spec = MessagingServiceSpec.model_validate({"existing_sid": "mg" + "A" * 32})
    assert spec.existing_sid == MG


def test_empty_keyword_list_means_none() -> None:
    details = CampaignDetails.model_validate(campaign(opt_in_keywords=[]))
    assert details.opt_in_keywords is None and "opt_in_keywords" not in details.to_twilio_kwargs()


# ----------------------------------------------------------------------------------------------
# Campaign conditional requirements
# ----------------------------------------------------------------------------------------------


def test_own_opt_out_requires_each_message_and_keyword_list() -> None:
    found = errors(CampaignDetails, campaign(use_twilio_default_opt_out=False))
    assert {e["field"] for e in found} == {"opt_out_message", "opt_out_keywords", "help_message", "help_keywords"}
    assert all("is required when use_twilio_default_opt_out is false" in e["message"] for e in found)


def test_own_opt_out_names_only_the_missing_ones() -> None:
    found = errors(CampaignDetails, campaign(
        use_twilio_default_opt_out=False,
        opt_out_message="John Doe Photography: you are unsubscribed and will get no more messages.",
        opt_out_keywords=["STOP"],
    ))
    assert [e["field"] for e in found] == ["help_message", "help_keywords"]


def test_own_opt_out_complete_is_valid() -> None:
    CampaignDetails.model_validate(campaign(
        use_twilio_default_opt_out=False,
        opt_out_message="John Doe Photography: you are unsubscribed and will get no more messages.",
        opt_out_keywords=["STOP", "ARRET"],
        help_message="John Doe Photography: for help email john.doe@example.com. Reply STOP to opt out.",
        help_keywords=["HELP", "INFO"],
    ))


def test_opt_in_keywords_require_opt_in_message() -> None:
    found = errors(CampaignDetails, campaign(opt_in_keywords=["START", "JOIN"]))
    assert found == [{
        "field": "opt_in_message",
        "message": "is required when opt_in_keywords are given: the auto-reply sent to someone who texts an "
                   "opt-in keyword",
    }]
    CampaignDetails.model_validate(campaign(
        opt_in_keywords=["START"],
        opt_in_message="John Doe Photography: you are subscribed. Reply HELP for help, STOP to opt out.",
    ))


def test_links_in_samples_are_fine_when_declared() -> None:
    CampaignDetails.model_validate(campaign(
        has_embedded_links=True,
        message_samples=["John Doe Photography: gallery at https://jdp.example.com/g/[id]. Reply STOP to opt out.",
                         "John Doe Photography: see you at [time] on [date]. Reply STOP to opt out."],
    ))


# ----------------------------------------------------------------------------------------------
# Legacy conversion
# ----------------------------------------------------------------------------------------------


def test_legacy_conversion() -> None:
    request = LegacyConversionRequest.model_validate(legacy(mobile_number="+1 (415) 555-0124"))
    assert request.workflow_id == "a2p-conversion-crm-10042"
    assert request.mobile_number == "+14155550124"
    assert request.campaign is None and request.messaging_service is None
    assert request.timings == Timings()


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"trust_bundle_sid": BN}, "trust_bundle_sid", "must be a Trust Hub bundle SID: BU"),
        ({"brand_sid": BU}, "brand_sid", "must be a brand registration SID: BN"),
        ({"trust_bundle_sid": DELETE}, "trust_bundle_sid", "is required"),
        ({"brand_name": "acct_00a1b2c3d4"}, "brand_name", BRAND),
        ({"mobile_number": "+18095550123"}, "mobile_number", MOBILE),
        ({"vertical": "BAKERY"}, "vertical", "must be one of"),
        ({"isv_customer_id": "a b"}, "isv_customer_id", "workflow id"),
        ({"campaign": example()["campaign"]}, "messaging_service", "is required when campaign is given"),
        ({"messaging_service": {"existing_sid": MG}}, "messaging_service", "give campaign too"),
        ({"campaign": campaign(description="short")}, "campaign.description", "must be 40 to 4096"),
        ({"mock_brand": True}, "mock_brand", "is not a known field"),
    ],
)
def test_legacy_conversion_rule(changes: dict[str, Any], field: str, fragment: str) -> None:
    assert_error(LegacyConversionRequest, legacy(**changes), field, fragment)


# ----------------------------------------------------------------------------------------------
# Corrections
# ----------------------------------------------------------------------------------------------


def identity(**changes: Any) -> CustomerIdentity:
    return CustomerIdentity.model_validate(with_(example()["customer"], **changes))


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({}, "", "give at least one field to correct: first_name, last_name, email"),
        ({"first_name": None}, "", "give at least one field to correct"),
        ({"address": {}}, "address", "give at least one address field to correct"),
        ({"address": {"iso_country": "CA", "region": "ON"}}, "address.iso_country", "cannot be changed"),
        ({"address": {"region": "XX"}}, "address.region", "US state/territory code (e.g. MA) or a Canadian"),
        ({"address": {"postal_code": "ABC"}}, "address.postal_code", "US ZIP code (12345 or 12345-6789) or"),
        ({"email": "nobody"}, "email", EMAIL),
        ({"business_phone": "555-0123"}, "business_phone", E164),
        ({"mobile_number": "+442079460958"}, "mobile_number", MOBILE),
        ({"brand_name": "jdoe@example.com"}, "brand_name", BRAND),
        ({"vertical": "ART"}, "vertical", "must be one of"),
        ({"last_name": ""}, "last_name", "must not be empty"),
        ({"nickname": "JD"}, "nickname", "is not a known field"),
    ],
)
def test_correction_rule(data: dict[str, Any], field: str, fragment: str) -> None:
    assert_error(Correction, data, field, fragment)


@pytest.mark.parametrize(
    ("data", "starter", "address", "sole_proprietor"),
    [
        ({"email": "jd@example.org"}, True, False, False),
        ({"first_name": "Jon", "last_name": "Doe"}, True, False, False),
        ({"business_phone": "+14155550199"}, True, False, False),
        ({"address": {"street": "2 Jersey St"}}, False, True, False),
        ({"brand_name": "JD Photo"}, False, False, True),
        ({"mobile_number": "+14155550199"}, False, False, True),
        ({"vertical": "RETAIL"}, False, False, True),
        ({"email": "jd@example.org", "address": {"city": "Cambridge"}, "vertical": "RETAIL"}, True, True, True),
    ],
)
def test_correction_touches(data: dict[str, Any], starter: bool, address: bool, sole_proprietor: bool) -> None:
    correction = Correction.model_validate(data)
    assert correction.touches_starter_profile() is starter
    assert correction.touches_address() is address
    assert correction.touches_sole_proprietor() is sole_proprietor


# A campaign correction: any subset of the campaign's fields, each by the same rules as at start.
@pytest.mark.parametrize(
    ("campaign_changes", "field", "fragment"),
    [
        ({}, "campaign", "give at least one campaign field to change"),
        ({"message_flow": "Opt in on the web."}, "campaign.message_flow", "must be 40 to 2048 characters"),
        ({"description": "Too short."}, "campaign.description", "must be 40 to 4096 characters"),
        ({"message_samples": ["John Doe Photography: see you at [time]."]}, "campaign.message_samples",
         "must have 2 to 5 sample messages (it has 1)"),
        ({"message_samples": ["John Doe Photography: see you at [time].", "Too short"]},
         "campaign.message_samples[1]", "must be 20 to 1024 characters"),
        ({"opt_in_message": "Too short"}, "campaign.opt_in_message", "must be 20 to 320 characters"),
        ({"help_keywords": ["HELP!"]}, "campaign.help_keywords[0]", "letters and digits only"),
        ({"privacy_policy_url": "johndoephotography.example.com/privacy"}, "campaign.privacy_policy_url",
         "must be an http:// or https:// URL"),
        ({"age_gated": "sometimes"}, "campaign.age_gated", "must be true or false"),
        ({"usecase": "MARKETING"}, "campaign.usecase", "is not a known field"),
    ],
)
def test_campaign_correction_rule(campaign_changes: dict[str, Any], field: str, fragment: str) -> None:
    assert_error(Correction, {"campaign": campaign_changes}, field, fragment)


def test_campaign_correction_is_any_subset_of_the_campaign() -> None:
    assert set(CampaignCorrection.model_fields) == set(CampaignDetails.model_fields)
    flow = "Customers opt in by texting JOIN to the number on the counter sign; consent is recorded."
    correction = Correction.model_validate({"campaign": {"message_flow": flow}})
    assert correction.fields() == ["campaign"] and correction.touches_campaign()
    assert not (correction.touches_starter_profile() or correction.touches_sole_proprietor())
    assert correction.campaign.model_dump(exclude_none=True) == {"message_flow": flow}
    merged = merge_campaign(CampaignDetails.model_validate(campaign()), correction.campaign)
    assert merged == CampaignDetails.model_validate(campaign(message_flow=flow))  # the rest kept as it was


@pytest.mark.parametrize(
    ("campaign_changes", "fields"),
    [
        # Each valid alone; with the rest of the campaign, what goes with it is missing.
        ({"use_twilio_default_opt_out": False}, {"opt_out_message", "opt_out_keywords", "help_message", "help_keywords"}),
        ({"opt_in_keywords": ["JOIN"]}, {"opt_in_message"}),
        ({"message_samples": ["John Doe Photography: your gallery is at https://jdp.example.com/[id].",
                              "John Doe Photography: see you at [time] on [date]."]}, {"has_embedded_links"}),
    ],
)
def test_campaign_correction_is_checked_against_the_whole_campaign(
        campaign_changes: dict[str, Any], fields: set[str]) -> None:
    correction = Correction.model_validate({"campaign": campaign_changes})  # well-formed on its own
    with pytest.raises(ValidationError) as info:
        merge_campaign(CampaignDetails.model_validate(campaign()), correction.campaign)
    assert {e["field"] for e in format_validation_error(info.value)} == fields


def test_address_correction_normalises_without_knowing_the_country() -> None:
    c = AddressCorrection.model_validate({"region": " ma ", "postal_code": "k1a0b1", "street_secondary": ""})
    assert (c.region, c.postal_code, c.street_secondary, c.street) == ("MA", "K1A 0B1", "", None)


def test_apply_to_changes_only_given_fields() -> None:
    before = identity(address__street_secondary="Suite 5")
    after = Correction.model_validate({
        "email": "John.Doe@Example.NET",
        "mobile_number": "+1 415 555 0199",
        "address": {"street": "10 Jersey St", "postal_code": "02215-4147"},
    }).apply_to(before)
    assert after.email == "John.Doe@example.net"
    assert after.mobile_number == "+14155550199"
    assert after.address.street == "10 Jersey St"
    assert after.address.postal_code == "02215-4147"
    assert after.address.street_secondary == "Suite 5"
    assert after.address.city == "Boston" and after.address.iso_country == "US"
    assert (after.first_name, after.last_name, after.brand_name, after.vertical) == (
        before.first_name, before.last_name, before.brand_name, before.vertical)
    assert before.email == "john.doe@example.com"  # unchanged, frozen


def test_apply_to_can_clear_street_secondary() -> None:
    before = identity(address__street_secondary="Suite 5")
    after = Correction.model_validate({"address": {"street_secondary": ""}}).apply_to(before)
    assert after.address.street_secondary is None


def test_apply_to_revalidates_against_the_country() -> None:
    correction = Correction.model_validate({"address": {"postal_code": "k1a 0b1"}})
    assert correction.address is not None and correction.address.postal_code == "K1A 0B1"
    with pytest.raises(ValidationError) as info:
        correction.apply_to(identity())
    assert format_validation_error(info.value) == [
        {"field": "address.postal_code", "message": "must be a US ZIP code: 12345 or 12345-6789"}
    ]


def test_apply_to_canadian_address() -> None:
    canadian = identity(address={"street": "24 Sussex Dr", "city": "Ottawa", "region": "ON",
                                 "postal_code": "K1M 1M4", "iso_country": "CA"})
    moved = Correction.model_validate({"address": {"city": "Montreal", "region": "qc", "postal_code": "h2x1y4"}})
    after = moved.apply_to(canadian)
    assert (after.address.city, after.address.region, after.address.postal_code) == ("Montreal", "QC", "H2X 1Y4")
    with pytest.raises(ValidationError) as info:
        Correction.model_validate({"address": {"region": "QC"}}).apply_to(canadian)
    assert format_validation_error(info.value)[0]["field"] == "address.postal_code"


# ----------------------------------------------------------------------------------------------
# format_validation_error
# ----------------------------------------------------------------------------------------------


def test_format_validation_error() -> None:
    data = with_(example(), customer__address__postal_code="ABCDE", customer__mobile_number="+14155550",
                 campaign__message_samples=["John Doe Photography: see you at [time].", "short"],
                 messaging_service={}, unknown=True)
    data["customer"].pop("email")
    with pytest.raises(ValidationError) as info:
        RegistrationRequest.model_validate(data)
    assert format_validation_error(info.value) == [
        {"field": "customer.email", "message": "is required"},
        {"field": "customer.mobile_number",
         "message": "must be a US or Canadian mobile number in E.164 form, e.g. +14155550123 (+1 then 10 digits)"},
        {"field": "customer.address.postal_code", "message": "must be a US ZIP code: 12345 or 12345-6789"},
        {"field": "campaign.message_samples[1]", "message": "must be 20 to 1024 characters long (it has 5)"},
        {"field": "messaging_service",
         "message": "give exactly one of existing_sid (use an existing Messaging Service) "
                    "or friendly_name (create a new one)"},
        {"field": "unknown", "message": "is not a known field (check the spelling)"},
    ]
    text = describe_validation_error(info.value)
    assert text.splitlines()[0] == "customer.email: is required"
    assert "customer.mobile_number: must be a US or Canadian mobile number in E.164 form, e.g. +14155550123" in text


def test_format_validation_error_without_value_error_prefix() -> None:
    with pytest.raises(ValidationError) as info:
        Correction.model_validate({})
    [item] = format_validation_error(info.value)
    assert item["field"] == "" and item["message"].startswith("give at least one field")
    assert describe_validation_error(info.value).startswith("give at least one field")


def test_format_validation_error_for_invalid_json() -> None:
    with pytest.raises(ValidationError) as info:
        RegistrationRequest.model_validate_json("{not json")
    [item] = format_validation_error(info.value)
    assert item["message"]


# ----------------------------------------------------------------------------------------------
# Timings
# ----------------------------------------------------------------------------------------------


def test_timing_defaults() -> None:
    t = Timings()
    assert t.settle_wait == timedelta(seconds=30)
    assert t.otp_resend_interval == timedelta(hours=24)
    assert t.otp_deadline == timedelta(days=30)
    assert (t.poll_initial, t.poll_max, t.poll_backoff) == (timedelta(minutes=5), timedelta(hours=6), 2.0)
    # Registrations started while Timings had a (never enforced) review_timeout keep replaying.
    assert Timings.model_validate({"review_timeout": None, "settle_wait": "PT30S"}) == t


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"settle_wait": 0}, "settle_wait", "must be a positive duration"),
        ({"otp_resend_interval": "-PT1H"}, "otp_resend_interval", "must be a positive duration"),
        ({"poll_initial": 0}, "poll_initial", "must be a positive duration"),
        ({"poll_initial": "PT7H"}, "poll_max", "must be at least poll_initial (7 h)"),
        ({"poll_initial": 60, "poll_max": 30}, "poll_max", "must be at least poll_initial (1 min)"),
        ({"poll_backoff": 0.9}, "poll_backoff", "must be at least 1"),
        ({"poll_backoff": "inf"}, "poll_backoff", "must be a finite number"),
        ({"otp_resend_interval": "P30D"}, "otp_deadline", "must be longer than otp_resend_interval (30 days)"),
        ({"otp_deadline": "PT12H"}, "otp_deadline", "must be longer than otp_resend_interval (1 day)"),
        ({"settle_wait": "soon"}, "settle_wait", "must be a duration"),
        ({"poll_jitter": 1}, "poll_jitter", "is not a known field"),
    ],
)
def test_timing_rule(data: dict[str, Any], field: str, fragment: str) -> None:
    assert_error(Timings, data, field, fragment)


def test_fast_and_compressed() -> None:
    fast = Timings.fast()
    assert fast.settle_wait == timedelta(seconds=0.5)
    assert (fast.otp_resend_interval, fast.otp_deadline) == (timedelta(seconds=6), timedelta(seconds=60))
    assert (fast.poll_initial, fast.poll_max) == (timedelta(seconds=1), timedelta(seconds=5))
    demo = Timings.compressed(1 / 3600)
    assert demo.otp_resend_interval == timedelta(seconds=24)
    assert demo.poll_max == timedelta(seconds=6)
    assert demo.poll_backoff == 2.0
    with pytest.raises(ValueError):
        Timings.compressed(0)


def test_poll_delays_grow_and_cap() -> None:
    delays = list(itertools.islice(Timings().poll_delays(), 10))
    minutes = [d / timedelta(minutes=1) for d in delays]
    assert minutes == [5, 10, 20, 40, 80, 160, 320, 360, 360, 360]
    assert list(itertools.islice(Timings().poll_delays(), 10)) == delays  # deterministic
    fast = [d.total_seconds() for d in itertools.islice(Timings.fast().poll_delays(), 5)]
    assert fast == [1, 2, 4, 5, 5]


def test_poll_delays_with_backoff_one_are_constant() -> None:
    t = Timings(poll_initial=30, poll_max=60, poll_backoff=1)
    assert list(itertools.islice(t.poll_delays(), 3)) == [timedelta(seconds=30)] * 3


@pytest.mark.parametrize(
    ("value", "text"),
    [(timedelta(seconds=30), "30 s"), (timedelta(seconds=0.5), "0.5 s"), (timedelta(minutes=5), "5 min"),
     (timedelta(hours=6), "6 h"), (timedelta(days=30), "30 days"), (timedelta(hours=24), "1 day"), (timedelta(seconds=90), "90 s")],
)
def test_human_duration(value: timedelta, text: str) -> None:
    assert human_duration(value) == text


# ----------------------------------------------------------------------------------------------
# Strict text: ASCII digits in numbers; no control characters or bidi overrides in names and texts
# ----------------------------------------------------------------------------------------------

ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"


def _digits(text: str, digits: str) -> str:
    return text.translate(str.maketrans("0123456789", digits))


@pytest.mark.parametrize("digits", [ARABIC_INDIC, "०१२३४५६७८९", "０１２３４５６７８９"])
@pytest.mark.parametrize("field", ["customer__mobile_number", "customer__business_phone",
                                   "customer__address__postal_code"])
def test_numbers_accept_ascii_digits_only(field: str, digits: str) -> None:
    data = example()
    node = data
    *parents, leaf = field.split("__")
    for key in parents:
        node = node[key]
    value = "+1" + _digits(node[leaf][2:], digits) if node[leaf].startswith("+1") else _digits(node[leaf], digits)
    found = errors(RegistrationRequest, with_(example(), **{field: value}))
    assert [e["field"] for e in found] == [field.replace("__", ".")], found
    assert_error(LegacyConversionRequest, legacy(mobile_number="+1" + _digits("4155550124", digits)),
                 "mobile_number", "US or Canadian mobile number")


@pytest.mark.parametrize("char, what", [
    ("\x00", "a control character"), ("\x1b", "a control character"), ("\x7f", "a control character"),
    ("\x85", "a control character"), ("\n", "a line break or tab"), ("\t", "a line break or tab"),
    ("\u202e", "a bidirectional text control character"), ("\u2066", "a bidirectional text control character"),
    ("\u200f", "a bidirectional text control character"),
])
@pytest.mark.parametrize("field", ["customer__first_name", "customer__last_name", "customer__brand_name",
                                   "customer__address__street", "customer__address__city"])
def test_names_refuse_control_and_bidi_characters(field: str, char: str, what: str) -> None:
    found = errors(RegistrationRequest, with_(example(), **{field: f"Jo{char}hn Doe"}))
    assert found == [{"field": field.replace("__", "."), "message": found[0]["message"]}], found
    assert what in found[0]["message"] and f"U+{ord(char):04X}" in found[0]["message"]


@pytest.mark.parametrize("char", ["\x00", "\x08", "\u202e", "\u2067"])
def test_campaign_texts_refuse_control_and_bidi_characters_but_keep_line_breaks(char: str) -> None:
    description = example()["campaign"]["description"]
    sample = example()["campaign"]["message_samples"][0]
    ok = RegistrationRequest.model_validate(with_(example(), campaign__description=description + "\nSecond line.\t"))
    assert "\nSecond line." in ok.campaign.description
    assert_error(RegistrationRequest, with_(example(), campaign__description=description + char),
                 "campaign.description", "must not contain")
    samples = [sample, sample[:10] + char + sample[10:]]
    assert_error(RegistrationRequest, with_(example(), campaign__message_samples=samples),
                 "campaign.message_samples[1]", "must not contain")
    assert_error(LegacyConversionRequest, legacy(brand_name="John" + char + "Doe"), "brand_name", "must not contain")
    assert_error(Correction, {"first_name": "Jo" + char}, "first_name", "must not contain")


def test_non_ascii_letters_stay_welcome() -> None:
    data = with_(example(), customer__first_name="Zoë", customer__brand_name="Café Zoë ‏",
                 customer__address__city="Montréal")
    found = errors(RegistrationRequest, data)  # the trailing right-to-left mark is refused, the letters are not
    assert [e["field"] for e in found] == ["customer.brand_name"]
    ok = RegistrationRequest.model_validate(with_(data, customer__brand_name="مخبز جين"))
    assert ok.customer.brand_name == "مخبز جين"


# ----------------------------------------------------------------------------------------------
# Property-based: any input is accepted clean or refused naming its field; nothing else happens
# ----------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FORBIDDEN = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} | set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d"
                                                                       "\u202e\u2066\u2067\u2068\u2069")
TEXT_FIELDS = ["customer__first_name", "customer__last_name", "customer__brand_name", "customer__email",
               "customer__business_phone", "customer__mobile_number", "customer__address__street",
               "customer__address__city", "customer__address__postal_code", "campaign__description",
               "campaign__message_flow", "isv_customer_id"]
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=4), max_leaves=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(TEXT_FIELDS), value=st.text(max_size=60) | st.sampled_from(
    ["+1415555٠١٢٣", "+14155550123\x00", "Jo\u202ehn", "０２２１５", "a" * 5000]))
def test_any_text_in_a_field_is_accepted_clean_or_refused_naming_that_field(field: str, value: str) -> None:
    try:
        request = RegistrationRequest.model_validate(with_(example(), **{field: value}))
    except ValidationError as err:
        found = format_validation_error(err)
        assert {e["field"] for e in found} == {field.replace("__", ".")}, found
        assert all(e["message"] and "{" not in e["message"][:1] for e in found)
        return
    kept = request.model_dump(mode="json")
    for key in field.split("__"):
        kept = kept[key]
    assert not set(kept) & _FORBIDDEN, repr(kept)
    if field.endswith(("phone", "mobile_number", "postal_code")):
        assert all(c.isascii() for c in kept), kept


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=JSON, model=st.sampled_from([RegistrationRequest, LegacyConversionRequest, Correction]))
def test_any_json_is_accepted_or_refused_with_field_errors(data: Any, model: type[BaseModel]) -> None:
    try:
        model.model_validate(data)
    except ValidationError as err:
        assert all(e["message"] for e in format_validation_error(err))


# A valid value of each strict field (the example's, or for the keywords a campaign that takes them)
# and the characters that must be refused anywhere inside it. Phone numbers drop whitespace as
# punctuation, so theirs are digits of other scripts; keywords are ASCII letters and digits only.
_KEYWORD_CAMPAIGN = {
    "campaign__use_twilio_default_opt_out": False,
    "campaign__opt_out_message": "John Doe Photography: you are unsubscribed and will get no more messages.",
    "campaign__opt_out_keywords": ["STOP"],
    "campaign__help_message": "John Doe Photography: for help email john.doe@example.com. Reply STOP to opt out.",
    "campaign__help_keywords": ["HELP"],
}
_OTHER_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۴०४০৪੦੪૦૪୦୪௦௪౦౪೦೪൦൪๐๔໐໔༠༤၀၄០៤᠐᠔０４𝟎𝟒"
_NOT_ASCII_WORD = _OTHER_DIGITS + "éÉßøÅΩжЖ中ｱ"
STRICT_FIELDS: dict[str, tuple[str, str]] = {  # field -> (the error's index suffix for a list, forbidden chars)
    "customer__first_name": ("", "".join(sorted(_FORBIDDEN))),
    "customer__brand_name": ("", "".join(sorted(_FORBIDDEN))),
    "customer__email": ("", "".join(sorted(_FORBIDDEN))),
    "customer__address__street": ("", "".join(sorted(_FORBIDDEN))),
    "campaign__description": ("", "".join(sorted(_FORBIDDEN - set("\n\r\t")))),
    "campaign__privacy_policy_url": ("", "".join(sorted(_FORBIDDEN))),
    "campaign__terms_and_conditions_url": ("", "".join(sorted(_FORBIDDEN))),
    "customer__mobile_number": ("", _OTHER_DIGITS + "\x00\x07\x1b\x7f\u202e"),
    "customer__business_phone": ("", _OTHER_DIGITS + "\x00\x07\x1b\x7f\u202e"),
    "customer__address__postal_code": ("", _OTHER_DIGITS + "\x00\u202e"),
    "campaign__opt_out_keywords": ("[0]", _NOT_ASCII_WORD + "".join(sorted(_FORBIDDEN))),
    "campaign__help_keywords": ("[0]", _NOT_ASCII_WORD + "".join(sorted(_FORBIDDEN))),
}


def _valid(field: str) -> tuple[dict[str, Any], str]:
    """A valid request taking ``field`` and the field's valid value there."""
    data = with_(example(), **_KEYWORD_CAMPAIGN) if "keywords" in field else example()
    node: Any = data
    for key in field.split("__"):
        node = node[key]
    return data, node[0] if isinstance(node, list) else node


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(sorted(STRICT_FIELDS)), where=st.floats(0, 1), pick=st.integers(0, 10**6))
def test_a_forbidden_character_inside_a_valid_value_is_refused_naming_the_field(field: str, where: float,
                                                                                  pick: int) -> None:
    """Any valid value with one forbidden character put anywhere inside it (not at its ends, which
    are stripped as whitespace): 422 naming that field."""
    data, value = _valid(field)
    suffix, chars = STRICT_FIELDS[field]
    char = chars[pick % len(chars)]
    at = 1 + round(where * (len(value) - 2))
    spoiled = value[:at] + char + value[at:]
    assert RegistrationRequest.model_validate(data)  # the value itself is valid
    data = with_(data, **{field: [spoiled] if suffix else spoiled})
    found = errors(RegistrationRequest, data)
    assert {e["field"] for e in found} == {field.replace("__", ".") + suffix}, (repr(spoiled), found)


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("customer__email", "jo\x00hn@example.com", "U+0000"),
    ("customer__email", "john\u202e@example.com", "U+202E"),
    ("customer__email", "john@exam\u202eple.com", "U+202E"),
    ("campaign__privacy_policy_url", "https://example.com/pri\x00vacy", "U+0000"),
    ("campaign__terms_and_conditions_url", "https://example.com/\u2066terms", "U+2066"),
])
def test_emails_and_urls_refuse_control_and_bidi_characters_naming_them(field: str, value: str,
                                                                         fragment: str) -> None:
    assert_error(RegistrationRequest, with_(example(), **{field: value}), field.replace("__", "."), fragment)


@pytest.mark.parametrize("keyword", ["STOP٠", "ＳＴＯＰ", "HÉLP", "STOP\u202e"])
def test_keywords_are_ascii_letters_and_digits_only(keyword: str) -> None:
    data = with_(example(), **{**_KEYWORD_CAMPAIGN, "campaign__opt_out_keywords": ["STOP", keyword]})
    assert_error(RegistrationRequest, data, "campaign.opt_out_keywords[1]", "ASCII")
    assert RegistrationRequest.model_validate(
        with_(example(), **{**_KEYWORD_CAMPAIGN, "campaign__opt_out_keywords": ["STOP", "END2"]}))
