"""Trust Hub v1 (``trusthub.twilio.com``): Policies, CustomerProfiles and TrustProducts (the two
kinds of bundle, with their EntityAssignments and Evaluations), EndUsers and SupportingDocuments.

Bundle life cycle (FACTS.md): created ``draft``; ``Status=pending-review`` evaluates the bundle now
(400 naming the failing requirement if it is not compliant) and answers ``in-review``; the review
then runs ``profile_review_seconds`` / ``trust_product_review_seconds`` later on the sandbox clock and
either rejects it (``twilio-rejected``, reasons in ``errors[]`` and in the status callback's
``FailureReason``, see :mod:`sandbox.scenarios`) or leaves it ``in-review``. Bundles become
``twilio-approved`` only when their brand is OTP-verified (:mod:`sandbox.brands`). A rejected bundle
can be fixed and resubmitted. Every status change goes to the bundle's ``status_callback``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from a2p import constants as c

from . import errors, policies, scenarios
from .clock import iso
from .core import new_sid
from .web import OBJECT_SID_RE, Ctx, Reply, route

if TYPE_CHECKING:
    from .core import Sandbox

CP, TP = "customer_profiles", "trust_products"
BUNDLE_STATUSES = c.BUNDLE_STATUSES
LOCKED_STATUSES = ("pending-review", "in-review", "twilio-approved")
BUNDLE_FIELDS = ("Status", "StatusCallback", "FriendlyName", "Email")


class BundleKind:
    def __init__(self, kind: str, path: str, link: str, sid_field: str, review_setting: str, allowed_policies):
        self.kind, self.path, self.link, self.sid_field = kind, path, link, sid_field
        self.review_setting, self.allowed_policies = review_setting, allowed_policies


KINDS = {
    CP: BundleKind(CP, "/v1/CustomerProfiles", "customer_profiles", "customer_profile_sid", "profile_review_seconds",
                   policies.CUSTOMER_PROFILE_POLICIES),
    TP: BundleKind(TP, "/v1/TrustProducts", "trust_products", "trust_product_sid", "trust_product_review_seconds",
                   policies.TRUST_PRODUCT_POLICIES),
}


# ---- serializers ---------------------------------------------------------------------------
def policy_json(sb: "Sandbox", sid: str) -> dict:
    policy = policies.POLICIES[sid]
    return {"sid": sid, "friendly_name": policy["friendly_name"], "requirements": policy["requirements"],
            "url": f"{sb.base_url}/v1/Policies/{sid}"}


def bundle_json(sb: "Sandbox", rec: dict, kind: str | None = None) -> dict:
    k = KINDS[kind or rec.get("_kind", CP)]
    url = f"{sb.base_url}{k.path}/{rec['sid']}"
    return {
        "sid": rec["sid"], "account_sid": rec["account_sid"], "policy_sid": rec["policy_sid"],
        "friendly_name": rec["friendly_name"], "status": rec["status"], "valid_until": iso(rec.get("valid_until")),
        "email": rec["email"], "status_callback": rec["status_callback"],
        "date_created": iso(rec["date_created"]), "date_updated": iso(rec["date_updated"]), "url": url,
        "links": {
            f"{k.link}_entity_assignments": f"{url}/EntityAssignments",
            f"{k.link}_evaluations": f"{url}/Evaluations",
            f"{k.link}_channel_endpoint_assignment": f"{url}/ChannelEndpointAssignments",
        },
        "errors": rec.get("errors"),
    }


def assignment_json(sb: "Sandbox", rec: dict) -> dict:
    k = KINDS[rec["bundle_kind"]]
    return {"sid": rec["sid"], k.sid_field: rec["bundle_sid"], "account_sid": rec["account_sid"],
            "object_sid": rec["object_sid"], "date_created": iso(rec["date_created"]),
            "url": f"{sb.base_url}{k.path}/{rec['bundle_sid']}/EntityAssignments/{rec['sid']}"}


def evaluation_json(sb: "Sandbox", rec: dict) -> dict:
    k = KINDS[rec["bundle_kind"]]
    return {"sid": rec["sid"], "account_sid": rec["account_sid"], "policy_sid": rec["policy_sid"],
            k.sid_field: rec["bundle_sid"], "status": rec["status"], "results": rec["results"],
            "date_created": iso(rec["date_created"]),
            "url": f"{sb.base_url}{k.path}/{rec['bundle_sid']}/Evaluations/{rec['sid']}"}


def end_user_json(sb: "Sandbox", rec: dict) -> dict:
    return {"sid": rec["sid"], "account_sid": rec["account_sid"], "friendly_name": rec["friendly_name"],
            "type": rec["type"], "attributes": rec["attributes"], "date_created": iso(rec["date_created"]),
            "date_updated": iso(rec["date_updated"]), "url": f"{sb.base_url}/v1/EndUsers/{rec['sid']}"}


def document_json(sb: "Sandbox", rec: dict) -> dict:
    return {"sid": rec["sid"], "account_sid": rec["account_sid"], "friendly_name": rec["friendly_name"],
            "mime_type": rec.get("mime_type"), "status": rec["status"], "type": rec["type"],
            "attributes": rec["attributes"], "date_created": iso(rec["date_created"]),
            "date_updated": iso(rec["date_updated"]), "url": f"{sb.base_url}/v1/SupportingDocuments/{rec['sid']}"}


# ---- bundle state machine (also used by brands and fixtures) -------------------------------
def new_bundle(sb: "Sandbox", kind: str, account_sid: str, *, friendly_name: str, email: str, policy_sid: str,
               status_callback: str | None = None, status: str = "draft") -> dict:
    now = sb.now()
    return sb.store.put(kind, {
        "sid": new_sid("BU"), "_kind": kind, "account_sid": account_sid, "policy_sid": policy_sid,
        "friendly_name": friendly_name, "status": status, "valid_until": None, "email": email,
        "status_callback": status_callback, "date_created": now, "date_updated": now, "errors": None,
        "failure_reason": None, "submissions": 0, "review_event": None,
    })


def set_bundle_status(sb: "Sandbox", kind: str, rec: dict, status: str, reasons: list[str] | None = None) -> None:
    sb.scheduler.cancel(rec.get("review_event"))
    rec.update(status=status, review_event=None, date_updated=sb.now(),
               errors=[{"code": errors.BRAND_INVALID_INPUT, "message": r} for r in reasons] if reasons else None,
               failure_reason="; ".join(reasons) if reasons else None)
    sb.store.put(kind, rec)
    sb.webhooks.status_callback(rec)


def submit_bundle(sb: "Sandbox", kind: str, rec: dict) -> None:
    if rec["status"] == "twilio-approved":
        raise errors.bad_request(f"Bundle {rec['sid']} is already twilio-approved and cannot be resubmitted",
                                 errors.BUNDLE_STATE)
    status, results = policies.evaluate(sb, rec, rec["policy_sid"])
    if status != "compliant":
        raise errors.bad_request(
            f"Bundle {rec['sid']} is not compliant with policy {rec['policy_sid']} and cannot be submitted: "
            f"{policies.first_failure(results)}", errors.BUNDLE_NOT_COMPLIANT)
    rec["submissions"] = rec.get("submissions", 0) + 1
    set_bundle_status(sb, kind, rec, "in-review")
    delay = sb.setting(KINDS[kind].review_setting, rec["account_sid"])
    rec["review_event"] = sb.scheduler.schedule("bundle_review", delay,
                                                {"kind": kind, "sid": rec["sid"], "submission": rec["submissions"]})
    sb.store.put(kind, rec)


def review_bundle(sb: "Sandbox", payload: dict) -> None:
    """The asynchronous review: reject with the scenario's reasons, or leave the bundle in-review."""
    kind = payload["kind"]
    rec = sb.store.get(kind, payload["sid"])
    if rec is None or rec["status"] != "in-review" or rec.get("submissions") != payload["submission"]:
        return
    rec["review_event"] = None
    reasons = review_reasons(sb, kind, rec)
    if reasons:
        set_bundle_status(sb, kind, rec, "twilio-rejected", reasons)
    else:
        sb.store.put(kind, rec)


