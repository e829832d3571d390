"""Fixtures for contract tests against Twilio's OpenAPI specs (see tests/contract/openapi.py)."""

from __future__ import annotations

import pytest

from tests.contract.openapi import TwilioSpecs, missing_specs_reason


@pytest.fixture(scope="session")
def twilio_specs() -> TwilioSpecs:
    """The three parsed Twilio specs (with KNOWN_QUIRKS applied); skips when they are absent."""
    reason = missing_specs_reason()
    if reason:
        pytest.skip(reason)
    return TwilioSpecs.load()
