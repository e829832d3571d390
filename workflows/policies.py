"""The one table of how Twilio calls are scheduled: timeouts and retry policy per call.

Retries: 4xx rejections are never retried (the activity marks them non-retryable); 429s are
retried with backoff; 5xx/timeouts are retried, safely, because every create looks before it
creates on a retry. An outage of Twilio is ridden out for hours (schedule-to-close) before the
registration asks a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy

from a2p.calls import Call, ErrorType

OTP_TASK_QUEUE_SUFFIX = "-otp"   # the rate-limited queue of OTP re-sends (10/s per account)


@dataclass(frozen=True)
class CallOptions:
    start_to_close: timedelta
    schedule_to_close: timedelta
    retry: RetryPolicy
    rate_limited_queue: bool = False


_TWILIO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[str(ErrorType.REJECTED)],
)

_DEFAULT = CallOptions(
    start_to_close=timedelta(seconds=30),       # one HTTP request (20 s client timeout) + margin
    schedule_to_close=timedelta(hours=6),       # ride out a Twilio outage, then ask a person
    retry=_TWILIO_RETRY,
)
# Lists page through an account's resources on a retried create: allow longer.
_LOOKUP_ON_RETRY = CallOptions(
    start_to_close=timedelta(minutes=2), schedule_to_close=timedelta(hours=6), retry=_TWILIO_RETRY,
)

CALL_OPTIONS: dict[Call, CallOptions] = {call: _DEFAULT for call in Call} | {
    Call.CREATE_END_USER: _LOOKUP_ON_RETRY,
    Call.CREATE_ADDRESS_DOCUMENT: _LOOKUP_ON_RETRY,
    Call.REGISTER_BRAND: _LOOKUP_ON_RETRY,
    Call.CREATE_MESSAGING_SERVICE: _LOOKUP_ON_RETRY,
    Call.LIST_ASSIGNED_END_USERS: _LOOKUP_ON_RETRY,
    Call.RESEND_OTP: CallOptions(
        start_to_close=timedelta(seconds=30), schedule_to_close=timedelta(hours=1),
        retry=_TWILIO_RETRY, rate_limited_queue=True,
    ),
}
