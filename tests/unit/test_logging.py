"""What the logs mask: customers' emails and phone numbers, never the identifiers an operator
searches by."""

from __future__ import annotations

from infra.logging import _mask_processor


def test_phones_emails_and_secrets_are_masked_wherever_they_appear():
    out = _mask_processor(None, "warning", {
        "event": "twilio_call_failed", "error": "mobile +1 (415) 555-0124 refused for john@doe.example.com",
        "request": {"email": "john@doe.example.com", "phones": ["+14155550124"]}, "auth_token": "abc"})
    assert out["error"] == "mobile ***0124 refused for j***@doe.example.com"
    assert out["request"] == {"email": "j***@doe.example.com", "phones": ["***0124"]}
    assert out["auth_token"] == "***"


def test_identifiers_keep_their_digits():
    ids = {"workflow_id": "a2p-registration-t-b596504887", "isv_customer_id": "4155550124",
           "run_id": "01a235bf-eade-7700-8000-000000000000", "task_queue": "a2p-5550124001"}
    out = _mask_processor(None, "info", {"event": "registration_started", **ids})
    assert {k: out[k] for k in ids} == ids
