"""Errors for people: every rule's error names its field and states the rule in words.

``rule_error`` and ``raise_at`` are how the models of this package raise; ``format_validation_error``
and ``describe_validation_error`` turn a ``ValidationError`` into what the HTTP service, the batch
endpoints and the CLI show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


def rule_error(kind: str, message: str) -> PydanticCustomError:
    # The message is passed as a context value, never as the template itself, so braces in it
    # (or in user input quoted by it) are never interpreted.
    return PydanticCustomError(kind, "{message}", {"message": message})


def raise_at(model: str, errors: Sequence[tuple[tuple[str | int, ...], str, str, Any]]) -> None:
    """Raise errors located at given fields of a model from a model-level validator.

    ``errors``: (loc, kind, message, input). Pydantic prefixes the locations with the model's own
    location when it is nested (``customer.address.region``)."""
    if errors:
        raise ValidationError.from_exception_data(
            model,
            [InitErrorDetails(type=rule_error(kind, msg), loc=loc, input=value) for loc, kind, msg, value in errors],
        )


_FRIENDLY: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda e: "is required",
    "extra_forbidden": lambda e: "is not a known field (check the spelling)",
    "string_type": lambda e: "must be a string",
    "bool_type": lambda e: "must be true or false",
    "bool_parsing": lambda e: "must be true or false",
    "list_type": lambda e: "must be a list",
    "dict_type": lambda e: "must be an object",
    "model_type": lambda e: "must be an object",
    "model_attributes_type": lambda e: "must be an object",
    "float_type": lambda e: "must be a number",
    "float_parsing": lambda e: "must be a number",
    "finite_number": lambda e: "must be a finite number",
    "time_delta_type": lambda e: 'must be a duration: ISO 8601 such as "PT30S" or "P1D", or a number of seconds',
    "time_delta_parsing": lambda e: 'must be a duration: ISO 8601 such as "PT30S" or "P1D", or a number of seconds',
    "literal_error": lambda e: f"must be one of {e.get('ctx', {}).get('expected', '')}",
}


def _field_path(loc: Iterable[str | int]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def format_validation_error(err: ValidationError) -> list[dict[str, str]]:
    """``[{"field": "customer.address.postal_code", "message": "must be a US ZIP code: ..."}]``.

    ``field`` is the dotted path (list items as ``[i]``), ``""`` for a rule about the whole
    object. Messages are the rule in words, without pydantic's prefixes."""
    out = []
    for e in err.errors(include_url=False):
        friendly = _FRIENDLY.get(e["type"])
        message = friendly(e) if friendly else e["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        out.append({"field": _field_path(e["loc"]), "message": message})
    return out


def describe_validation_error(err: ValidationError) -> str:
    """One ``field: message`` line per error, for a terminal or a log."""
    return "\n".join(
        f"{item['field']}: {item['message']}" if item["field"] else item["message"]
        for item in format_validation_error(err)
    )
