"""The one table of how Twilio calls are scheduled: timeouts and retry policy per call.

Retries: 4xx rejections are never retried (the activity marks them non-retryable); 429s are
retried after Twilio's Retry-After; 5xx/timeouts are retried, safely, because every create looks
before it creates on a retry (a write that got no answer no sooner than as long again as it was
given: activities/errors.py). An outage of Twilio is ridden out for hours (schedule-to-close)
before the registration asks a person. Start-to-close is the registration's
``Timings.call_timeout`` (one HTTP request plus margin), longer for calls that may page through
an account's resources on a retry.

Cancellation: a call in flight heartbeats (activities/errors.py, every tenth of its
``heartbeat_timeout``) and its worker sends a heartbeat at most every ``HEARTBEAT_THROTTLE``;
Temporal's answer to a heartbeat is what tells the worker that the call was cancelled (or that its
registration has ended): the worker then abandons the HTTP request. A cancel therefore reaches the
call within a second or two; the workflow does not wait for that (TRY_CANCEL): it ends CANCELLED at
once. A request Twilio had already received may still take effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy

from a2p.calls import Call, ErrorType

OTP_TASK_QUEUE_SUFFIX = "-otp"   # the rate-limited queue of OTP re-sends (10/s per account)


# How often, at most, a worker tells Temporal that a call is alive (its Worker option); every
# answer may carry a cancel, so this is how long a cancel takes to reach the call in flight.
HEARTBEAT_THROTTLE = timedelta(seconds=1)


@dataclass(frozen=True)
class CallOptions:
    schedule_to_close: timedelta
    retry: RetryPolicy
    call_timeout_factor: int = 1       # x Timings.call_timeout = start-to-close
    rate_limited_queue: bool = False
    # A call silent this long has lost its worker: it is retried (elsewhere) without waiting for
    # its start-to-close. The call heartbeats ten times as often.
    heartbeat_timeout: timedelta = timedelta(seconds=10)


_TWILIO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[str(ErrorType.REJECTED)],
)

_DEFAULT = CallOptions(schedule_to_close=timedelta(hours=6), retry=_TWILIO_RETRY)
# These list an account's resources on a retried create (or always): allow for several pages.
_LISTS = CallOptions(schedule_to_close=timedelta(hours=6), retry=_TWILIO_RETRY, call_timeout_factor=4)

CALL_OPTIONS: dict[Call, CallOptions] = {call: _DEFAULT for call in Call} | {
    Call.CREATE_END_USER: _LISTS,
    Call.CREATE_ADDRESS_DOCUMENT: _LISTS,
    Call.REGISTER_BRAND: _LISTS,
    Call.CREATE_MESSAGING_SERVICE: _LISTS,
    Call.LIST_ASSIGNED_END_USERS: _LISTS,
    Call.FIND_CAMPAIGN: _LISTS,
    # A re-send nobody receives for an hour is worth a person's look rather than more retries.
    Call.RESEND_OTP: CallOptions(schedule_to_close=timedelta(hours=1), retry=_TWILIO_RETRY, rate_limited_queue=True),
}