def finish_pending_review(sb: "Sandbox", kind: str, rec: dict) -> None:
    """Run a bundle's scheduled review now (a brand review never overtakes its bundles' reviews)."""
    event = sb.store.get("events", rec.get("review_event"))
    if event is not None:
        sb.scheduler.cancel(event["sid"])
        review_bundle(sb, event["payload"])


def approve_bundle(sb: "Sandbox", kind: str, sid: str) -> None:
    rec = sb.store.get(kind, sid)
    if rec is not None and rec["status"] != "twilio-approved":
        set_bundle_status(sb, kind, rec, "twilio-approved")


def assigned_objects(sb: "Sandbox", bundle_sid: str, kind: str) -> list[dict]:
    found = []
    for assignment in sb.store.find("entity_assignments", "bundle_sid", bundle_sid):
        rec = sb.store.get(kind, assignment["object_sid"])
        if rec is not None:
            found.append(rec)
    return found


def end_user_of(sb: "Sandbox", bundle_sid: str, end_user_type: str) -> dict | None:
    return next((eu for eu in assigned_objects(sb, bundle_sid, "end_users") if eu["type"] == end_user_type), None)


def addresses_of(sb: "Sandbox", profile: dict) -> list[tuple[str, dict | None]]:
    """``(address_sid, address or None)`` for every address of the profile's address documents."""
    result = []
    for document in assigned_objects(sb, profile["sid"], "supporting_documents"):
        if document["type"] in policies.ADDRESS_DOCUMENT_TYPES:
            for sid in policies.address_sids(document):
                address = sb.store.get("addresses", sid)
                ok = address is not None and address["account_sid"] == profile["account_sid"]
                result.append((sid, address if ok else None))
    return result


