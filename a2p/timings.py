"""Every duration of a registration, in one place (seed 000, FACTS.md).

* ``settle_wait``: wait after each submission (profile, trust bundle, brand, messaging service)
  before the next step, so that synchronous validation errors surface first (seed 000: 30 s).
* ``otp_resend_interval``: an OTP is valid 24 h; after that a fresh one must be requested.
* ``otp_deadline``: the customer should confirm the OTP within 30 days of brand registration.
* ``poll_initial`` / ``poll_max`` / ``poll_backoff``: status polling, the fallback to webhooks:
  the first delay is ``poll_initial``, each next one is multiplied by ``poll_backoff`` and capped
  at ``poll_max``. Never a tight loop.

Reviews by Twilio/TCR are waited for without a cap (campaign vetting can take days to weeks); an
operator sees each waiting registration's phase and can cancel it.

Durations travel as ISO 8601 strings in JSON (``"PT30S"``, ``"P30D"``); numbers are read as
seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["Timings", "human_duration"]


def human_duration(value: timedelta) -> str:
    """``timedelta(hours=6)`` -> ``"6 h"``; ``timedelta(seconds=90)`` -> ``"90 s"``."""
    seconds = value.total_seconds()
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if unit == 'day' and count != 1 else ''}"
    return f"{seconds:g} s"


class Timings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    settle_wait: timedelta = Field(
        timedelta(seconds=30), description="wait after each submission before the next step"
    )
    otp_resend_interval: timedelta = Field(
        timedelta(hours=24), description="re-send the OTP when it has not been confirmed after this long"
    )
    otp_deadline: timedelta = Field(
        timedelta(days=30),
        validate_default=True,  # checked against otp_resend_interval even when left out
        description="give up waiting for the OTP this long after brand registration",
    )
    poll_initial: timedelta = Field(timedelta(minutes=5), description="first status-poll delay")
    poll_max: timedelta = Field(
        timedelta(hours=6),
        validate_default=True,  # checked against poll_initial even when left out
        description="largest status-poll delay",
    )
    poll_backoff: float = Field(2.0, allow_inf_nan=False, description="factor between successive poll delays")
    call_timeout: timedelta = Field(
        timedelta(seconds=30),
        description="start-to-close of one Twilio call (its HTTP timeout plus margin); a call lost with a "
                    "crashed worker is retried after this long",
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_review_timeout(cls, data: Any) -> Any:
        """Registrations started before ``review_timeout`` was removed carry it (never enforced)
        in their input: ignore it so that they keep replaying."""
        if isinstance(data, dict) and "review_timeout" in data:
            data = {k: v for k, v in data.items() if k != "review_timeout"}
        return data

    @field_validator(
        "settle_wait", "otp_resend_interval", "otp_deadline", "poll_initial", "poll_max", "call_timeout",
    )
    @classmethod
    def _positive(cls, v: timedelta | None) -> timedelta | None:
        if v is not None and v <= timedelta(0):
            raise PydanticCustomError(
                "positive_duration",
                'must be a positive duration, e.g. "PT30S" (ISO 8601) or 30 (seconds)',
            )
        return v

    @field_validator("otp_deadline")
    @classmethod
    def _deadline_after_resend(cls, v: timedelta, info: ValidationInfo) -> timedelta:
        resend = info.data.get("otp_resend_interval")
        if resend is not None and v > timedelta(0) and resend >= v:
            raise PydanticCustomError(
                "otp_deadline_order",
                "must be longer than otp_resend_interval ({resend}), or no OTP would ever be re-sent",
                {"resend": human_duration(resend)},
            )
        return v

    @field_validator("poll_max")
    @classmethod
    def _max_not_below_initial(cls, v: timedelta, info: ValidationInfo) -> timedelta:
        initial = info.data.get("poll_initial")
        if initial is not None and v > timedelta(0) and v < initial:
            raise PydanticCustomError(
                "poll_order",
                "must be at least poll_initial ({initial})",
                {"initial": human_duration(initial)},
            )
        return v

    @field_validator("poll_backoff")
    @classmethod
    def _backoff(cls, v: float) -> float:
        if v < 1:
            raise PydanticCustomError(
                "poll_backoff", "must be at least 1 (1 keeps the delay constant, 2 doubles it each time)"
            )
        return v

    # -- presets ---------------------------------------------------------------------------

    @classmethod
    def fast(cls) -> Timings:
        """For tests and demos against the sandbox: seconds instead of hours and days."""
        return cls(
            settle_wait=timedelta(seconds=0.5),
            otp_resend_interval=timedelta(seconds=6),
            otp_deadline=timedelta(seconds=60),
            poll_initial=timedelta(seconds=1),
            poll_max=timedelta(seconds=5),
            poll_backoff=2.0,
        )

    @classmethod
    def compressed(cls, scale: float) -> Timings:
        """The default timings with every duration multiplied by ``scale`` (e.g. ``1/3600``:
        an hour becomes a second); the backoff factor is unchanged."""
        return cls().scaled(scale)

    def scaled(self, scale: float) -> Timings:
        """These timings with every duration multiplied by ``scale``; backoff unchanged."""
        if not scale > 0:
            raise ValueError("scale must be a positive number")
        return type(self)(
            settle_wait=self.settle_wait * scale,
            otp_resend_interval=self.otp_resend_interval * scale,
            otp_deadline=self.otp_deadline * scale,
            poll_initial=self.poll_initial * scale,
            poll_max=self.poll_max * scale,
            poll_backoff=self.poll_backoff,
            call_timeout=self.call_timeout,  # an HTTP request takes as long as it takes
        )

    # -- polling ---------------------------------------------------------------------------

    def poll_delays(self) -> Iterator[timedelta]:
        """Successive status-poll delays, endless: poll_initial, x backoff, ..., capped at poll_max.

        Pure and deterministic (safe in workflow code). Restart it (call again) after a webhook
        or a status change to poll promptly again.
        """
        delay = self.poll_initial
        while True:
            yield delay
            delay = min(delay * self.poll_backoff, self.poll_max)
