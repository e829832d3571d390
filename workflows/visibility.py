"""What a registration shows outside its Query: search attributes (the Web UI's filters), the
current details (the Web UI's summary of where it stands) and the timeline. Called from workflow
code only: deterministic, no I/O."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from a2p import search_attributes as sa
    from a2p.progress import TERMINAL_PHASES, Problem, RegistrationStatus, TimelineEntry

MAX_TIMELINE = 200

# How a person sends each action (the service's API; the CLI is `a2p correct|decide ID ...`).
HOW = {
    "correction": "POST /v1/registrations/{id}/corrections (a2p correct {id} FILE.json)",
    "retry": "POST /v1/registrations/{id}/actions/decide {{\"action\": \"retry\"}} (a2p decide {id} retry)",
    "end": "POST /v1/registrations/{id}/actions/decide {{\"action\": \"end\"}} (a2p decide {id} end)",
    "resend_otp_and_wait": "POST /v1/registrations/{id}/actions/decide {{\"action\": \"resend_otp_and_wait\"}} "
                           "(a2p decide {id} resend_otp_and_wait)",
}


def note(status: RegistrationStatus, at: datetime, text: str) -> None:
    entries = status.timeline
    entries.append(TimelineEntry(at=at, phase=status.phase, note=text))
    if len(entries) > MAX_TIMELINE:
        del entries[: len(entries) - MAX_TIMELINE]


def what_to_send(problem: Problem) -> str:
    """``waiting_for`` of a parked registration: the actions it takes, in the domain's words."""
    parts = []
    if "correction" in problem.accepts:
        parts.append(f"a correction ({', '.join(problem.correction_fields)})")
    decisions = [a for a in problem.accepts if a != "correction"]
    if decisions:
        parts.append(f"a decision ({' | '.join(decisions)})")
    return " or ".join(parts) or "nothing: the registration has ended"


def publish(status: RegistrationStatus, published: dict[str, str | None]) -> dict[str, str | None]:
    """Upsert the search attributes that changed (returns what is now published) and set the
    current details."""
    st, sids = status.statuses, status.sids
    wanted: dict[str, str | None] = {
        sa.PHASE.name: status.phase.value,
        sa.FLOW.name: status.flow,
        sa.ISV_CUSTOMER_ID.name: status.isv_customer_id,
        sa.BRAND_STATUS.name: st.brand,
        sa.IDENTITY_STATUS.name: st.identity,
        sa.CAMPAIGN_STATUS.name: st.campaign,
        sa.BRAND_SID.name: sids.brand,
        sa.CAMPAIGN_SID.name: sids.campaign,
    }
    keys = {k.name: k for k in sa.ALL}
    updates = [
        keys[name].value_set(value) if value is not None else keys[name].value_unset()
        for name, value in wanted.items()
        if published.get(name) != value
    ]
    if updates:
        workflow.upsert_search_attributes(updates)
        published = wanted
    workflow.set_current_details(details(status))
    return published


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def details(s: RegistrationStatus) -> str:
    """The Web UI's current details: first the line an operator acts on, then the statuses; the
    OTP while it is awaited; a parked registration's problem and how to send each action it takes."""
    head = f"**{s.phase.value}**" + (f" — waiting for {s.waiting_for}" if s.waiting_for else "")
    if s.next_timer_at:
        head += f" · next check {_when(s.next_timer_at)}"
    st = s.statuses
    lines = [head, (f"profile {st.customer_profile or '-'} · trust bundle {st.trust_bundle or '-'} · "
                    f"brand {st.brand or '-'}/{st.identity or '-'} · campaign {st.campaign or '-'}")]
    otp = s.otp
    if otp.sent and not otp.verified_at and s.phase not in TERMINAL_PHASES:
        lines.append(f"OTP sent {otp.sent}×"
                     + (f", next re-send {_when(otp.next_resend_at)}" if otp.next_resend_at else "")
                     + (f", deadline {_when(otp.deadline_at)}" if otp.deadline_at else ""))
    if s.problem:
        lines.append(f"problem: {s.problem.summary}")
        if s.phase not in TERMINAL_PHASES:
            if s.problem.remedy:
                lines.append(f"remedy: {s.problem.remedy}")
            lines.extend("to send " + (f"a {a}" if a == "correction" else f"'{a}'") + ": "
                         + HOW[a].format(id=s.workflow_id) for a in s.problem.accepts)
    return "\n\n".join(lines)
