"""Twilio's webhooks, the pure part (starter/webhooks.py) and the front door's JSON depth check:
signatures, parsing, folding per SID, what is remembered and for how long, bounded logging."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone

from twilio.request_validator import RequestValidator

from starter import webhooks as wh
from starter.gate import too_deep

TOKEN = "a" * 32
BRAND = "BN" + "1" * 32
PREFIX = "com.twilio.messaging.compliance."


def brand(name: str, at: str, *, status: str | None = None, identity: str | None = None, eid: str = "",
          errors: list | None = None) -> dict:
    return {"type": f"{PREFIX}brand-registration.{name}", "id": eid or f"EZ-{name}-{at}", "time": at,
            "data": {"brandsid": BRAND, "brandstatus": status, "identitystatus": identity,
                     "brandregistrationerrors": errors or []}}


def test_signatures_are_checked_with_the_given_token_only():
    url, params = "https://a2p.example.com/webhooks/trusthub?workflow_id=w&token=t", {"Status": "in-review"}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    assert wh.signed_by(TOKEN, url, params, signature)
    assert not wh.signed_by("b" * 32, url, params, signature)
    assert not wh.signed_by(TOKEN, url, {"Status": "twilio-approved"}, signature)
    assert not wh.signed_by(None, url, params, signature) and not wh.signed_by(TOKEN, url, params, None)
    assert not wh.signed_by(TOKEN, url, params, "ünïcode")


def test_basic_credentials_and_secrets_compare_as_bytes():
    header = "Basic " + base64.b64encode("twilio:pässword".encode()).decode()
    assert wh.basic_credentials(header) == (b"twilio", "pässword".encode())
    for bad in (None, "", "Basic", "Basic !!!", "Bearer x", "Basic " + base64.b64encode(b"nocolon").decode()):
        assert wh.basic_credentials(bad) is None, bad
    assert wh.same_secret("ключ", "ключ") and not wh.same_secret("ключ", "key") and not wh.same_secret("", "")
    assert not wh.same_secret("\udcff", "x")  # undecodable header bytes never raise


def test_accounts_are_read_from_callbacks_and_found_in_a_body_s_prefix_without_parsing():
    sub, parent, other = "AC" + "f" * 32, "AC" + "0" * 32, "AC" + "1" * 32
    assert wh.callback_account({"AccountSid": sub}) == sub
    assert wh.callback_account({"AccountSid": "AC' OR 1"}) is None
    body = json.dumps([{"data": {"accountsid": parent}}, {"data": {"AccountSid": sub}}, {"data": {"accountsid": sub}},
                       {"data": "x"}, 7, {"data": {"accountsid": other}}]).encode()
    assert wh.account_sids_in(body, parent) == [sub, other]  # the parent's left out, each once, in order
    assert wh.account_sids_in(body, parent, most=1) == [sub]
    assert wh.account_sids_in(b"[" * 1000 + b'{"x": "AC' + b"g" * 32 + b'"}', parent) == []  # not hex: not a SID
    assert wh.account_sids_in(b"\xff\xfe" + sub.encode(), None) == [sub]  # not even text: still scanned


def test_a_body_matches_the_sha256_its_signed_url_carries():
    body = b'[{"id": "EZ1"}]'
    digest = hashlib.sha256(body).hexdigest()
    assert wh.body_matches(body, digest)
    assert not wh.body_matches(body + b" ", digest)
    assert not wh.body_matches(body, None) and not wh.body_matches(body, "") and not wh.body_matches(body, "ü" * 64)


def test_callbacks_are_known_by_what_they_say_whatever_their_token_and_by_their_token():
    form = {"BundleSid": "BU1", "Status": "twilio-rejected", "FailureReason": "name"}
    [content] = wh.callback_keys("w", form, None)
    keys = wh.callback_keys("w", form, "WH1")
    assert keys == {content: wh.CONTENT_KEY_TTL, "trusthub/token/WH1": wh.TOKEN_KEY_TTL}
    assert content in wh.callback_keys("w", dict(form), "WH-made-up")  # a fresh token: the same content
    assert "trusthub/token/WH1" in wh.callback_keys("other", {}, "WH1")
    assert content not in wh.callback_keys("w", {**form, "Status": "in-review"}, None)
    assert content not in wh.callback_keys("w2", form, None)
    assert wh.CONTENT_KEY_TTL < wh.TOKEN_KEY_TTL
    assert wh.bundle_event({"BundleSid": "BU1"}, "WH1") is None
    assert wh.bundle_event(form, "WH1").event_id == "WH1"


def test_all_of_a_callback_s_keys_are_claimed_or_none():
    seen = wh.Seen()
    assert seen.claim("a")
    assert not seen.claim_all(["b", "a"]) and seen.state("b") == "new"  # b released
    seen.done("a")
    assert seen.claim_all(["b", "c"]) and {seen.state("b"), seen.state("c")} == {"busy"}


def test_events_are_parsed_defensively():
    r = wh.parse_event(brand("brand-registered", "2026-01-01T00:00:00Z", identity="unverified",
                             errors=[{"code": "30751", "message": "bad mobile"}, "plain"]))
    assert isinstance(r, wh.Routed) and r.signal == "brand_event" and r.sid == BRAND
    assert (r.event.status, r.event.identity_status) == ("APPROVED", "UNVERIFIED")
    assert [(e.code, e.message) for e in r.event.errors] == [(30751, "bad mobile"), (None, "plain")]
    assert r.event.occurred_at == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert wh.parse_event("x") == wh.Ignored("", "", "not a JSON object")
    assert wh.parse_event({**brand("brand-renamed", "t"), "id": "E1"}).reason == "unknown event type"
    assert wh.parse_event({"type": f"{PREFIX}brand-registration.brand-failure", "data": None}).reason == \
        "no SID in the event"
    # Unicode digits are not codes; booleans are not SIDs.
    odd = wh.parse_event({**brand("brand-failure", "t", errors=[{"code": "٣٠٧٥١"}])})
    assert odd.event.errors[0].code is None
    assert wh.parse_event({"type": f"{PREFIX}brand-registration.brand-failure", "data": {"brandsid": True}}).reason \
        == "no SID in the event"
    # Deeply nested data in a string never raises.
    assert isinstance(wh.parse_event({**brand("brand-failure", "t"), "data": "[" * 100_000}), wh.Ignored)


def test_events_about_one_sid_fold_into_one_in_the_order_they_happened():
    events = [brand("brand-verified", "2026-01-01T00:00:03Z", identity="VERIFIED", eid="E3"),
              brand("brand-registered", "2026-01-01T00:00:02Z", status="APPROVED", eid="E2"),
              brand("brand-failure", "2026-01-01T00:00:01Z", status="FAILED", eid="E1",
                    errors=[{"code": 30751, "message": "x"}])]
    routed = [wh.parse_event(e) for e in events]
    [folded] = wh.fold(routed)
    assert folded.event.event_id == "E3" and set(folded.event_ids) == {"E1", "E2", "E3"}
    assert (folded.event.status, folded.event.identity_status) == ("APPROVED", "VERIFIED")
    assert [e.code for e in folded.event.errors] == [30751]  # the last failure's errors stay, as applied in order
    assert len(wh.fold(routed + [wh.parse_event({**events[0], "data": {**events[0]["data"], "brandsid": "BN2"}})])) == 2


def test_seen_remembers_only_what_was_handled_and_forgets_in_time():
    now = [0.0]
    seen = wh.Seen(ttl=10, max_size=3, clock=lambda: now[0])
    assert seen.claim("a") and seen.state("a") == "busy" and not seen.claim("a")
    seen.done("a", ok=False)
    assert seen.state("a") == "new"  # failed: handled again when re-delivered
    assert seen.claim("a")
    seen.done("a")
    assert seen.state("a") == "done" and not seen.claim("a")
    now[0] = 11
    assert seen.state("a") == "new"
    for key in "bcde":
        seen.remember(key)
    assert len(seen) == 3 and seen.state("b") == "new"


def test_routes_remember_owners_and_forget_strangers_soon():
    now = [0.0]
    routes = wh.Routes(max_size=2, miss_ttl=5, clock=lambda: now[0])
    assert routes.get("BN1") is False
    routes.put("BN1", "w1")
    routes.put("BN2", None)
    assert routes.get("BN1") == "w1" and routes.get("BN2") is None
    now[0] = 6
    assert routes.get("BN2") is False and routes.get("BN1") == "w1"
    routes.put("BN3", "w3")
    routes.put("BN4", "w4")
    assert routes.get("BN1") is False  # least recently used went first


def test_refusals_are_logged_at_a_bounded_rate():
    lines, now = [], [0.0]

    class Log:
        def warning(self, event, **fields):
            lines.append((event, fields))

    limited = wh.RateLimitedLog(Log(), interval=10, clock=lambda: now[0])
    for _ in range(1000):
        limited.warning("webhook_refused", kind="trusthub", reason="bad signature")
    limited.warning("webhook_refused", kind="trusthub", reason="no token")
    now[0] = 10
    limited.warning("webhook_refused", kind="trusthub", reason="bad signature")
    assert [f["reason"] for _, f in lines] == ["bad signature", "no token", "bad signature"]
    assert lines[-1][1]["suppressed_since_last"] == 999


def test_json_depth_is_measured_without_parsing():
    assert not too_deep(b'{"a": [1, {"b": [2]}]}', 4)
    assert too_deep(b'{"a": [1, {"b": [2]}]}', 3)
    assert not too_deep(b'["[[[[[[[[", "\\"[[[[["]', 1)  # brackets in strings, escaped quotes
    assert too_deep(b"[" * 10_000, 32)
    assert too_deep(b'"' + b"[" * 1_000_000, 32)  # an unterminated string is no string: refused, quickly
    assert not too_deep(b'["' + b"\\\"[" * 1_000_000 + b'"]', 1)


def test_a_key_may_be_remembered_for_less_than_the_default():
    now = [0.0]
    seen = wh.Seen(ttl=100, clock=lambda: now[0])
    seen.done("token", ttl=None)
    seen.done("content", ttl=10)
    now[0] = 11
    assert seen.state("content") == "new" and seen.state("token") == "done"
