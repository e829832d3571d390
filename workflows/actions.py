"""The operator's actions on a registration, as workflow Updates: correct, decide, resend_otp,
cancel.

A registration parked for a person says, as data (``Problem.accepts``, ``correction_fields``),
what it takes; the validators read that, never the remedy's words, and every refusal names what
the registration accepts instead — in its text and as data (the ApplicationError's details:
``{"accepts": [...], "correction_fields": [...]}``). One action is applied at a time: an action
arriving while another is being applied is refused, never accepted and dropped; an OTP re-send
requested just before the registration parks for a person is answered then, refused.
An action is answered once its effect is done — its Twilio writes made, the workflow waiting again
(a settle wait, a review, a person) or ended — so a correction answers in seconds, not after the
30 s settle wait. Cancel is always accepted while running and answers with the registration ended.
"""

from __future__ import annotations

from pydantic import ValidationError
from temporalio import workflow
from temporalio.exceptions import ApplicationError


with workflow.unsafe.imports_passed_through():
    from a2p.progress import OperatorDecision, Phase, Problem, RegistrationState, RegistrationStatus, TERMINAL_PHASES
    from a2p.requests import Correction, merge_campaign

from workflows.patches import RESEND_ANSWERED_WHEN_PARKED


class OperatorActions:
    """The Updates and their bookkeeping; `RegistrationBase` holds the state they read."""

    state: RegistrationState
    _pending: Correction | OperatorDecision | None
    _accepted: int
    _taken: int
    _answered: int
    _fast_answers: bool
    _resend_requested: bool
    _cancel_reason: str | None
    _refusals: dict[int, ApplicationError]  # accepted actions answered with a refusal, by sequence

    @property
    def status(self) -> RegistrationStatus:
        return self.state.status

    @workflow.update(name="correct")
    async def correct(self, correction: Correction) -> RegistrationStatus:
        """Fix what Twilio rejected. Answers once the correction's Twilio writes are made."""
        return await self._accept(correction)

    @correct.validator
    def _validate_correction(self, correction: Correction) -> None:
        self._refuse_if_busy()  # first: while one is applied, the phase says nothing of what is next
        problem = self.status.problem
        if self.status.phase != Phase.NEEDS_ATTENTION or problem is None or "correction" not in problem.accepts:
            raise self._refusal(f"nothing to correct: the registration is {self.status.phase}"
                                + (f" ({problem.summary})" if problem else ""))
        try:
            self._check_correction(correction)
        except ApplicationError as err:
            raise self._refusal(err.message) from None
        extra = [f for f in correction.fields() if f not in problem.correction_fields]
        if extra:
            raise self._refusal(f"this problem takes corrections of {', '.join(problem.correction_fields)} only, "
                                f"not of {', '.join(extra)}")
        if correction.campaign is not None and self.state.campaign is not None:
            try:
                merge_campaign(self.state.campaign, correction.campaign)
            except ValidationError as err:
                raise self._refusal(f"correction is invalid: campaign: {err}") from None

    def _check_correction(self, correction: Correction) -> None:
        """Subclasses refuse corrections that cannot apply to them (raise ApplicationError: its
        message is the reason)."""

    @workflow.update(name="decide")
    async def decide(self, decision: OperatorDecision) -> RegistrationStatus:
        """Answers with the status once the decision took effect."""
        return await self._accept(decision)

    @decide.validator
    def _validate_decision(self, decision: OperatorDecision) -> None:
        self._refuse_if_busy()
        problem = self.status.problem
        allowed = [a for a in problem.accepts if a != "correction"] if self._parked() and problem else []
        if decision.action not in allowed:
            raise self._refusal(f"'{decision.action}' is not possible while the registration is {self.status.phase}")

    @workflow.update(name="resend_otp")
    async def request_otp_resend(self) -> RegistrationStatus:
        """Answers once the OTP went out (or Twilio's refusal was looked into)."""
        self._resend_requested = True
        return await self._accept(None)

    @request_otp_resend.validator
    def _validate_resend(self) -> None:
        self._refuse_if_busy()
        if self.status.phase not in (Phase.OTP_VERIFICATION, Phase.OTP_EXPIRED):
            raise self._refusal(f"an OTP can be re-sent only while waiting for verification, not in "
                                f"{self.status.phase}")

    @workflow.update(name="cancel")
    async def cancel(self, reason: str) -> RegistrationStatus:
        """Always accepted while running; cancels the Twilio call in flight and answers with the
        registration CANCELLED."""
        self._cancel_reason = reason or "cancelled by an operator"
        if self._fast_answers:
            await workflow.wait_condition(lambda: self.status.phase in TERMINAL_PHASES)
        return self.status

    @cancel.validator
    def _validate_cancel(self, reason: str) -> None:
        if self.status.phase in TERMINAL_PHASES:
            raise self._refusal(f"the registration has already ended ({self.status.phase})")

    def _parked(self) -> bool:
        return self.status.phase in (Phase.NEEDS_ATTENTION, Phase.OTP_EXPIRED)

    def _refuse_if_busy(self) -> None:
        if self._accepted > self._answered:
            raise _refuse("another action is being applied to this registration; send this one once it has "
                          "answered (until then it accepts only cancel)", accepts=[], correction_fields=[])

    # ---- what the registration accepts now, said in every refusal ----------------------------------

    def _accepts_now(self) -> list[str]:
        """What the registration takes now besides `cancel` (always taken while it runs): what its
        problem accepts while parked; `resend_otp` while it waits for the OTP; else nothing."""
        problem = self.status.problem
        if self._parked() and problem is not None:
            return list(problem.accepts)
        if self.status.phase == Phase.OTP_VERIFICATION:
            return ["resend_otp"]
        return []

    def _refusal(self, reason: str) -> ApplicationError:
        """A refusal saying ``reason`` and what the registration accepts instead (text and data)."""
        if self.status.phase in TERMINAL_PHASES:
            return _refuse(f"{reason}; it has ended and accepts nothing more", accepts=[], correction_fields=[])
        accepts = self._accepts_now()
        fields = self.status.problem.correction_fields if self.status.problem and "correction" in accepts else []
        named = [f"correction (of {', '.join(fields)})" if a == "correction" and fields else a for a in accepts]
        return _refuse(f"{reason}; it accepts " + (", ".join(named) + " or cancel" if named else "only cancel now"),
                       accepts=accepts, correction_fields=fields)

    # ---- bookkeeping ---------------------------------------------------------------------------

    async def _accept(self, action: Correction | OperatorDecision | None) -> RegistrationStatus:
        self._accepted += 1
        seq = self._accepted
        self._pending = action
        if not self._fast_answers and not isinstance(action, Correction):
            self._answered = seq
        await workflow.wait_condition(lambda: self._answered >= seq)
        refusal = self._refusals.pop(seq, None)
        if refusal is not None:
            raise refusal
        return self.status

    def _answer_requested_resend(self, problem: Problem) -> None:
        """The registration parks for a person (``problem``): an OTP re-send requested but not yet
        made is answered now, refused with why and what the problem accepts. Left waiting, nothing
        would ever take it, and every later action would be refused as "being applied"."""
        if not (self._fast_answers and self._resend_requested and self._pending is None
                and self._accepted > self._taken):
            return
        if not workflow.patched(RESEND_ANSWERED_WHEN_PARKED):
            return
        self._resend_requested = False
        self._refusals[self._accepted] = self._refusal(
            f"the OTP was not re-sent: the registration needs a person first ({problem.summary})")
        self._taken = self._answered = self._accepted

    def _take(self) -> Correction | OperatorDecision | None:
        """The workflow takes the pending action: it is answered when the workflow waits again."""
        action, self._pending = self._pending, None
        self._taken = self._accepted
        return action

    def _answer_correction_as_before(self) -> None:
        """Registrations started before FAST_ANSWERS answer a correction here, as they did."""
        if not self._fast_answers:
            self._answered = self._taken


def _refuse(message: str, *, accepts: list[str], correction_fields: list[str]) -> ApplicationError:
    """An Update's refusal: the message, and as its details what the registration accepts."""
    return ApplicationError(message, {"accepts": accepts, "correction_fields": correction_fields},
                            non_retryable=True)
