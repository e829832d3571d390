"""How a failed Twilio call becomes a Temporal activity error — the one place that decides what is
retried.

* 429 (error 20429): Twilio did not process the request; always safe to retry -> retryable.
* 5xx, timeouts, dropped connections: the request may or may not have been processed -> retryable;
  the retry goes through the create activity's idempotent path (it looks before it creates).
* a write (create, update, delete) that got no answer in time may still be on its way, or being
  processed: it is retried no sooner than as long again as it was given, so that such a request
  has usually landed before the retry looks for it (not always: Twilio takes no idempotency key).
* any other 4xx: the request will never succeed as sent -> non-retryable, carrying Twilio's code
  and message so the workflow can tell a person what to fix.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

import aiohttp
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError
from twilio.base.exceptions import TwilioRestException

from a2p.calls import Call, ErrorType, TwilioError
from a2p.constants import explain
from activities.attempt import heartbeating
from activities.twilio_client import RETRY_AFTER, UNANSWERED_WRITE

REJECTED, RATE_LIMITED, UNAVAILABLE = ErrorType.REJECTED, ErrorType.RATE_LIMITED, ErrorType.UNAVAILABLE

P = ParamSpec("P")
R = TypeVar("R")

log = structlog.get_logger("a2p.activities")


def to_activity_error(exc: BaseException) -> ApplicationError:
    if isinstance(exc, TwilioRestException):
        err = TwilioError(code=exc.code, message=exc.msg or str(exc), http_status=exc.status)
        if exc.status == 429:
            # Honour Retry-After, with jitter so that throttled activities don't return in a herd.
            delay = (RETRY_AFTER.get() or 1.0) * random.uniform(1.0, 1.5)
            return ApplicationError(
                f"Twilio rate limit ({exc.code}): {exc.msg}", err.model_dump(), type=str(RATE_LIMITED),
                next_retry_delay=timedelta(seconds=delay),
            )
        if exc.status >= 500:
            return ApplicationError(f"Twilio {exc.status}: {exc.msg}", err.model_dump(), type=str(UNAVAILABLE))
        hint = explain(exc.code)
        return ApplicationError(
            f"Twilio refused the request ({exc.status}, code {exc.code}): {exc.msg}"
            + (f" — {hint}" if hint else ""),
            err.model_dump(),
            type=str(REJECTED),
            non_retryable=True,
        )
    if isinstance(exc, asyncio.TimeoutError) and (given := UNANSWERED_WRITE.get()):
        return ApplicationError(
            f"Twilio did not answer a write within {given:.1f} s: retried after as long again, so that a request "
            "Twilio is still processing has landed before the retry looks for it", type=str(UNAVAILABLE),
            next_retry_delay=timedelta(seconds=given))
    return ApplicationError(f"Twilio unreachable: {type(exc).__name__}: {exc}", type=str(UNAVAILABLE))


def twilio_call(name: Call) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declare an activity that makes one Twilio call, with the error mapping above, heartbeats
    while the call is in flight (a cancel reaches it), and a structured log line per attempt (SIDs
    only; never PII, never credentials)."""

    def wrap(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            info = activity.info()
            bound = log.bind(
                activity=str(name), attempt=info.attempt, workflow_id=info.workflow_id,
                run_id=info.workflow_run_id, isv_customer_id=isv_customer_id(info.workflow_id),
            )
            try:
                result = await heartbeating(fn(*args, **kwargs))
            except asyncio.CancelledError:
                why = activity.cancellation_details()
                bound.info("twilio_call_cancelled", cancel_requested=bool(why and why.cancel_requested),
                           registration_gone=bool(why and why.not_found),
                           worker_shutdown=bool(why and why.worker_shutdown))
                raise
            except (TwilioRestException, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error = to_activity_error(exc)
                bound.warning("twilio_call_failed", error_type=error.type, status=getattr(exc, "status", None),
                              code=getattr(exc, "code", None), error=error.message)
                raise error from exc
            bound.debug("twilio_call_done")
            return result

        return activity.defn(name=str(name))(run)

    return wrap


def isv_customer_id(workflow_id: str) -> str:
    """The ISV's customer id, from a workflow id such as ``a2p-registration-<id>``."""
    for prefix in ("a2p-registration-", "a2p-conversion-"):
        if workflow_id.startswith(prefix):
            return workflow_id[len(prefix):]
    return workflow_id


def parse_errors(raw: Any) -> list[TwilioError]:
    """A resource's ``errors[]`` as TwilioErrors (shapes differ: bundles, brands, campaigns)."""
    out = []
    for e in raw or []:
        if isinstance(e, dict):
            out.append(TwilioError(code=e.get("code") or e.get("error_code"),
                                   message=str(e.get("message") or e.get("description") or e),
                                   fields=list(e.get("fields") or [])))
        else:
            out.append(TwilioError(message=str(e)))
    return out
