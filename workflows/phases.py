"""The phases both flows end with — brand review, OTP verification, campaign — and every way
forward when Twilio stops them: a FAILED brand is corrected and updated (at most 3 times, and
never on data Twilio already rejected); states only a person can resolve (SUSPENDED, EXPIRED,
DELETION_*, the update limit) are parked once with the action to take; a FAILED campaign is
corrected and edited (or deleted and created again), never leaving two live campaigns.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from a2p import metrics
    from a2p.calls import (
        AddPhoneNumber, BrandRef, BrandState, Call, CampaignRef, CampaignState, CreateCampaign,
        CreateMessagingService, Created, TwilioError, UpdateCampaign, friendly_name,
    )
    from a2p.constants import MAX_BRAND_UPDATES
    from a2p.progress import OperatorDecision, Phase, Problem, Resume
    from a2p.requests import CampaignDetails, Correction, MessagingServiceSpec, merge_campaign
    from a2p.timings import human_duration

from workflows import visibility
from workflows.base import Ended, Refused
from workflows.bundles import BundleSteps
from workflows.patches import BRAND_REVIEWED_AGAIN, FAILURE_PATHS, NO_RESEND_AFTER_DEADLINE, OTP_REQUEST_ANSWERED
from workflows.remedies import BRAND_NEEDS_PERSON, REMEDY_BY_CODE, described, explanations

BRAND_IN_REVIEW = (None, "PENDING", "IN_REVIEW")
VERIFIED = ("VERIFIED", "VETTED_VERIFIED")


def _update_unsupported(error: TwilioError) -> bool:
    """Twilio will not edit this campaign (HTTP 405 / 20004): delete it and create it again."""
    return error.http_status == 405 or error.code == 20004


class Phases(BundleSteps):
    # ---- brand review -------------------------------------------------------------------

    def _brand_ref(self) -> BrandRef:
        assert self.status.sids.brand is not None
        return BrandRef(subaccount_sid=self.subaccount_sid, brand_sid=self.status.sids.brand)

    async def _fetch_brand(self, summary: str = "fetch brand status") -> BrandState:
        brand = await self._call(Call.FETCH_BRAND, self._brand_ref(), BrandState, summary)
        self._apply_brand(brand)
        return brand

    def _apply_brand(self, brand: BrandState) -> None:
        self.status.statuses.brand = brand.status
        self.status.statuses.identity = brand.identity_status
        if brand.errors:
            self.state.brand_errors = list(brand.errors)
        self._publish()

    async def _brand_approved(self) -> None:
        """Follow the brand until APPROVED (IN_REVIEW is still a review); FAILED waits for a
        correction, then the brand is updated; other states wait for a person."""
        while True:
            self._enter(Phase.BRAND_REVIEW, "waiting for the brand review")
            await self._follow(
                "brand review (APPROVED or FAILED)",
                lambda: self.status.statuses.brand not in BRAND_IN_REVIEW,
                self._fetch_brand, "brand status", resume="brand_review",
            )
            brand_status = self.status.statuses.brand
            if brand_status == "APPROVED":
                self._note("brand APPROVED")
                return
            if brand_status == "FAILED":
                await self._brand_failed()
            else:
                await self._brand_needs_person(resume="brand_review")

    async def _brand_needs_person(self, resume: Resume = "otp") -> None:
        """Park once for a state only a person can resolve; 'retry' fetches the brand once.
        ``resume``: the step that parks here (brand review; else the OTP wait)."""
        brand_status = self.status.statuses.brand or "unknown"
        errors = list(self.state.brand_errors)
        await self._attention(Problem(
            source="brand", summary=f"brand is {brand_status}", errors=errors, explanations=explanations(errors),
            accepts=["retry", "end"],
            remedy=BRAND_NEEDS_PERSON.get(brand_status, f"the brand is {brand_status}: ask Twilio Support, then "
                                                        "`decide retry` (re-checks the brand) or `decide end`"),
        ), resume=resume)
        await self._fetch_brand("fetch brand status again")

    async def _brand_failed(self) -> None:
        errors = list(self.state.brand_errors)
        rejections = [f"{k.replace('_', ' ')} rejected: {r}" for k, r in self.state.bundle_failure.items()]
        summary = "brand FAILED: " + (visibility.reasons([e.message for e in errors] + rejections) or "no reason given")
        left = MAX_BRAND_UPDATES - self.status.brand_updates_used
        if left <= 0:
            await self._update_limit_reached(summary + f" — no self-service brand updates left ({MAX_BRAND_UPDATES} "
                                             "used)", errors, resume="brand_review")
            return
        correction = await self._attention(Problem(
            source="brand", summary=summary, errors=errors, explanations=explanations(errors),
            accepts=["correction", "retry", "end"], correction_fields=self._identity_fields(),
            remedy=f"send a correction of the customer's details: the bundles are resubmitted, then the brand is "
                   f"updated ({left} of {MAX_BRAND_UPDATES} updates left); `decide retry` updates it unchanged "
                   "(for a temporary error such as 30791)",
        ), resume="brand_review")
        await self._remediate(correction, brand_update_follows=True)
        await self._update_brand()

    async def _update_limit_reached(self, summary: str, errors: list[TwilioError],
                                    resume: Resume | None = None) -> None:
        await self._attention(Problem(
            source="brand", summary=summary, errors=errors, explanations=explanations(errors),
            accepts=["retry", "end"], remedy=REMEDY_BY_CODE[21724],
        ), resume=resume)
        await self._fetch_brand("fetch brand status again")

    async def _update_brand(self) -> None:
        """Send the brand to TCR again (a POST with no body; one of its 3 updates) — only once no
        bundle is known rejected. Twilio's refusals each have their way forward."""
        while True:
            await self._no_known_rejection()
            try:
                brand = await self._call(
                    Call.UPDATE_BRAND, self._brand_ref(), BrandState,
                    f"update brand ({self.status.brand_updates_used + 1} of {MAX_BRAND_UPDATES})",
                    refusable=lambda e: e.code in (21724, 21725, 60723) and workflow.patched(FAILURE_PATHS),
                )
            except Refused as refused:
                error = refused.error
                if error.code == 21725:  # no longer FAILED: nothing to update, follow it
                    self._note(f"brand update refused ({error.code}): the brand is no longer FAILED")
                    await self._fetch_brand()
                    return
                if error.code == 21724:
                    self.status.brand_updates_used = MAX_BRAND_UPDATES
                    await self._update_limit_reached(f"brand update refused: {error.message}", [error])
                    return
                correction = await self._attention(Problem(  # 60723: fix and resubmit the bundles first
                    source="brand", summary=f"brand update refused: {error.message}", errors=[error],
                    explanations=explanations([error]), accepts=["correction", "retry", "end"],
                    correction_fields=self._identity_fields(),
                    remedy="send a correction of the customer's details (the bundles are resubmitted, then the "
                           "brand is updated); `decide retry` tries the update again",
                ))
                await self._remediate(correction)
                continue
            self.status.brand_updates_used += 1
            self.state.brand_errors = []
            self.state.bundle_failure.clear()
            self._apply_brand(brand)
            self._note(f"brand updated ({self.status.brand_updates_used} of {MAX_BRAND_UPDATES}), now {brand.status}")
            self._answer_correction_as_before()
            await self._settle("brand update")
            return

    # ---- OTP --------------------------------------------------------------------------------

    def _verified(self) -> bool:
        return self.status.statuses.identity in VERIFIED

    async def _otp_verified(self) -> None:
        """The customer must reply YES to the OTP: re-send every otp_resend_interval, watch the
        otp_deadline from brand registration, let an operator decide when it passes. A brand that
        leaves APPROVED meanwhile is not sent OTPs: a state only a person can resolve is parked,
        any other goes back to the brand review (FAILED: corrected and updated) first."""
        otp = self.status.otp
        registered_at = self.state.registered_at
        assert registered_at is not None, "the OTP follows the brand's registration"
        if self._verified():
            # The customer answered (the webhook said so) before the workflow got here.
            otp.sent = max(otp.sent, 1)  # the first OTP goes out when the brand is approved
            otp.verified_at = otp.verified_at or workflow.now()
            self._note("OTP verified: brand is VERIFIED")
            return
        if self.carried is None:
            self._enter(Phase.OTP_VERIFICATION, "brand approved: OTP sent to the customer's mobile number")
        else:
            self._enter(Phase.OTP_VERIFICATION, f"run {self.state.runs}: still waiting for the OTP")
        now = workflow.now()
        otp.sent, otp.last_sent_at = max(otp.sent, 1), otp.last_sent_at or now
        otp.deadline_at = otp.deadline_at or registered_at + self.timings.otp_deadline
        delays = self.timings.poll_delays()
        next_poll = now + next(delays)
        self.status.waiting_for = "the customer to reply YES to the OTP"

        while not self._verified():
            self._continue_as_new_if_due()
            assert otp.last_sent_at is not None and otp.deadline_at is not None
            otp.next_resend_at = otp.last_sent_at + self.timings.otp_resend_interval
            brand_status = self.status.statuses.brand
            if brand_status in BRAND_NEEDS_PERSON and workflow.patched(FAILURE_PATHS):
                await self._brand_needs_person()
                self.status.waiting_for = "the customer to reply YES to the OTP"
                continue
            if brand_status != "APPROVED" and brand_status not in BRAND_NEEDS_PERSON \
                    and workflow.patched(BRAND_REVIEWED_AGAIN):
                # FAILED, back in review (or a status we don't know): no OTP can be sent now.
                await self._brand_approved()
                self._enter(Phase.OTP_VERIFICATION, "brand APPROVED again: still waiting for the OTP")
                self.status.waiting_for = "the customer to reply YES to the OTP"
                continue
            if brand_status == "EXPIRED" or workflow.now() >= otp.deadline_at:
                await self._otp_expired()
                continue
            wake = min(next_poll, otp.next_resend_at, otp.deadline_at)
            self._nudged = False
            await self._wait(
                lambda: self._verified() or self._resend_requested or self._nudged,
                max(wake - workflow.now(), timedelta(0)), "OTP: next re-send, poll or deadline",
            )
            if self._verified():
                break
            now = workflow.now()
            if self._resend_requested or (now >= otp.next_resend_at and not self._deadline_passed(now)):
                await self._resend_otp()
            if now >= next_poll and not self._nudged:
                await self._fetch_brand()
                next_poll = workflow.now() + next(delays)
        otp.verified_at, otp.next_resend_at = workflow.now(), None
        self.status.waiting_for = None
        if self._resend_requested and workflow.patched(OTP_REQUEST_ANSWERED):
            self._take()  # nothing left to re-send: answered when the workflow waits again
            self._resend_requested = False
        self._note("OTP verified: brand is VERIFIED")

    def _deadline_passed(self, now: datetime) -> bool:
        """A wake-up that finds both the re-send and the deadline due expires the OTP without one
        more re-send (the deadline is checked next); registrations started before keep re-sending."""
        deadline = self.status.otp.deadline_at
        return deadline is not None and now >= deadline and workflow.patched(NO_RESEND_AFTER_DEADLINE)

    async def _resend_otp(self) -> None:
        otp = self.status.otp
        if self._resend_requested:
            self._take()
        self._resend_requested = False
        try:
            await self._call(
                Call.RESEND_OTP, self._brand_ref(), Created, f"OTP re-send {otp.resends + 1}",
                refusable=lambda e: workflow.patched(FAILURE_PATHS),
            )
        except Refused as refused:
            await self._resend_refused(refused.error)
            return
        otp.resends += 1
        otp.sent += 1
        self._count(metrics.OTP_RESENDS)
        otp.last_sent_at = workflow.now()
        self._note(f"OTP re-sent ({otp.resends})")

    async def _resend_refused(self, error: TwilioError) -> None:
        """Twilio refused a re-send: the brand says why. Verified (the customer answered while the
        re-send was on its way) or no longer waiting for an OTP: carry on as its state says."""
        brand = await self._fetch_brand("fetch brand status after a refused OTP re-send")
        if self._verified() or brand.status != "APPROVED":
            self._note(f"OTP re-send refused ({error.message}); the brand is {brand.status}/"
                       f"{brand.identity_status}: carrying on")
            return
        await self._attention(Problem(
            source="otp", summary=f"OTP re-send refused: {error.message}", errors=[error],
            explanations=explanations([error]), accepts=["retry", "end"],
            remedy="the brand still waits for its OTP: fix what Twilio names, then `decide retry` (re-sends "
                   "the OTP); or `decide end`",
        ))
        self._resend_requested = True

    async def _otp_expired(self) -> None:
        otp = self.status.otp
        expired_by_tcr = self.status.statuses.brand == "EXPIRED"
        self.status.problem = Problem(
            source="otp", at=workflow.now(),
            summary=("TCR expired the brand: it must be deleted and registered again" if expired_by_tcr else
                     f"the customer did not verify the OTP within {human_duration(self.timings.otp_deadline)}"),
            accepts=["resend_otp_and_wait", "end"],
            remedy="`decide resend_otp_and_wait` re-sends the OTP and waits another "
                   f"{human_duration(self.timings.otp_deadline)}; or `decide end`",
        )
        self.status.waiting_for = "an operator's decision (OTP expired)"
        self._enter(Phase.OTP_EXPIRED, self.status.problem.summary)
        await self._wait_for_person(lambda: self._pending is not None or self._resend_requested,
                                    "wait for an operator", resume="otp")
        taken = self._take()
        decision = taken if isinstance(taken, OperatorDecision) else OperatorDecision(action="resend_otp_and_wait")
        if decision.action == "end":
            raise Ended(decision.reason or self.status.problem.summary)
        self.status.problem = None
        otp.deadline_at = workflow.now() + self.timings.otp_deadline
        self._enter(Phase.OTP_VERIFICATION, "operator: re-send the OTP and keep waiting")
        self.status.waiting_for = "the customer to reply YES to the OTP"
        await self._resend_otp()

    # ---- campaign ---------------------------------------------------------------------------

    def _campaign_ref(self) -> CampaignRef:
        sids = self.status.sids
        assert sids.messaging_service is not None and sids.campaign is not None
        return CampaignRef(subaccount_sid=self.subaccount_sid, messaging_service_sid=sids.messaging_service,
                           campaign_sid=sids.campaign)

    async def _campaign(self, service: MessagingServiceSpec) -> None:
        """Create the messaging service and the campaign (what is not made yet: a continued run
        resumes here with the campaign made) and follow its vetting."""
        self._enter(Phase.CAMPAIGN, "creating the campaign" if self.status.sids.campaign is None
                    else f"run {self.state.runs}: following the campaign")
        sids, acct = self.status.sids, self.subaccount_sid
        if sids.messaging_service is None:
            if service.existing_sid:
                sids.messaging_service = service.existing_sid
            else:
                name = friendly_name(self.status.isv_customer_id, f"({service.friendly_name})")
                created = await self._call(
                    Call.CREATE_MESSAGING_SERVICE, CreateMessagingService(subaccount_sid=acct, friendly_name=name),
                    Created, "create messaging service",
                )
                sids.messaging_service = created.sid
        if service.phone_number_sid and sids.phone_number is None:
            await self._call(
                Call.ADD_PHONE_NUMBER,
                AddPhoneNumber(subaccount_sid=acct, messaging_service_sid=sids.messaging_service,
                               phone_number_sid=service.phone_number_sid),
                Created, "add the 10DLC number to the messaging service",
            )
            sids.phone_number = service.phone_number_sid
        if sids.campaign is None:
            await self._settle("messaging service")
            await self._create_campaign()

        async def poll() -> None:
            self._apply_campaign(await self._call(
                Call.FETCH_CAMPAIGN, self._campaign_ref(), CampaignState, "fetch campaign status"))

        while True:
            await self._follow(
                "campaign vetting (VERIFIED or FAILED)",
                lambda: self.status.statuses.campaign in ("VERIFIED", "FAILED", "SUSPENDED"),
                poll, "campaign status", resume="campaign",
            )
            campaign_status = self.status.statuses.campaign
            if campaign_status == "VERIFIED":
                break
            errors = list(self.state.campaign_errors)
            summary = f"campaign {campaign_status}: " + ("; ".join(described(e) for e in errors) or "no reason given")
            if not workflow.patched(FAILURE_PATHS):
                self.status.problem = Problem(source="campaign", at=workflow.now(), summary=summary, errors=errors,
                                              explanations=explanations(errors), accepts=[],
                                              remedy="fix the campaign details and register a new campaign")
                raise Ended(summary)
            if campaign_status == "FAILED":
                correction = await self._attention(Problem(
                    source="campaign", summary=summary, errors=errors, explanations=explanations(errors),
                    accepts=["correction", "retry", "end"], correction_fields=["campaign"],
                    remedy='send a correction {"campaign": {...}} with the fields to change: the FAILED campaign '
                           "is edited and resubmitted; `decide retry` re-reads its status",
                ), resume="campaign")
            else:
                correction = await self._attention(Problem(
                    source="campaign", summary=summary, errors=errors, explanations=explanations(errors),
                    accepts=["retry", "end"],
                    remedy="Twilio suspended the campaign: ask Twilio Support; once it is no longer SUSPENDED, "
                           "`decide retry` (re-reads its status); or `decide end`",
                ), resume="campaign")
            if correction is None:
                await poll()
            else:
                await self._correct_campaign(correction)
        self._note("campaign VERIFIED")

    async def _create_campaign(self) -> None:
        sids = self.status.sids
        assert self.state.campaign is not None and sids.messaging_service and sids.brand
        created = await self._call(
            Call.CREATE_CAMPAIGN,
            CreateCampaign(subaccount_sid=self.subaccount_sid, messaging_service_sid=sids.messaging_service,
                           brand_sid=sids.brand, campaign=self.state.campaign.to_twilio_kwargs()),
            CampaignState, "create the sole proprietor campaign",
        )
        sids.campaign = created.sid
        self._apply_campaign(created)
        self._note(f"campaign created, {created.status}")

    async def _correct_campaign(self, correction: Correction) -> None:
        """Edit and resubmit the FAILED campaign (UpdateUsAppToPerson, Twilio's required fields in
        full). When the update cannot carry the change (opt-in/out/help details) or Twilio will
        not edit it, delete the campaign, then create it again: never two live campaigns."""
        assert self.state.campaign is not None and correction.campaign is not None
        changed = set(correction.campaign.model_dump(exclude_none=True))
        self.state.campaign = merge_campaign(self.state.campaign, correction.campaign)
        self.state.campaign_errors = []
        if changed <= CampaignDetails.UPDATABLE:
            try:
                state = await self._call(
                    Call.UPDATE_CAMPAIGN,
                    UpdateCampaign(**self._campaign_ref().model_dump(), campaign=self.state.campaign.to_twilio_update_kwargs()),
                    CampaignState, "edit and resubmit the campaign", refusable=_update_unsupported,
                )
                self._apply_campaign(state)
                self._note(f"campaign edited and resubmitted, {state.status}")
                self._answer_correction_as_before()
                return
            except Refused as refused:
                self._note(f"Twilio will not edit the campaign ({refused.error.code}): deleting it, then creating "
                           "it again")
        else:
            self._note("the correction changes what a campaign update cannot carry: deleting the campaign, then "
                       "creating it again")
        await self._call(Call.DELETE_CAMPAIGN, self._campaign_ref(), Created, "delete the FAILED campaign")
        self.status.sids.campaign, self.status.statuses.campaign = None, None
        self._publish()
        await self._create_campaign()
        self._answer_correction_as_before()

    def _apply_campaign(self, campaign: CampaignState) -> None:
        self.status.statuses.campaign = campaign.status
        if campaign.errors:
            self.state.campaign_errors = list(campaign.errors)
        self._publish()
