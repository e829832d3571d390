"""What a registration workflow shows the world: its phase, SIDs, statuses, what it waits for,
errors with Twilio's codes explained, OTP attempts — the Query result and the workflow result —
and the messages it accepts (Twilio events as signals, operator actions as updates)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from a2p.calls import RequirementFailure, TwilioError
from a2p.requests import CampaignDetails


class Phase(StrEnum):
    STARTED = "STARTED"
    CUSTOMER_PROFILE = "CUSTOMER_PROFILE"      # seed 000 section 1
    TRUST_BUNDLE = "TRUST_BUNDLE"              # section 2 (legacy: completing the rejected bundle)
    BRAND_REVIEW = "BRAND_REVIEW"              # section 3: waiting for APPROVED / FAILED
    OTP_VERIFICATION = "OTP_VERIFICATION"      # waiting for the customer to reply YES
    CAMPAIGN = "CAMPAIGN"                      # section 4: service, number, campaign, vetting
    NEEDS_ATTENTION = "NEEDS_ATTENTION"        # waiting for a correction or an operator decision
    OTP_EXPIRED = "OTP_EXPIRED"                # 30 days without verification: operator decides
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_PHASES = frozenset({Phase.COMPLETED, Phase.FAILED, Phase.CANCELLED})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


Action = Literal["correction", "retry", "end", "resend_otp_and_wait"]


class Problem(_Model):
    """Why a registration needs a person, and what that person can do about it. ``accepts`` is
    what the registration takes now — the API, the CLI and the workflow's validators read it,
    never the remedy's wording; ``correction_fields`` are the `Correction` fields that apply."""

    source: str                     # "customer_profile" | "trust_bundle" | "brand" | "campaign" | ...
    summary: str
    errors: list[TwilioError] = Field(default_factory=list)
    failed_requirements: list[RequirementFailure] = Field(default_factory=list)
    explanations: list[str] = Field(default_factory=list)
    remedy: str = ""                # what a person does, in words
    accepts: list[Action] = Field(default_factory=lambda: list[Action](["retry", "end"]))
    correction_fields: list[str] = Field(default_factory=list)
    at: datetime | None = None


class TimelineEntry(_Model):
    at: datetime
    phase: Phase
    note: str


class Sids(_Model):
    customer_profile: str | None = None
    starter_end_user: str | None = None
    address: str | None = None
    address_document: str | None = None
    trust_bundle: str | None = None
    sole_proprietor_end_user: str | None = None
    brand: str | None = None
    messaging_service: str | None = None
    phone_number: str | None = None
    campaign: str | None = None


class Statuses(_Model):
    customer_profile: str | None = None
    trust_bundle: str | None = None
    brand: str | None = None
    identity: str | None = None
    campaign: str | None = None


class OtpProgress(_Model):
    sent: int = 0                   # the automatic first OTP counts as 1
    resends: int = 0
    last_sent_at: datetime | None = None
    next_resend_at: datetime | None = None
    deadline_at: datetime | None = None
    verified_at: datetime | None = None


class RegistrationStatus(_Model):
    """The Query answer, and (when the workflow ends) its result."""

    workflow_id: str
    isv_customer_id: str
    flow: Literal["new", "legacy"] = "new"
    phase: Phase = Phase.STARTED
    waiting_for: str | None = None
    next_timer_at: datetime | None = None
    sids: Sids = Field(default_factory=Sids)
    statuses: Statuses = Field(default_factory=Statuses)
    otp: OtpProgress = Field(default_factory=OtpProgress)
    brand_updates_used: int = 0
    problem: Problem | None = None
    last_error: Problem | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)


# Where a registration's next run resumes: the long waits it continues as new from. Each step
# re-derives from the carried status where it stood (a FAILED campaign parks again, and so on).
Resume = Literal["brand_review", "otp", "campaign"]


class RegistrationState(_Model):
    """Everything a registration knows, in one model: its status and what it keeps to itself. The
    workflow holds it as its state; when a long wait's history grows long it continues as a new run
    carrying it (at a quiescent point), so nothing is left behind. What else a run holds is the
    bookkeeping of its handlers and reads in flight, which is empty whenever it continues."""

    status: RegistrationStatus
    resume: Resume = "otp"                        # the step a continued run resumes at
    registered_at: datetime | None = None         # brand registration (or legacy update): OTP deadline base
    details: dict[str, Any] = Field(default_factory=dict)  # the flow's customer details as corrected
    campaign: CampaignDetails | None = None       # as corrected
    seen_events: list[str] = Field(default_factory=list)  # the last Twilio deliveries applied (replays ignored)
    brand_event_at: datetime | None = None        # the newest Event Streams brand event applied
    campaign_event_at: datetime | None = None
    bundle_failure: dict[str, str] = Field(default_factory=dict)  # bundle kind -> Twilio's rejection reason
    brand_errors: list[TwilioError] = Field(default_factory=list)
    campaign_errors: list[TwilioError] = Field(default_factory=list)
    runs: int = 1                                 # this registration's runs so far


# ---- signals: Twilio events delivered by the webhook service -----------------------------------


class BundleEvent(_Model):
    """Trust Hub status_callback: a nudge with the status and (only here) the detailed reason."""

    bundle_sid: str
    status: str
    failure_reason: str | None = None
    event_id: str | None = Field(None, description="the delivery's idempotency token; None in signals sent "
                                                   "before the service deduplicated callbacks")


class BrandEvent(_Model):
    """Event Streams brand-registration event."""

    event_id: str
    occurred_at: datetime
    brand_sid: str
    status: str | None = None
    identity_status: str | None = None
    errors: list[TwilioError] = Field(default_factory=list)


class CampaignEvent(_Model):
    event_id: str
    occurred_at: datetime
    campaign_sid: str
    status: str | None = None
    errors: list[TwilioError] = Field(default_factory=list)


# ---- updates: operator actions ---------------------------------------------------------------


class OperatorDecision(_Model):
    """What to do with a registration parked in OTP_EXPIRED or NEEDS_ATTENTION."""

    action: Literal["resend_otp_and_wait", "retry", "end"]
    reason: str | None = None
