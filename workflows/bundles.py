"""The Trust Hub bundle steps both flows share, written once: evaluate and submit, check after the
settle wait, stop before TCR while a bundle is rejected, and remediate a correction in Twilio's
order (FACTS.md, profile remediation): update what changed — the starter end user, the customer
profile's Email, the address, the sole proprietor end user — then resubmit the customer profile,
then the trust bundle, each only once the one before is accepted (`in-review`).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from a2p.calls import (
        BundleKind, BundleRef, BundleState, Call, Created, EvaluateBundle, Evaluation, RequirementFailure,
        UpdateAddress, UpdateBundle, UpdateEndUser,
    )
    from a2p.constants import (
        SOLE_PROPRIETOR_END_USER_TYPE, SOLE_PROPRIETOR_TRUST_POLICY_SID, STARTER_PROFILE_END_USER_TYPE,
        STARTER_PROFILE_POLICY_SID,
    )
    from a2p.progress import Problem
    from a2p.requests import Correction

from workflows import visibility
from workflows.base import RegistrationBase
from workflows.patches import FAILURE_PATHS, RESUBMIT_IN_TURN, failure_paths

POLICY = {"customer_profile": STARTER_PROFILE_POLICY_SID, "trust_bundle": SOLE_PROPRIETOR_TRUST_POLICY_SID}
LABEL = {"customer_profile": "customer profile", "trust_bundle": "trust bundle"}
KINDS: tuple[BundleKind, ...] = ("customer_profile", "trust_bundle")

# Requirements a correction of the customer's details can fix; any other failed requirement is the
# ISV's to fix (e.g. its primary customer profile), then `decide retry`.
CORRECTABLE = {STARTER_PROFILE_END_USER_TYPE, SOLE_PROPRIETOR_END_USER_TYPE, "customer_profile_address"}
REQUIREMENT_FIX = {
    "customer_profile": "assign the customer's twilio-approved Starter customer profile to the trust bundle "
                        "(Twilio Console or the EntityAssignments API)",
    "primary_customer_profile": "make A2P_PRIMARY_CUSTOMER_PROFILE_SID the ISV's twilio-approved primary "
                                "customer profile",
}


def sole_proprietor_attributes(brand_name: str, mobile_number: str, vertical: str | None) -> dict[str, Any]:
    attrs = {"brand_name": brand_name, "mobile_phone_number": mobile_number}
    if vertical:
        attrs["vertical"] = str(vertical)
    return attrs


class BundleSteps(RegistrationBase):
    """Bundle steps over ``status.sids``; a flow says what its corrections change."""

    # ---- what a flow provides -------------------------------------------------------------------

    def _identity_fields(self) -> list[str]:
        """The `Correction` fields that fix this flow's bundles."""
        raise NotImplementedError

    def _apply_identity(self, correction: Correction) -> None:
        """Take the corrected customer details as the flow's own."""
        raise NotImplementedError

    def _starter_attributes(self) -> dict[str, Any]:
        raise NotImplementedError

    def _sole_proprietor_attributes(self) -> dict[str, Any]:
        raise NotImplementedError

    # ---- steps ------------------------------------------------------------------------------------

    def _bundle_ref(self, kind: BundleKind) -> BundleRef:  # only for a bundle already created
        sid = self.status.sids.customer_profile if kind == "customer_profile" else self.status.sids.trust_bundle
        assert sid is not None
        return BundleRef(subaccount_sid=self.subaccount_sid, kind=kind, bundle_sid=sid)

    def _created(self) -> list[BundleKind]:
        sids = self.status.sids
        return [k for k, sid in zip(KINDS, (sids.customer_profile, sids.trust_bundle), strict=True) if sid]

    async def _submit(self, kind: BundleKind) -> None:
        """Evaluate against the policy; submit only when compliant. Noncompliant: report every
        failed requirement and wait for a correction (or a retry once the ISV fixed its setup)."""
        ref = self._bundle_ref(kind)
        while True:
            evaluation = await self._call(
                Call.EVALUATE_BUNDLE, EvaluateBundle(**ref.model_dump(), policy_sid=POLICY[kind]),
                Evaluation, f"evaluate {LABEL[kind]}",
            )
            if evaluation.compliant:
                break
            correction = await self._attention(self._noncompliant(kind, evaluation.failures))
            if correction is not None:
                await self._write_correction(correction)
            self._answer_correction_as_before()
        state = await self._call(Call.SUBMIT_BUNDLE, ref, BundleState, f"submit {LABEL[kind]}")
        self._bundle_read(kind)
        setattr(self.status.statuses, kind, state.status)
        self.state.bundle_failure.pop(kind, None)
        self._note(f"{LABEL[kind]} submitted, {state.status}")

    def _noncompliant(self, kind: BundleKind, failures: list[RequirementFailure]) -> Problem:
        failed = ", ".join(f.requirement for f in failures) or "no requirement named"
        outside = [REQUIREMENT_FIX.get(f.requirement, f"fix the {LABEL[kind]}'s {f.requirement}")
                   for f in failures if f.requirement not in CORRECTABLE]
        sid = self._bundle_ref(kind).bundle_sid
        if outside:
            # No correction of the customer's details can fix these: the ISV acts, then retries.
            return Problem(
                source=kind, summary=f"{LABEL[kind]} is noncompliant: {failed}; nothing was submitted",
                failed_requirements=failures, accepts=["retry", "end"],
                remedy=f"{'; and '.join(outside)} ({LABEL[kind]} {sid}), then `decide retry`; or `decide end`",
            )
        return Problem(
            source=kind, summary=f"{LABEL[kind]} is noncompliant: {failed}; nothing was submitted",
            failed_requirements=failures, accepts=["correction", "retry", "end"],
            correction_fields=self._identity_fields(),
            remedy="send a correction of the failed details (the bundle is then evaluated again)",
        )

    async def _fetch_bundle(self, kind: BundleKind, summary: str | None = None) -> BundleState:
        state = await self._call(Call.FETCH_BUNDLE, self._bundle_ref(kind), BundleState,
                                 summary or f"fetch {LABEL[kind]} status")
        self._bundle_read(kind)
        setattr(self.status.statuses, kind, state.status)
        if state.status == "twilio-rejected" and kind not in self.state.bundle_failure and state.errors:
            self.state.bundle_failure[kind] = "; ".join(e.message for e in state.errors)
        self._publish()
        return state

    async def _no_known_rejection(self) -> None:
        """Right before the brand is registered or updated: nothing is sent to TCR while a bundle is
        known twilio-rejected (a status callback still being confirmed is waited for first) — a
        correction fixes it first."""
        await self._callbacks_confirmed()
        if any(getattr(self.status.statuses, k) == "twilio-rejected" for k in self._created()) \
                and workflow.patched(FAILURE_PATHS):
            await self._check_bundles(self._created(), fetch=False)

    async def _check_bundles(self, kinds: list[BundleKind], *, fetch: bool = True) -> bool:
        """After the settle wait (``fetch``: read the bundles first) or right before the brand is
        registered or updated (the newest known statuses, webhook or fetch): nothing goes on while
        a bundle is twilio-rejected — a correction fixes it first. Nothing is sent to TCR on data
        Twilio already rejected. True when a correction was applied (its bundles resubmitted)."""
        if fetch:
            for kind in kinds:
                await self._fetch_bundle(kind)
        corrected = False
        while True:
            rejected = [k for k in kinds if getattr(self.status.statuses, k) == "twilio-rejected"]
            if not rejected:
                return corrected
            kind = rejected[0]
            reason = visibility.reasons([self.state.bundle_failure.get(kind, "no reason given")])
            correction = await self._attention(Problem(
                source=kind, summary=f"{LABEL[kind]} rejected by Twilio: {reason}",
                accepts=["correction", "retry", "end"],
                correction_fields=self._identity_fields(),
                remedy="send a correction of the rejected details (the bundles are then resubmitted); "
                       "`decide retry` re-reads the bundles",
            ))
            if correction is None:
                for k in kinds:
                    await self._fetch_bundle(k)
            else:
                await self._remediate(correction)
                corrected = True
                if not failure_paths():
                    await self._fetch_bundle(kind)  # as before: only the rejected bundle is read again

    async def _write_correction(self, correction: Correction) -> None:
        """The correction's writes, each only where it changes something that exists."""
        self._apply_identity(correction)
        sids, acct = self.status.sids, self.subaccount_sid
        if correction.touches_starter_profile() and sids.starter_end_user:
            await self._call(Call.UPDATE_END_USER, UpdateEndUser(
                subaccount_sid=acct, end_user_sid=sids.starter_end_user, attributes=self._starter_attributes(),
            ), Created, "update starter profile end user")
        if correction.email is not None and sids.customer_profile and failure_paths():
            # The seed's email check runs on the customer profile's own Email (section 1.2).
            await self._call(Call.UPDATE_BUNDLE, UpdateBundle(
                **self._bundle_ref("customer_profile").model_dump(), email=correction.email,
            ), BundleState, "update customer profile email")
        if correction.address is not None and sids.address:
            await self._call(Call.UPDATE_ADDRESS, UpdateAddress(
                subaccount_sid=acct, address_sid=sids.address,
                changes={k: str(v) for k, v in correction.address.model_dump(exclude_none=True).items()},
            ), Created, "update address")
        if correction.touches_sole_proprietor() and sids.sole_proprietor_end_user:
            await self._call(Call.UPDATE_END_USER, UpdateEndUser(
                subaccount_sid=acct, end_user_sid=sids.sole_proprietor_end_user,
                attributes=self._sole_proprietor_attributes(),
            ), Created, "update sole proprietor end user")
        self._note("correction applied")

    async def _remediate(self, correction: Correction | None, *, brand_update_follows: bool = False) -> None:
        """Apply a correction, then resubmit in Twilio's order — the customer profile, then the
        trust bundle (also when only the profile changed: FACTS.md) — each bundle that changed or
        is rejected, each only once the one before is accepted (a new rejection parks again).
        Registrations started before RESUBMIT_IN_TURN resubmit them together, then wait once."""
        if correction is None:
            return
        await self._write_correction(correction)
        statuses = self.status.statuses
        profile_changed = correction.touches_starter_profile() or correction.touches_address()
        in_turn = self._to_resubmit(correction)
        if in_turn and failure_paths() and workflow.patched(RESUBMIT_IN_TURN):
            await self._resubmit_in_turn(in_turn, brand_update_follows=brand_update_follows)
            return
        resubmitted: list[BundleKind] = []
        for kind in self._created():
            if kind == "customer_profile":
                changed = profile_changed
            else:
                changed = correction.touches_sole_proprietor() or (bool(resubmitted) and failure_paths())
            if getattr(statuses, kind) == "twilio-approved":
                continue  # approved only once the brand is verified: nothing to resubmit
            if not changed and not workflow.patched(FAILURE_PATHS):
                await self._fetch_bundle(kind)  # as before: read the status rather than trust the last known
            if changed or getattr(statuses, kind) in ("twilio-rejected", "draft"):
                await self._submit(kind)
                resubmitted.append(kind)
        if resubmitted:
            await self._settle("resubmitted " + " and ".join(LABEL[k] for k in resubmitted))
        if not brand_update_follows:
            self._answer_correction_as_before()
        if resubmitted and failure_paths():  # before, a brand update followed unchecked
            await self._check_bundles(resubmitted)

    def _to_resubmit(self, correction: Correction) -> list[BundleKind]:
        """The bundles a correction resubmits, in Twilio's order: each that changed or is rejected
        (or a draft), and the trust bundle after the customer profile (FACTS.md); none approved."""
        kinds: list[BundleKind] = []
        for kind in self._created():
            status = getattr(self.status.statuses, kind)
            if status == "twilio-approved":
                continue  # approved only once the brand is verified: nothing to resubmit
            if kind == "customer_profile":
                changed = correction.touches_starter_profile() or correction.touches_address()
            else:
                changed = correction.touches_sole_proprietor() or bool(kinds)
            if changed or status in ("twilio-rejected", "draft"):
                kinds.append(kind)
        return kinds

    async def _resubmit_in_turn(self, kinds: list[BundleKind], *, brand_update_follows: bool) -> None:
        """Resubmit each bundle only once the one before is accepted — and the brand is updated only
        once the last is: after its settle wait, a resubmitted bundle is read and followed until
        Twilio takes it up (``in-review``) or decides; rejected, it is parked for a correction, which
        resubmits it and everything after it again (so nothing after it goes on unchecked)."""
        for i, kind in enumerate(kinds):
            await self._submit(kind)
            await self._settle(f"resubmitted {LABEL[kind]}")
            if i == len(kinds) - 1 and not brand_update_follows:
                self._answer_correction_as_before()
            await self._fetch_bundle(kind)
            await self._follow(
                f"Twilio to take up the resubmitted {LABEL[kind]} (in-review)",
                lambda: getattr(self.status.statuses, kind) != "pending-review",  # noqa: B023 - awaited here
                lambda: self._fetch_bundle(kind),  # noqa: B023
                f"{LABEL[kind]} status",
            )
            if await self._check_bundles([kind], fetch=False):
                return  # the correction that fixed it resubmitted it and those after it, in turn