def starter_profile_of(sb: "Sandbox", trust_product: dict) -> dict | None:
    return next((b for b in assigned_objects(sb, trust_product["sid"], CP)
                 if b["policy_sid"] == c.STARTER_PROFILE_POLICY_SID), None)


def review_reasons(sb: "Sandbox", kind: str, rec: dict) -> list[str]:
    reasons: list[str] = []
    if kind == CP and rec["policy_sid"] == c.STARTER_PROFILE_POLICY_SID:
        end_user = end_user_of(sb, rec["sid"], c.STARTER_PROFILE_END_USER_TYPE)
        for email in ((end_user or {}).get("attributes", {}).get("email"), rec.get("email")):
            reasons.append(scenarios.email_rejection(email) or "")
        for sid, address in addresses_of(sb, rec):
            reasons.append(scenarios.address_rejection(address) if address else scenarios.address_not_found(sid))
    elif kind == TP:
        end_user = end_user_of(sb, rec["sid"], c.SOLE_PROPRIETOR_END_USER_TYPE)
        reasons.append(scenarios.brand_name_rejection((end_user or {}).get("attributes", {}).get("brand_name")) or "")
    reasons.append(rec.get("reviewer_rejection") or "")  # POST /sandbox/bundles/{BU}/rejection
    return list(dict.fromkeys(r for r in reasons if r))


def register_events(sb: "Sandbox") -> None:
    sb.scheduler.register("bundle_review", partial(review_bundle, sb))


# ---- endpoints: policies --------------------------------------------------------------------
def fetch_policy(ctx: Ctx, sid: str) -> Reply:
    if sid not in policies.POLICIES:
        raise errors.not_found(ctx.path)
    return Reply(200, policy_json(ctx.sb, sid))


def list_policies(ctx: Ctx) -> Reply:
    return ctx.page([{"sid": s} for s in policies.POLICIES], "results", lambda r: policy_json(ctx.sb, r["sid"]))


# ---- endpoints: bundles ---------------------------------------------------------------------
def create_bundle(ctx: Ctx, kind: str) -> Reply:
    friendly_name = ctx.text("FriendlyName", required=True, max_len=64)
    email = ctx.text("Email", required=True)
    policy_sid = ctx.sid("PolicySid", "RN")
    status_callback = ctx.url_param("StatusCallback")
    if policy_sid not in KINDS[kind].allowed_policies:
        raise errors.invalid("PolicySid", f"{policy_sid} is not a {KINDS[kind].path[4:]} policy the sandbox supports "
                                          f"({', '.join(sorted(KINDS[kind].allowed_policies))})")
    rec = new_bundle(ctx.sb, kind, ctx.account_sid, friendly_name=friendly_name, email=email,
                     policy_sid=policy_sid, status_callback=status_callback)
    return Reply(201, bundle_json(ctx.sb, rec, kind))


def fetch_bundle(ctx: Ctx, kind: str, sid: str) -> Reply:
    return Reply(200, bundle_json(ctx.sb, ctx.owned(kind, sid), kind))


