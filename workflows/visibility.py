"""What a registration shows outside its Query: search attributes (the Web UI's filters), the
current details (the Web UI's summary of where it stands) and the timeline. Called from workflow
code only: deterministic, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from a2p import search_attributes as sa
    from a2p.progress import TERMINAL_PHASES, Phase, Problem, RegistrationStatus, TimelineEntry

MAX_TIMELINE = 200

# How a person moves a parked or waiting registration on: the `a2p` command and the service's API
# call, per action ({id}: the workflow id; {actions}: the decisions it takes now).
MOVES = {
    "correction": ("a2p correct {id} FILE.json", "POST /v1/registrations/{id}/corrections"),
    "decision": ("a2p decide {id} {actions}", "POST /v1/registrations/{id}/actions/decide {{\"action\": {choices}}}"),
    "resend_otp": ("a2p resend-otp {id}", "POST /v1/registrations/{id}/actions/resend-otp"),
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


def reasons(texts: Iterable[str]) -> str:
    """Twilio's reasons joined for a person to read. The seed's each end in ";", so a plain
    ``"; ".join`` reads "Country: US;; Email ..."; empty parts are dropped."""
    parts = (part.strip() for text in texts for part in text.split(";"))
    return "; ".join(part for part in parts if part)


def settle(what: str, wait: timedelta) -> tuple[str, str]:
    """A settle wait's ``waiting_for`` and its timer's summary (in the Web UI): "0.5 s", never "0 s"."""
    secs = wait.total_seconds()
    return f"{what} validation ({secs:g} s settle wait)", f"wait {secs:g} s for {what} validation"


def _move(action: str, workflow_id: str, decisions: list[str]) -> str:
    command, call = MOVES[action]
    fill = {"id": workflow_id, "actions": "|".join(decisions),
            "choices": " | ".join(f'"{d}"' for d in decisions)}
    return f"`{command.format(**fill)}` ({call.format(**fill)})"


def next_move(s: RegistrationStatus) -> str:
    """What moves the registration on: the command (and API call) a person sends, or that none is
    needed."""
    if s.phase in TERMINAL_PHASES:
        return "ended: nothing left to do"
    if s.problem is not None and s.problem.accepts:
        decisions = [a for a in s.problem.accepts if a != "correction"]
        moves = ([_move("correction", s.workflow_id, [])] if "correction" in s.problem.accepts else []) + \
            ([_move("decision", s.workflow_id, decisions)] if decisions else [])
        return "send " + " or ".join(moves)
    if s.phase == Phase.OTP_VERIFICATION and not s.otp.verified_at:
        return "to re-send the OTP now: " + _move("resend_otp", s.workflow_id, [])
    return "no action needed"


def details(s: RegistrationStatus) -> str:
    """The Web UI's current details: first the line an operator acts on (phase, what it waits for,
    the next check, and what moves it on), then the statuses; the OTP while it is awaited; a
    problem with Twilio's codes explained and its remedy."""
    head = f"**{s.phase.value}**" + (f" — waiting for {s.waiting_for}" if s.waiting_for else "")
    if s.next_timer_at:
        head += f" · next check {_when(s.next_timer_at)}"
    head += f" · {next_move(s)}"
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
        lines.extend(f"Twilio {explanation}" for explanation in s.problem.explanations)
        if s.phase not in TERMINAL_PHASES and s.problem.remedy:
            lines.append(f"remedy: {s.problem.remedy}")
    return "\n\n".join(lines)
