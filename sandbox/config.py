"""The sandbox's configuration: every delay, expiry and limit, in one validated model.

All durations are seconds of SANDBOX time (see :mod:`sandbox.clock`), so tests can compress them or
jump over them with ``POST /sandbox/clock/advance``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # Asynchronous reviews (sandbox seconds after the triggering request).
    profile_review_seconds: float = Field(2.0, ge=0, description="customer profile review after submission")
    trust_product_review_seconds: float = Field(2.0, ge=0, description="trust product review after submission")
    brand_review_seconds: float = Field(3.0, ge=0, description="brand PENDING -> APPROVED/FAILED")
    campaign_in_progress_seconds: float = Field(1.0, ge=0, description="campaign PENDING -> IN_PROGRESS")
    campaign_review_seconds: float = Field(3.0, ge=0, description="campaign IN_PROGRESS -> VERIFIED/FAILED")

    # OTP (seed 000 step 3.1/3.2).
    otp_validity_seconds: float = Field(86400.0, gt=0, description="an OTP can be answered this long")
    otp_deadline_days: float = Field(30.0, gt=0, description="TCR's (possible) verification deadline")
    enforce_otp_deadline: bool = Field(False, description="APPROVED+UNVERIFIED brands become EXPIRED after the deadline")
    smsotp_rate_per_second: int = Field(10, ge=1, description="SmsOtp requests per second per account")

    # TCR reuse caps (mobile 3, email 10, address 10 brands, across all accounts).
    count_email_and_address_reuse: bool = Field(
        True, description="count emails and addresses of registered brands toward their cap of 10 (off: only the "
                          "reserved scenario values and POST /sandbox/tcr/uses reach it); mobiles always count")

    # Campaign update (UpdateUsAppToPerson) of a FAILED campaign; off: 405 / 20004, so that a client's
    # fallback (delete the campaign, create a new one) can be exercised.
    campaign_updates_supported: bool = Field(
        True, description="POST .../Compliance/Usa2p/{QE} updates a FAILED campaign (off: 405, code 20004)")

    # Webhooks (bundle status callbacks and Event Streams).
    event_sink_url: str | None = Field(None, description="Event Streams sink of the parent account")
    webhook_max_attempts: int = Field(5, ge=1, description="delivery attempts per webhook")
    webhook_initial_backoff_seconds: float = Field(0.2, ge=0, description="wait before the 2nd attempt")
    webhook_backoff_multiplier: float = Field(2.0, ge=1, description="each further wait is multiplied by this")
    webhook_timeout_seconds: float = Field(5.0, gt=0, description="per attempt; Twilio gives sinks 5 s")

    # Internals.
    scheduler_interval_seconds: float = Field(0.05, gt=0, description="how often due events are checked")
    public_base_url: str | None = Field(
        None, description="base URL put into url/links fields of background payloads (default: as requested)"
    )

    @field_validator("event_sink_url", "public_base_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, v: str | None) -> str | None:
        return v.rstrip("/") if v else v


# Settings an account can have of its own (``POST /sandbox/accounts/{AC}/config``): one test customer
# held in review, or refused campaign updates, while the other customers of the same sandbox go on.
ACCOUNT_SETTINGS = ("profile_review_seconds", "trust_product_review_seconds", "brand_review_seconds",
                    "campaign_in_progress_seconds", "campaign_review_seconds", "campaign_updates_supported")


class AccountConfig(BaseModel):
    """One account's own values of :data:`ACCOUNT_SETTINGS` (null: the sandbox's again)."""

    model_config = ConfigDict(extra="forbid")

    profile_review_seconds: float | None = Field(None, ge=0)
    trust_product_review_seconds: float | None = Field(None, ge=0)
    brand_review_seconds: float | None = Field(None, ge=0)
    campaign_in_progress_seconds: float | None = Field(None, ge=0)
    campaign_review_seconds: float | None = Field(None, ge=0)
    campaign_updates_supported: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The settings given in the request, with null for "the sandbox's value again"."""
        return {k: getattr(self, k) for k in self.model_fields_set}
