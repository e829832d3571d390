"""The Sole Proprietor campaign, the Messaging Service that carries it, and corrections of a
failed campaign (``CampaignCorrection``, ``merge_campaign``)."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, Field, create_model, model_validator

from a2p.constants import CAMPAIGN_USECASE_SOLE_PROPRIETOR
from a2p.requests.errors import raise_at, rule_error
from a2p.requests.fields import MODEL_CONFIG, HttpUrlStr, Keywords, Sid, Text


def _message_samples(v: list[str]) -> list[str]:
    if not 2 <= len(v) <= 5:
        raise rule_error("message_samples", f"must have 2 to 5 sample messages (it has {len(v)})")
    return v


_LINK = re.compile(r"https?://|\bwww\.", re.I)


class CampaignDetails(BaseModel):
    """The Sole Proprietor campaign (``us_app_to_person``). Twilio's schema enforces none of
    these limits, so they are checked here (ENDPOINTS.md 2)."""

    model_config = MODEL_CONFIG

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
        raise_at("CampaignDetails", errors)
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

    model_config = MODEL_CONFIG

    existing_sid: Sid("MG") | None = Field(None, description="an existing Messaging Service (MG...)")
    friendly_name: Text(1, 64) | None = Field(None, description="name of a Messaging Service to create")
    phone_number_sid: Sid("PN") | None = Field(None, description="10DLC number (PN...) to attach to the service")

    @model_validator(mode="after")
    def _exactly_one(self) -> MessagingServiceSpec:
        if (self.existing_sid is None) == (self.friendly_name is None):
            raise rule_error(
                "messaging_service",
                "give exactly one of existing_sid (use an existing Messaging Service) "
                "or friendly_name (create a new one)",
            )
        return self


def _partial(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """``model`` with every field optional and checked by the same rules; the whole model's rules
    (e.g. which fields go together) are checked when a partial is merged into a complete one."""
    fields: dict[str, Any] = {
        n: (f.rebuild_annotation() | None, Field(None, description=f.description))
        for n, f in model.model_fields.items()
    }
    partial = create_model(name, __config__=MODEL_CONFIG, __doc__=doc, __module__=__name__, **fields)
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
