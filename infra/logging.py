"""structlog set-up shared by every process, with PII masking: emails and phone numbers are never
written in clear, and secrets never at all."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from a2p.calls import ErrorType

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SECRET_KEYS = ("token", "secret", "password", "authorization", "auth")
# Never masked: the record's own fields, and what an operator searches the logs by, whatever digits
# it holds (an ISV's customer ids are often numeric; a registration's workflow id carries one).
_UNMASKED_KEYS = frozenset({"timestamp", "level", "logger",
                            "workflow_id", "run_id", "isv_customer_id", "task_queue", "activity"})


def mask_email(value: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)


def mask_phone(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return f"***{digits[-4:]}" if len(digits) >= 8 else m.group(0)

    return _PHONE.sub(repl, value)


def mask(value: Any) -> Any:
    """Mask emails and phone numbers anywhere inside a log value."""
    if isinstance(value, str):
        # SIDs (2 letters + 32 hex) and UUIDs (run ids) are left alone: their digits are not phone numbers.
        if re.fullmatch(r"[A-Z]{2}[0-9a-fA-F]{32}", value) or _UUID.fullmatch(value):
            return value
        return mask_phone(mask_email(value))
    if isinstance(value, dict):
        return {k: ("***" if _is_secret_key(k) else mask(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask(v) for v in value)
    return value


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and any(s in key.lower() for s in _SECRET_KEYS)


def _mask_processor(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in event_dict.items():
        if _is_secret_key(k):
            out[k] = "***"
        elif k in _UNMASKED_KEYS:
            out[k] = v
        else:
            out[k] = mask(v)
    return out


# A failed Twilio call (a2p.calls.ErrorType) is logged by the activity in one line (call, status,
# code, attempt), so the Temporal SDK's own "Completing activity as failed" record, with its
# traceback, is kept only at DEBUG.
_TWILIO_ERROR_TYPES = frozenset(str(t) for t in ErrorType)


class _RepeatedActivityFailure(logging.Filter):
    """Drops the SDK's traceback of a Twilio call failure unless the level is DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "temporalio.activity" or not record.exc_info or logging.getLogger().level <= logging.DEBUG:
            return True
        err = record.exc_info[1]
        return getattr(err, "type", None) not in _TWILIO_ERROR_TYPES


def configure_logging(level: str = "INFO", fmt: str = "console", stream: Any = None) -> None:
    """structlog for our logs, and the standard library's (the Temporal SDK's, uvicorn's, ...)
    routed through the same masking and rendering: JSON in production, console in development."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _mask_processor,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    handler.addFilter(_RepeatedActivityFailure())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Twilio's SDK logs full request bodies (PII) at INFO: keep it at WARNING.
    logging.getLogger("twilio").setLevel(logging.WARNING)


def get_logger(name: str | None = None, **bound: Any) -> Any:
    return structlog.get_logger(name).bind(**bound)
