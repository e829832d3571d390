"""All sandbox state: records (plain JSON-able dicts) by kind and SID, with secondary indexes, and
optional write-through persistence to SQLite (one row of JSON per record) so that a restart with
the same ``--db`` file loses nothing.

Every mutation goes through :meth:`Store.put` / :meth:`Store.delete` (which keep the indexes right
and write the row); :meth:`Store.commit` ends the SQLite transaction (called after each request and
each scheduler tick). Everything runs on the server's single event loop, so no locking is needed.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from typing import Any, Iterable, Iterator

# kind -> fields with an equality index (lookups by these values are O(1)).
INDEXES: dict[str, tuple[str, ...]] = {
    "accounts": ("parent_sid",),
    "api_keys": ("account_sid",),
    "customer_profiles": ("account_sid",),
    "trust_products": ("account_sid",),
    "end_users": ("account_sid",),
    "supporting_documents": ("account_sid",),
    "entity_assignments": ("bundle_sid", "object_sid"),
    "evaluations": ("bundle_sid",),
    "addresses": ("account_sid",),
    "brands": ("account_sid", "customer_profile_bundle_sid", "a2p_profile_bundle_sid"),
    "sms": ("to", "brand_sid", "from"),
    "services": ("account_sid",),
    "phone_numbers": ("account_sid", "service_sid"),
    "campaigns": ("messaging_service_sid", "brand_registration_sid", "account_sid"),
    "events": (),
}
KINDS = tuple(INDEXES)


class Store:
    def __init__(self, db_path: str | None = None):
        self.db_path = db_path
        self._records: dict[str, dict[str, dict]] = {k: {} for k in KINDS}
        self._index: dict[tuple[str, str], dict[Any, dict[str, None]]] = defaultdict(dict)
        self._indexed: dict[tuple[str, str, str], Any] = {}
        self._meta: dict[str, Any] = {}
        self._seq = 0
        self._db: sqlite3.Connection | None = None
        self._dirty = False
        if db_path:
            self._open(db_path)

    # ---- persistence -------------------------------------------------------------------------
    def _open(self, path: str) -> None:
        db = sqlite3.connect(path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, sid TEXT NOT NULL, seq INTEGER NOT NULL,"
            " data TEXT NOT NULL, PRIMARY KEY (kind, sid))"
        )
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.commit()
        for kind, sid, seq, data in db.execute("SELECT kind, sid, seq, data FROM records ORDER BY seq"):
            if kind in self._records:
                self._records[kind][sid] = json.loads(data)
                self._reindex(kind, sid, self._records[kind][sid])
                self._seq = max(self._seq, seq)
        for key, value in db.execute("SELECT key, value FROM meta"):
            self._meta[key] = json.loads(value)
        self._db = db

    def commit(self) -> None:
        if self._db is not None and self._dirty:
            self._db.commit()
            self._dirty = False

    def close(self) -> None:
        if self._db is not None:
            self.commit()
            self._db.close()
            self._db = None

    # ---- records -----------------------------------------------------------------------------
    def put(self, kind: str, record: dict) -> dict:
        sid = record["sid"]
        table = self._records[kind]
        is_new = sid not in table
        table[sid] = record
        self._reindex(kind, sid, record)
        if is_new and "_seq" not in record:
            self._seq += 1
            record["_seq"] = self._seq
        if self._db is not None:
            self._db.execute(
                "INSERT INTO records (kind, sid, seq, data) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(kind, sid) DO UPDATE SET data = excluded.data",
                (kind, sid, record["_seq"], json.dumps(record)),
            )
            self._dirty = True
        return record

    def delete(self, kind: str, sid: str) -> dict | None:
        record = self._records[kind].pop(sid, None)
        if record is None:
            return None
        for field in INDEXES[kind]:
            old = self._indexed.pop((kind, sid, field), None)
            self._index[(kind, field)].get(old, {}).pop(sid, None)
        if self._db is not None:
            self._db.execute("DELETE FROM records WHERE kind = ? AND sid = ?", (kind, sid))
            self._dirty = True
        return record

    def get(self, kind: str, sid: str | None) -> dict | None:
        return self._records[kind].get(sid) if sid else None

    def all(self, kind: str) -> Iterable[dict]:
        return self._records[kind].values()

    def find(self, kind: str, field: str, value: Any) -> list[dict]:
        """Records of ``kind`` whose indexed ``field`` equals ``value``, oldest first."""
        table = self._records[kind]
        return [table[sid] for sid in self._index[(kind, field)].get(value, {})]

    def count(self, kind: str) -> int:
        return len(self._records[kind])

    def counts(self) -> dict[str, int]:
        return {kind: len(table) for kind, table in self._records.items()}

    def _reindex(self, kind: str, sid: str, record: dict) -> None:
        for field in INDEXES[kind]:
            key = (kind, sid, field)
            value = record.get(field)
            old = self._indexed.get(key, _MISSING)
            if old == value:
                continue
            if old is not _MISSING:
                self._index[(kind, field)].get(old, {}).pop(sid, None)
            self._index[(kind, field)].setdefault(value, {})[sid] = None
            self._indexed[key] = value

    # ---- meta (small JSON values: clock offset, counters, ...) --------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        return self._meta.get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        self._meta[key] = value
        if self._db is not None:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )
            self._dirty = True

    # ---- reset -------------------------------------------------------------------------------
    def clear(self) -> None:
        for table in self._records.values():
            table.clear()
        self._index.clear()
        self._indexed.clear()
        self._meta.clear()
        if self._db is not None:
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM meta")
            self._dirty = True
            self.commit()

    def __iter__(self) -> Iterator[str]:
        return iter(KINDS)


_MISSING = object()