def list_bundles(ctx: Ctx, kind: str) -> Reply:
    status = ctx.query.get("Status")
    if status is not None and status not in BUNDLE_STATUSES:
        raise errors.invalid("Status", f"{status!r} is not one of {', '.join(BUNDLE_STATUSES)}")
    friendly_name, policy_sid = ctx.query.get("FriendlyName"), ctx.query.get("PolicySid")
    records = [r for r in ctx.sb.store.find(kind, "account_sid", ctx.account_sid)
               if (status is None or r["status"] == status)
               and (friendly_name is None or r["friendly_name"] == friendly_name)
               and (policy_sid is None or r["policy_sid"] == policy_sid)]
    return ctx.page(records, "results", lambda r: bundle_json(ctx.sb, r, kind),
                    {"Status": status, "FriendlyName": friendly_name, "PolicySid": policy_sid})


def update_bundle(ctx: Ctx, kind: str, sid: str) -> Reply:
    rec = ctx.owned(kind, sid)
    ctx.only(*BUNDLE_FIELDS)
    status = ctx.text("Status")
    others = [f for f in BUNDLE_FIELDS[1:] if ctx.form.get(f) is not None]
    if status is not None:
        if others:
            raise errors.bad_request(f"Status cannot be updated together with other properties ({', '.join(others)})",
                                     errors.STATUS_WITH_OTHER_FIELDS)
        if status not in BUNDLE_STATUSES:
            raise errors.invalid("Status", f"{status!r} is not one of {', '.join(BUNDLE_STATUSES)}")
        if status != "pending-review":
            raise errors.invalid("Status", f"a bundle can only be submitted (pending-review), not set to {status!r}")
        submit_bundle(ctx.sb, kind, rec)
    else:
        changes = {"friendly_name": ctx.text("FriendlyName", max_len=64), "email": ctx.text("Email"),
                   "status_callback": ctx.url_param("StatusCallback")}
        rec.update({k: v for k, v in changes.items() if v is not None}, date_updated=ctx.sb.now())
        ctx.sb.store.put(kind, rec)
    return Reply(200, bundle_json(ctx.sb, rec, kind))


# ---- endpoints: entity assignments ----------------------------------------------------------
def _resolve_object(ctx: Ctx, kind: str, object_sid: str) -> dict:
    sb = ctx.sb
    prefix = object_sid[:2]
    if prefix == "IT":
        rec = sb.store.get("end_users", object_sid)
    elif prefix == "RD":
        rec = sb.store.get("supporting_documents", object_sid)
    elif prefix == "BU":
        rec = sb.store.get(CP, object_sid)
        if rec is not None and rec["policy_sid"] == policies.PRIMARY_PROFILE_POLICY_SID and kind == CP:
            # The ISV's primary profile lives in the parent account and may be assigned in subaccounts.
            if sb.can_act_on(rec["account_sid"], ctx.account_sid):
                return rec
    else:
        raise errors.invalid("ObjectSid", f"{object_sid} is not an end user (IT), supporting document (RD) or "
                                          "customer profile (BU)")
    if rec is None or rec["account_sid"] != ctx.account_sid:
        raise errors.invalid("ObjectSid", f"{object_sid} was not found in account {ctx.account_sid}")
    return rec


def _editable(rec: dict) -> None:
    if rec["status"] in LOCKED_STATUSES:
        raise errors.bad_request(f"Bundle {rec['sid']} is {rec['status']}: its assignments cannot change",
                                 errors.BUNDLE_STATE)


def object_types(sb: "Sandbox", object_sid: str) -> set[str]:
    for kind in ("end_users", "supporting_documents"):
        rec = sb.store.get(kind, object_sid)
        if rec is not None:
            return {rec["type"]}
    rec = sb.store.get(CP, object_sid)
    if rec is None:
        return set()
    if rec["policy_sid"] == policies.PRIMARY_PROFILE_POLICY_SID:
        return {"customer_profile", "primary_customer_profile_type_business"}
    return {"customer_profile", "starter_customer_profile_type_business"}


