"""Twilio calls: the documented minimum of one happy-path registration, and the measured calls
per registration against it (item 3)."""

from __future__ import annotations

from typing import Any


# The documented minimum of Twilio calls for one new customer, happy path (seed 000 sections 1-4),
# by sandbox endpoint: (endpoint, calls, why).
MINIMUM_WRITES = [
    ("POST /v1/CustomerProfiles", 1, "1.2 starter customer profile"),
    ("POST /v1/EndUsers", 2, "1.3 starter end user + 2.3 sole proprietor end user"),
    ("POST /2010-04-01/Accounts/{Sid}/Addresses.json", 1, "1.4 the customer's address"),
    ("POST /v1/SupportingDocuments", 1, "1.5 address supporting document"),
    ("POST /v1/CustomerProfiles/{Sid}/EntityAssignments", 3, "1.6 end user, document, ISV primary profile"),
    ("POST /v1/CustomerProfiles/{Sid}/Evaluations", 1, "1.7 evaluate before submitting"),
    ("POST /v1/CustomerProfiles/{Sid}", 1, "1.8 submit (pending-review)"),
    ("POST /v1/TrustProducts", 1, "2.2 sole proprietor trust bundle"),
    ("POST /v1/TrustProducts/{Sid}/EntityAssignments", 2, "2.4 end user, starter profile"),
    ("POST /v1/TrustProducts/{Sid}/Evaluations", 1, "2.5 evaluate"),
    ("POST /v1/TrustProducts/{Sid}", 1, "2.6 submit"),
    ("POST /v1/a2p/BrandRegistrations", 1, "3.1 sole proprietor brand"),
    ("POST /v1/Services", 1, "4.1 messaging service"),
    ("POST /v1/Services/{Sid}/PhoneNumbers", 1, "4.2 the 10DLC number"),
    ("POST /v1/Services/{Sid}/Compliance/Usa2p", 1, "4.3 sole proprietor campaign"),
]
MINIMUM_READS = [
    ("GET /v1/a2p/BrandRegistrations", 1,
     "a brand is looked for before it is registered, every time (a reset run may repeat it): one page"),
    ("GET /v1/CustomerProfiles/{Sid}", 1, "check after the 30 s settle wait: a rejection surfaces here"),
    ("GET /v1/TrustProducts/{Sid}", 1, "the same for the trust bundle"),
    ("GET /v1/a2p/BrandRegistrations/{Sid}", 1,
     "no webhooks: one poll sees APPROVED (+ VERIFIED if the customer replied YES by then; else 1 more)"),
    ("GET /v1/Services/{Sid}/Compliance/Usa2p/{Sid}", 1, "no webhooks: one poll sees VERIFIED"),
]
MINIMUM_TOTAL = sum(n for _, n, _ in MINIMUM_WRITES + MINIMUM_READS)


def is_lookup(endpoint: str) -> bool:
    """A GET of a list (what a retried create looks through), not of one resource."""
    method, path = endpoint.split(" ", 1)
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return method == "GET" and last not in ("{Sid}", "{Sid}.json")


def ok_calls(statuses: dict[str, int]) -> int:
    return sum(n for code, n in statuses.items() if code.startswith("2"))


def calls_table(calls: dict[str, dict[str, int]], n: int) -> dict[str, Any]:
    """Item 3: measured calls per registration by endpoint against the documented minimum."""
    rows = []
    known = set()
    for kind, table in (("write", MINIMUM_WRITES), ("read", MINIMUM_READS)):
        for endpoint, minimum, why in table:
            known.add(endpoint)
            statuses = calls.get(endpoint, {})
            rows.append({"kind": kind, "endpoint": endpoint, "minimum": minimum, "why": why,
                         "per_reg": ok_calls(statuses) / n, "other": {c: k for c, k in statuses.items() if not c.startswith("2")}})
    for endpoint, statuses in sorted(calls.items()):
        if endpoint not in known:
            rows.append({"kind": "read" if endpoint.startswith("GET") else "write", "endpoint": endpoint,
                         "minimum": 0, "why": "not needed on the happy path", "per_reg": ok_calls(statuses) / n,
                         "other": {c: k for c, k in statuses.items() if not c.startswith("2")}})
    writes = sum(r["per_reg"] for r in rows if r["kind"] == "write")
    reads = sum(r["per_reg"] for r in rows if r["kind"] == "read")
    lookups = sum(ok_calls(s) + sum(v for c, v in s.items() if not c.startswith("2"))
                  for e, s in calls.items() if is_lookup(e))
    return {"rows": rows, "writes": writes, "reads": reads, "total": writes + reads,
            "minimum_writes": sum(n for _, n, _ in MINIMUM_WRITES),
            "minimum_reads": sum(n for _, n, _ in MINIMUM_READS), "minimum": MINIMUM_TOTAL,
            "lookups": lookups, "non_2xx": sum(sum(r["other"].values()) for r in rows)}
