"""A retried Twilio failure is one line on the console at WARNING (the activity's own: call,
status, code, attempt); the Temporal SDK's traceback of it appears only at DEBUG."""

from __future__ import annotations

import io
import logging

import temporalio.activity
from temporalio.exceptions import ApplicationError

from a2p.calls import ErrorType
from infra.logging import configure_logging


def _sdk_logs_a_failed_activity(error: BaseException) -> str:
    try:
        raise error
    except BaseException:  # noqa: BLE001 - logged as the SDK does it
        temporalio.activity.logger.warning("Completing activity as failed", exc_info=True)
    return ""


def run_at(level: str, error: BaseException) -> str:
    out = io.StringIO()
    configure_logging(level, stream=out)
    try:
        _sdk_logs_a_failed_activity(error)
        logging.getLogger("a2p.activities").warning("twilio_call_failed activity=create_bundle status=500")
    finally:
        configure_logging("WARNING")
    return out.getvalue()


def test_a_retried_twilio_failure_is_one_line_without_traceback_at_warning():
    text = run_at("WARNING", ApplicationError("Twilio 500: boom", type=str(ErrorType.UNAVAILABLE)))
    assert "Traceback" not in text and "Completing activity as failed" not in text
    assert len(text.strip().splitlines()) == 1 and "twilio_call_failed" in text


def test_its_traceback_is_kept_at_debug():
    text = run_at("DEBUG", ApplicationError("Twilio 500: boom", type=str(ErrorType.UNAVAILABLE)))
    assert "Completing activity as failed" in text and "Traceback" in text


def test_other_activity_failures_keep_their_traceback():
    text = run_at("WARNING", RuntimeError("a bug in our code"))
    assert "Completing activity as failed" in text and "Traceback" in text and "a bug in our code" in text


def test_run_ids_stay_readable_while_phone_numbers_are_masked():
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    try:
        import structlog

        structlog.get_logger("a2p.activities").warning(
            "twilio_call_failed", run_id="01a234a5-7919-a454-7a12-123456788951", error="mobile +14155550124")
    finally:
        configure_logging("WARNING")
    text = out.getvalue()
    assert "run_id=01a234a5-7919-a454-7a12-123456788951" in text and "+14155550124" not in text and "***0124" in text