def create_assignment(ctx: Ctx, kind: str, bundle_sid: str) -> Reply:
    bundle = ctx.owned(kind, bundle_sid)
    object_sid = ctx.text("ObjectSid", required=True)
    if not OBJECT_SID_RE.match(object_sid):
        raise errors.invalid("ObjectSid", f"{object_sid!r} does not match ^[a-zA-Z]{{2}}[0-9a-fA-F]{{32}}$")
    _resolve_object(ctx, kind, object_sid)
    _editable(bundle)
    if any(a["object_sid"] == object_sid for a in ctx.sb.store.find("entity_assignments", "bundle_sid", bundle_sid)):
        raise errors.bad_request(f"{object_sid} is already assigned to bundle {bundle_sid}", errors.BUNDLE_STATE)
    rec = ctx.sb.store.put("entity_assignments", {
        "sid": new_sid("BV"), "account_sid": ctx.account_sid, "bundle_sid": bundle_sid, "bundle_kind": kind,
        "object_sid": object_sid, "date_created": ctx.sb.now(),
    })
    bundle["date_updated"] = ctx.sb.now()
    ctx.sb.store.put(kind, bundle)
    return Reply(201, assignment_json(ctx.sb, rec))


def _owned_assignment(ctx: Ctx, kind: str, bundle_sid: str, sid: str) -> tuple[dict, dict]:
    bundle = ctx.owned(kind, bundle_sid)
    rec = ctx.sb.store.get("entity_assignments", sid)
    if rec is None or rec["bundle_sid"] != bundle_sid:
        raise errors.not_found(ctx.path)
    return bundle, rec


def list_assignments(ctx: Ctx, kind: str, bundle_sid: str) -> Reply:
    ctx.owned(kind, bundle_sid)
    object_type = ctx.query.get("ObjectType")
    records = [a for a in ctx.sb.store.find("entity_assignments", "bundle_sid", bundle_sid)
               if object_type is None or object_type in object_types(ctx.sb, a["object_sid"])]
    return ctx.page(records, "results", lambda r: assignment_json(ctx.sb, r), {"ObjectType": object_type})


def fetch_assignment(ctx: Ctx, kind: str, bundle_sid: str, sid: str) -> Reply:
    return Reply(200, assignment_json(ctx.sb, _owned_assignment(ctx, kind, bundle_sid, sid)[1]))


def delete_assignment(ctx: Ctx, kind: str, bundle_sid: str, sid: str) -> Reply:
    bundle, rec = _owned_assignment(ctx, kind, bundle_sid, sid)
    _editable(bundle)
    ctx.sb.store.delete("entity_assignments", rec["sid"])
    return Reply(204)


# ---- endpoints: evaluations -----------------------------------------------------------------
def create_evaluation(ctx: Ctx, kind: str, bundle_sid: str) -> Reply:
    bundle = ctx.owned(kind, bundle_sid)
    policy_sid = ctx.sid("PolicySid", "RN")
    if policy_sid not in policies.POLICIES:
        raise errors.invalid("PolicySid", f"{policy_sid} is not a known policy")
    status, results = policies.evaluate(ctx.sb, bundle, policy_sid)
    rec = ctx.sb.store.put("evaluations", {
        "sid": new_sid("EL"), "account_sid": ctx.account_sid, "policy_sid": policy_sid, "bundle_sid": bundle_sid,
        "bundle_kind": kind, "status": status, "results": results, "date_created": ctx.sb.now(),
    })
    return Reply(201, evaluation_json(ctx.sb, rec))


def list_evaluations(ctx: Ctx, kind: str, bundle_sid: str) -> Reply:
    ctx.owned(kind, bundle_sid)
    return ctx.page(ctx.sb.store.find("evaluations", "bundle_sid", bundle_sid), "results",
                    lambda r: evaluation_json(ctx.sb, r))


def fetch_evaluation(ctx: Ctx, kind: str, bundle_sid: str, sid: str) -> Reply:
    ctx.owned(kind, bundle_sid)
    rec = ctx.sb.store.get("evaluations", sid)
    if rec is None or rec["bundle_sid"] != bundle_sid:
        raise errors.not_found(ctx.path)
    return Reply(200, evaluation_json(ctx.sb, rec))


# ---- endpoints: end users and supporting documents ------------------------------------------
ITEMS = {
    "end_users": ("/v1/EndUsers", policies.END_USER_TYPES, end_user_json),
    "supporting_documents": ("/v1/SupportingDocuments", policies.SUPPORTING_DOCUMENT_TYPES, document_json),
}


