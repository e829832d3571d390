"""The Twilio calls a registration makes: each one's activity name, input and output.

Workflows schedule activities by these names (they never import `twilio`); `activities/`
implements them. Inputs and outputs are small pydantic models: never SDK objects, never
credentials. ``subaccount_sid`` = None acts on the ISV's parent account.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BundleKind = Literal["customer_profile", "trust_bundle"]


class Call(StrEnum):
    """Activity names, one per Twilio call."""

    CREATE_BUNDLE = "create_bundle"                    # customer profile or trust bundle
    CREATE_END_USER = "create_end_user"
    UPDATE_END_USER = "update_end_user"
    CREATE_ADDRESS = "create_address"
    UPDATE_ADDRESS = "update_address"
    CREATE_ADDRESS_DOCUMENT = "create_address_document"
    ASSIGN_ENTITY = "assign_entity"
    LIST_ASSIGNED_END_USERS = "list_assigned_end_users"
    EVALUATE_BUNDLE = "evaluate_bundle"
    SUBMIT_BUNDLE = "submit_bundle"
    FETCH_BUNDLE = "fetch_bundle"
    REGISTER_BRAND = "register_brand"
    FETCH_BRAND = "fetch_brand"
    UPDATE_BRAND = "update_brand"
    RESEND_OTP = "resend_otp"
    CREATE_MESSAGING_SERVICE = "create_messaging_service"
    ADD_PHONE_NUMBER = "add_phone_number"
    CREATE_CAMPAIGN = "create_campaign"
    FETCH_CAMPAIGN = "fetch_campaign"
    FIND_CAMPAIGN = "find_campaign"                    # the campaign a brand already has, if any
    UPDATE_BUNDLE = "update_bundle"                    # a bundle's Email or StatusCallback
    UPDATE_CAMPAIGN = "update_campaign"                # edit and resubmit a FAILED campaign
    DELETE_CAMPAIGN = "delete_campaign"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TwilioError(_Model):
    """An error as Twilio reported it (a 4xx answer, a bundle rejection, a brand's errors[])."""

    code: int | None = None
    message: str
    fields: list[str] = Field(default_factory=list)
    http_status: int | None = None  # of a refused request (a 4xx); None for a resource's errors[]


# ---- inputs ---------------------------------------------------------------------------------


class OnAccount(_Model):
    subaccount_sid: str | None = None


class MayRepeat(OnAccount):
    """A call that makes something (a create, an assignment, a submission, a brand update). Its
    activity looks for what an earlier attempt made before it makes it again when attempt > 1, or
    when ``maybe_repeated``: the workflow cannot prove this is the first run of the call (the run
    is a reset or continued one, or an operator retried the call). ``since`` bounds that search:
    nothing this registration made is older (its start). Defaults keep old histories decoding."""

    maybe_repeated: bool = False
    since: datetime | None = None


class CreateBundle(MayRepeat):
    kind: BundleKind
    friendly_name: str
    email: str
    policy_sid: str
    status_callback: str | None = None


class BundleRef(MayRepeat):
    kind: BundleKind
    bundle_sid: str


class UpdateBundle(BundleRef):
    """Trust Hub UpdateCustomerProfile / UpdateTrustProduct: only the properties given (never
    with ``Status``, which Twilio refuses in the same request, error 22204)."""

    email: str | None = None
    status_callback: str | None = None


class EvaluateBundle(BundleRef):
    policy_sid: str


class CreateEndUser(MayRepeat):
    friendly_name: str
    type: str
    attributes: dict[str, Any]


class UpdateEndUser(OnAccount):
    end_user_sid: str
    attributes: dict[str, Any]


class CreateAddress(MayRepeat):
    friendly_name: str
    customer_name: str
    street: str
    street_secondary: str | None = None
    city: str
    region: str
    postal_code: str
    iso_country: str


class UpdateAddress(OnAccount):
    address_sid: str
    changes: dict[str, str]  # snake_case SDK argument -> new value


class CreateAddressDocument(MayRepeat):
    friendly_name: str
    address_sid: str


class AssignEntity(BundleRef):
    object_sid: str


class RegisterBrand(MayRepeat):
    customer_profile_sid: str
    trust_bundle_sid: str
    mock: bool = False


class BrandRef(MayRepeat):
    brand_sid: str


class CreateMessagingService(MayRepeat):
    friendly_name: str


class AddPhoneNumber(MayRepeat):
    messaging_service_sid: str
    phone_number_sid: str


class CreateCampaign(MayRepeat):
    messaging_service_sid: str
    brand_sid: str
    campaign: dict[str, Any]  # CampaignDetails.to_twilio_kwargs()


class FindCampaign(OnAccount):
    messaging_service_sid: str
    brand_sid: str


class CampaignRef(OnAccount):
    messaging_service_sid: str
    campaign_sid: str


class UpdateCampaign(CampaignRef):
    campaign: dict[str, Any]  # CampaignDetails.to_twilio_update_kwargs(): Twilio's required fields in full


# ---- outputs --------------------------------------------------------------------------------


class Created(_Model):
    sid: str
    reused: bool = False  # an earlier attempt had already created it (idempotent retry)


class FieldFailure(_Model):
    field: str
    reason: str | None = None
    error_code: int | None = None


class RequirementFailure(_Model):
    requirement: str
    object_type: str | None = None
    reason: str | None = None
    error_code: int | None = None
    fields: list[FieldFailure] = Field(default_factory=list)


class Evaluation(_Model):
    sid: str
    compliant: bool
    failures: list[RequirementFailure] = Field(default_factory=list)


class BundleState(_Model):
    sid: str
    status: str
    errors: list[TwilioError] = Field(default_factory=list)


class AssignedEndUser(_Model):
    sid: str
    type: str
    attributes: dict[str, Any] = Field(default_factory=dict)


class BrandState(_Model):
    sid: str
    status: str
    identity_status: str | None = None
    errors: list[TwilioError] = Field(default_factory=list)
    tcr_id: str | None = None
    mock: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


class CampaignState(_Model):
    sid: str
    messaging_service_sid: str
    status: str
    errors: list[TwilioError] = Field(default_factory=list)
    campaign_id: str | None = None


class ErrorType(StrEnum):
    """`ApplicationError.type` of a failed Twilio call (decided in activities/errors.py)."""

    REJECTED = "TwilioRejected"         # 4xx: fix the input; never retried
    RATE_LIMITED = "TwilioRateLimited"  # 429: never processed; retried with backoff
    UNAVAILABLE = "TwilioUnavailable"   # 5xx, network, timeout: retried through the idempotent path


def friendly_name(isv_customer_id: str, what: str, limit: int = 64) -> str:
    """The deterministic friendly name of a resource made for a customer: what a retried create
    looks for (see activities/), and what an operator sees in the Twilio Console."""
    import hashlib

    name = f"{isv_customer_id} {what}"
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(isv_customer_id.encode()).hexdigest()[:12]
    return f"{isv_customer_id[: limit - len(what) - 15]}~{digest} {what}"[:limit]
