"""Payload encryption: round trip, key rotation, refusal of unknown keys, clear payloads passing."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload

from infra.codec import EncryptionCodec, new_key_spec, parse_keys

PAYLOAD = Payload(metadata={"encoding": b"json/plain"}, data=b'{"email":"john.doe@example.com"}')


async def test_round_trip_hides_the_data():
    codec = EncryptionCodec(parse_keys(new_key_spec("k1")))
    [encrypted] = await codec.encode([PAYLOAD])
    assert b"john.doe" not in encrypted.data and encrypted.metadata["encryption-key-id"] == b"k1"
    assert (await codec.decode([encrypted])) == [PAYLOAD]


async def test_rotation_new_key_encrypts_old_key_still_decrypts():
    old, new = new_key_spec("2025-01"), new_key_spec("2026-11")
    [before] = await EncryptionCodec(parse_keys(old)).encode([PAYLOAD])
    rotated = EncryptionCodec(parse_keys(f"{new},{old}"))
    [after] = await rotated.encode([PAYLOAD])
    assert after.metadata["encryption-key-id"] == b"2026-11"
    assert await rotated.decode([before, after]) == [PAYLOAD, PAYLOAD]


async def test_a_payload_of_a_removed_key_is_refused_clearly():
    [encrypted] = await EncryptionCodec(parse_keys(new_key_spec("gone"))).encode([PAYLOAD])
    with pytest.raises(ValueError, match="'gone', which is not configured"):
        await EncryptionCodec(parse_keys(new_key_spec("k2"))).decode([encrypted])


async def test_payloads_from_before_encryption_pass_through():
    codec = EncryptionCodec(parse_keys(new_key_spec("k1")))
    assert await codec.decode([PAYLOAD]) == [PAYLOAD]


async def test_tampering_is_detected():
    codec = EncryptionCodec(parse_keys(new_key_spec("k1")))
    [encrypted] = await codec.encode([PAYLOAD])
    tampered = Payload(metadata=dict(encrypted.metadata), data=encrypted.data[:-1] + bytes([encrypted.data[-1] ^ 1]))
    with pytest.raises(Exception):
        await codec.decode([tampered])


@pytest.mark.parametrize("spec, message", [
    ("k1", "expected <key id>:<base64 key>"),
    ("k1:not base64!", "not valid base64"),
    ("k1:AAAA", "must be 32 bytes"),
])
def test_bad_key_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_keys(spec)


def test_settings_refuse_a_bad_key_naming_the_variable():
    from infra.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="A2P_PAYLOAD_KEYS: .*32 bytes"):
        load_settings(twilio_account_sid="AC" + "0" * 32, twilio_auth_token="t",
                      a2p_primary_customer_profile_sid="BU" + "0" * 32, a2p_payload_keys="k1:AAAA")
