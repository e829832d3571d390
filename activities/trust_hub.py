"""Trust Hub calls: customer profiles and trust bundles (both "bundles"), end users, supporting
documents, entity assignments, evaluations.

Idempotency (a retry never creates a second resource; activities/lookup.py): every create is given
a deterministic friendly name by the workflow. The first attempt creates straight away (no extra
call); a later attempt, or a repeated run — when an earlier one may have reached Twilio — first
looks for the resource (bundles: the list filter ``FriendlyName``; end users and documents, which
have no filter: the account's list newest first, back to the registration's start only;
assignments: the bundle's few assignments, matched by object SID) and reuses it.
"""

from __future__ import annotations

import json

from a2p.calls import (
    AssignedEndUser, AssignEntity, BundleRef, BundleState, Call, Created, CreateAddressDocument,
    CreateBundle, CreateEndUser, Evaluation, EvaluateBundle, FieldFailure, RequirementFailure,
    UpdateBundle, UpdateEndUser,
)
from a2p.constants import ADDRESS_DOCUMENT_TYPE
from activities.errors import parse_errors, twilio_call
from activities.lookup import find_recent, made_since, may_exist
from activities.twilio_client import TwilioClients


class TrustHubActivities:
    def __init__(self, clients: TwilioClients) -> None:
        self._clients = clients

    def _bundles(self, kind: str, subaccount_sid: str | None):
        v1 = self._clients.for_account(subaccount_sid).trusthub.v1
        return v1.customer_profiles if kind == "customer_profile" else v1.trust_products

    def _bundle(self, ref: BundleRef):
        return self._bundles(ref.kind, ref.subaccount_sid)(ref.bundle_sid)

    @twilio_call(Call.CREATE_BUNDLE)
    async def create_bundle(self, req: CreateBundle) -> Created:
        bundles = self._bundles(req.kind, req.subaccount_sid)
        if may_exist(req):
            for found in await bundles.list_async(friendly_name=req.friendly_name, policy_sid=req.policy_sid, limit=1):
                return Created(sid=found.sid, reused=True)
        bundle = await bundles.create_async(
            friendly_name=req.friendly_name, email=req.email, policy_sid=req.policy_sid,
            status_callback=req.status_callback,
        )
        return Created(sid=bundle.sid)

    @twilio_call(Call.CREATE_END_USER)
    async def create_end_user(self, req: CreateEndUser) -> Created:
        end_users = self._clients.for_account(req.subaccount_sid).trusthub.v1.end_users
        if may_exist(req):
            found = await find_recent(end_users, made_since(req),
                                      lambda e: e.friendly_name == req.friendly_name and e.type == req.type)
            if found is not None:
                return Created(sid=found.sid, reused=True)
        end_user = await end_users.create_async(
            friendly_name=req.friendly_name, type=req.type, attributes=req.attributes
        )
        return Created(sid=end_user.sid)

    @twilio_call(Call.UPDATE_END_USER)
    async def update_end_user(self, req: UpdateEndUser) -> Created:
        # Twilio replaces the attributes wholesale: the workflow always sends all of them.
        v1 = self._clients.for_account(req.subaccount_sid).trusthub.v1
        await v1.end_users(req.end_user_sid).update_async(attributes=req.attributes)
        return Created(sid=req.end_user_sid)

    @twilio_call(Call.CREATE_ADDRESS_DOCUMENT)
    async def create_address_document(self, req: CreateAddressDocument) -> Created:
        docs = self._clients.for_account(req.subaccount_sid).trusthub.v1.supporting_documents
        if may_exist(req):
            found = await find_recent(docs, made_since(req), lambda d: d.friendly_name == req.friendly_name)
            if found is not None:
                return Created(sid=found.sid, reused=True)
        doc = await docs.create_async(
            friendly_name=req.friendly_name, type=ADDRESS_DOCUMENT_TYPE,
            attributes={"address_sids": req.address_sid},
        )
        return Created(sid=doc.sid)

    def _assignments(self, ref: BundleRef):
        bundle = self._bundle(ref)
        if ref.kind == "customer_profile":
            return bundle.customer_profiles_entity_assignments
        return bundle.trust_products_entity_assignments

    @twilio_call(Call.ASSIGN_ENTITY)
    async def assign_entity(self, req: AssignEntity) -> Created:
        assignments = self._assignments(req)
        if may_exist(req):
            async for found in await assignments.stream_async():
                if found.object_sid == req.object_sid:
                    return Created(sid=found.sid, reused=True)
        assignment = await assignments.create_async(object_sid=req.object_sid)
        return Created(sid=assignment.sid)

    @twilio_call(Call.LIST_ASSIGNED_END_USERS)
    async def list_assigned_end_users(self, req: BundleRef) -> list[AssignedEndUser]:
        v1 = self._clients.for_account(req.subaccount_sid).trusthub.v1
        out = []
        async for assignment in await self._assignments(req).stream_async():
            if assignment.object_sid.startswith("IT"):
                end_user = await v1.end_users(assignment.object_sid).fetch_async()
                attrs = end_user.attributes if isinstance(end_user.attributes, dict) else json.loads(end_user.attributes or "{}")
                out.append(AssignedEndUser(sid=end_user.sid, type=end_user.type, attributes=attrs))
        return out

    @twilio_call(Call.EVALUATE_BUNDLE)
    async def evaluate_bundle(self, req: EvaluateBundle) -> Evaluation:
        bundle = self._bundle(req)
        evaluations = (
            bundle.customer_profiles_evaluations if req.kind == "customer_profile"
            else bundle.trust_products_evaluations
        )
        evaluation = await evaluations.create_async(policy_sid=req.policy_sid)
        failures = [
            RequirementFailure(
                requirement=r.get("requirement_name") or r.get("friendly_name") or "?",
                object_type=r.get("object_type"),
                reason=r.get("failure_reason"),
                error_code=r.get("error_code"),
                fields=[
                    FieldFailure(field=f.get("object_field", "?"), reason=f.get("failure_reason"),
                                 error_code=f.get("error_code"))
                    for f in r.get("invalid") or []
                ],
            )
            for r in evaluation.results or []
            if not r.get("passed", False)
        ]
        return Evaluation(sid=evaluation.sid, compliant=evaluation.status == "compliant", failures=failures)

    @twilio_call(Call.SUBMIT_BUNDLE)
    async def submit_bundle(self, req: BundleRef) -> BundleState:
        bundle = self._bundle(req)
        if may_exist(req):
            current = await bundle.fetch_async()
            if current.status in ("pending-review", "in-review", "twilio-approved"):
                return BundleState(sid=current.sid, status=current.status, errors=parse_errors(current.errors))
        submitted = await bundle.update_async(status="pending-review")
        return BundleState(sid=submitted.sid, status=submitted.status, errors=parse_errors(submitted.errors))

    @twilio_call(Call.UPDATE_BUNDLE)
    async def update_bundle(self, req: UpdateBundle) -> BundleState:
        # Idempotent: the same properties set again. Status is never sent with them (22204).
        changes = {k: v for k, v in (("email", req.email), ("status_callback", req.status_callback)) if v is not None}
        updated = await self._bundle(req).update_async(**changes)
        return BundleState(sid=updated.sid, status=updated.status, errors=parse_errors(updated.errors))

    @twilio_call(Call.FETCH_BUNDLE)
    async def fetch_bundle(self, req: BundleRef) -> BundleState:
        current = await self._bundle(req).fetch_async()
        return BundleState(sid=current.sid, status=current.status, errors=parse_errors(current.errors))
