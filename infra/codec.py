"""Encryption of workflow payloads: customers' names, emails, mobile numbers and home addresses
never reach Temporal's database, nor its Web UI, in clear.

A Temporal `PayloadCodec` with AES-256-GCM. Each encrypted payload names its key in its metadata
(``encryption-key-id``): new payloads use the newest key, and every key still configured decrypts
what it encrypted — rotate by adding a key in front, remove an old one only when no running
registration (or history you keep) still holds payloads made with it. Payloads that were never
encrypted pass through, so a deployment can turn encryption on without breaking running workflows.

Keys: ``A2P_PAYLOAD_KEYS`` = ``id1:base64key1,id2:base64key2`` (32-byte keys, newest first).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"



def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """``id:base64,id2:base64`` -> [(id, key)], newest first. Raises ValueError saying what is wrong."""
    keys = []
    for n, item in enumerate(filter(None, (p.strip() for p in spec.split(","))), start=1):
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id:  # nothing of the item is echoed: it may be the key itself
            raise ValueError(f"key #{n}: expected <key id>:<base64 key>")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ValueError(f"key {key_id}: not valid base64") from None
        if len(key) != 32:
            raise ValueError(f"key {key_id}: must be 32 bytes (AES-256), got {len(key)}")
        keys.append((key_id, key))
    if len({k for k, _ in keys}) != len(keys):
        raise ValueError("key ids must be unique")
    return keys


def new_key_spec(key_id: str) -> str:
    """A fresh key for A2P_PAYLOAD_KEYS (e.g. `python -c "from infra.codec import new_key_spec; print(new_key_spec('k2'))"`)."""
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class PayloadKeyMissing(ValueError):
    """An encrypted payload this process cannot decrypt: A2P_PAYLOAD_KEYS is unset or lacks its key."""


class ClearCodec(PayloadCodec):
    """Without A2P_PAYLOAD_KEYS: payloads pass in clear, and an encrypted one is refused with a
    message that says what to set (instead of the converter's "Unknown payload encoding")."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        for p in payloads:
            if p.metadata.get("encoding") == ENCODING:
                raise PayloadKeyMissing("the registration's payloads are encrypted: set A2P_PAYLOAD_KEYS to the "
                                        "keys the workers use")
        return list(payloads)


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._current_id, current = keys[0]
        self._current = AESGCM(current)
        self._by_id = {key_id: AESGCM(key) for key_id, key in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            nonce = os.urandom(12)
            data = nonce + self._current.encrypt(nonce, p.SerializeToString(), self._current_id.encode())
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: self._current_id.encode()}, data=data))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)  # never encrypted (e.g. before encryption was turned on)
                continue
            key_id = p.metadata.get(KEY_ID, b"").decode()
            aes = self._by_id.get(key_id)
            if aes is None:
                raise PayloadKeyMissing(f"payload encrypted with key {key_id!r}, which is not configured "
                                        "(A2P_PAYLOAD_KEYS): add the key the workers use")
            decrypted = Payload()
            decrypted.ParseFromString(aes.decrypt(p.data[:12], p.data[12:], key_id.encode()))
            out.append(decrypted)
        return out