def create_item(ctx: Ctx, kind: str) -> Reply:
    _, types, serialize = ITEMS[kind]
    friendly_name = ctx.text("FriendlyName", required=True, max_len=64)
    item_type = ctx.text("Type", required=True)
    if item_type not in types:
        raise errors.invalid("Type", f"{item_type!r} is not one of {', '.join(sorted(types))}")
    attributes = ctx.json_object("Attributes") or {}
    now = ctx.sb.now()
    rec = {"sid": new_sid("IT" if kind == "end_users" else "RD"), "account_sid": ctx.account_sid,
           "friendly_name": friendly_name, "type": item_type, "attributes": attributes,
           "date_created": now, "date_updated": now}
    if kind == "supporting_documents":
        rec.update(status="DRAFT", mime_type=None)
    ctx.sb.store.put(kind, rec)
    return Reply(201, serialize(ctx.sb, rec))


def fetch_item(ctx: Ctx, kind: str, sid: str) -> Reply:
    return Reply(200, ITEMS[kind][2](ctx.sb, ctx.owned(kind, sid)))


def list_items(ctx: Ctx, kind: str) -> Reply:
    return ctx.page(ctx.sb.store.find(kind, "account_sid", ctx.account_sid), "results",
                    lambda r: ITEMS[kind][2](ctx.sb, r))


def update_item(ctx: Ctx, kind: str, sid: str) -> Reply:
    """Update FriendlyName and/or Attributes; Attributes are REPLACED wholesale (FACTS.md, remediation)."""
    rec = ctx.owned(kind, sid)
    ctx.only("FriendlyName", "Attributes")
    friendly_name = ctx.text("FriendlyName", max_len=64)
    attributes = ctx.json_object("Attributes")
    if friendly_name is not None:
        rec["friendly_name"] = friendly_name
    if attributes is not None:
        rec["attributes"] = attributes
    rec["date_updated"] = ctx.sb.now()
    ctx.sb.store.put(kind, rec)
    return Reply(200, ITEMS[kind][2](ctx.sb, rec))


def delete_item(ctx: Ctx, kind: str, sid: str) -> Reply:
    rec = ctx.owned(kind, sid)
    if ctx.sb.store.find("entity_assignments", "object_sid", sid):
        raise errors.bad_request(f"{sid} is assigned to a bundle; remove the assignment first", errors.BUNDLE_STATE)
    ctx.sb.store.delete(kind, rec["sid"])
    return Reply(204)


def _bundle_routes(kind: str) -> list:
    p = KINDS[kind].path
    return [
        route(p, partial(create_bundle, kind=kind), "POST"),
        route(p, partial(list_bundles, kind=kind), "GET"),
        route(p + "/{sid}", partial(fetch_bundle, kind=kind), "GET"),
        route(p + "/{sid}", partial(update_bundle, kind=kind), "POST"),
        route(p + "/{bundle_sid}/EntityAssignments", partial(create_assignment, kind=kind), "POST"),
        route(p + "/{bundle_sid}/EntityAssignments", partial(list_assignments, kind=kind), "GET"),
        route(p + "/{bundle_sid}/EntityAssignments/{sid}", partial(fetch_assignment, kind=kind), "GET"),
        route(p + "/{bundle_sid}/EntityAssignments/{sid}", partial(delete_assignment, kind=kind), "DELETE"),
        route(p + "/{bundle_sid}/Evaluations", partial(create_evaluation, kind=kind), "POST"),
        route(p + "/{bundle_sid}/Evaluations", partial(list_evaluations, kind=kind), "GET"),
        route(p + "/{bundle_sid}/Evaluations/{sid}", partial(fetch_evaluation, kind=kind), "GET"),
    ]


def _item_routes(kind: str) -> list:
    p = ITEMS[kind][0]
    return [
        route(p, partial(create_item, kind=kind), "POST"),
        route(p, partial(list_items, kind=kind), "GET"),
        route(p + "/{sid}", partial(fetch_item, kind=kind), "GET"),
        route(p + "/{sid}", partial(update_item, kind=kind), "POST"),
        route(p + "/{sid}", partial(delete_item, kind=kind), "DELETE"),
    ]


routes = [
    route("/v1/Policies", list_policies, "GET"),
    route("/v1/Policies/{sid}", fetch_policy, "GET"),
    *_bundle_routes(CP),
    *_bundle_routes(TP),
    *_item_routes("end_users"),
    *_item_routes("supporting_documents"),
]
