"""What a person is told to do when Twilio says no: the remedy by Twilio's error code, the brand
states only a person can resolve, and Twilio's errors explained."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from a2p.calls import TwilioError
    from a2p.constants import explain

# What a person does about a refusal, by Twilio's error code (the rest: fix the cause, retry or end).
REMEDY_BY_CODE = {
    21724: "the brand's 3 self-service updates are used up: ask Twilio Support to resubmit it, then "
           "`decide retry` (re-checks the brand), or `decide end`",
    20404: "the resource no longer exists at Twilio (deleted in the Console?): `decide end`, or fix it "
           "and `decide retry`",
}
DEFAULT_REMEDY = "fix the cause at Twilio or in the ISV's setup, then `decide retry`; or `decide end`"

# Brand states only a person can resolve: the action to take, in Twilio's Console or with Support.
BRAND_NEEDS_PERSON = {
    "SUSPENDED": "Twilio suspended the brand: ask Twilio Support why and what to change; once it is no longer "
                 "SUSPENDED, `decide retry` (re-checks the brand); or `decide end`",
    "EXPIRED": "TCR expired the brand (its OTP was not verified in time): it must be deleted (Twilio Console or "
               "Support) and the customer registered again; `decide end` ends this registration, `decide retry` "
               "re-checks the brand",
    "DELETION_PENDING": "the brand is being deleted (requested in the Twilio Console or by Support): `decide end`; "
                        "`decide retry` re-checks it if the deletion was withdrawn",
    "DELETION_FAILED": "TCR could not delete the brand: ask Twilio Support; then `decide retry` (re-checks the "
                       "brand) or `decide end`",
}


def twilio_error_of(cause: BaseException | None) -> TwilioError | None:
    details = getattr(cause, "details", None)
    if details:
        try:
            return TwilioError.model_validate(details[0])
        except Exception:  # noqa: BLE001 - an unexpected shape only loses the explanation
            return None
    return None


def explanations(errors: list[TwilioError]) -> list[str]:
    out = []
    for e in errors:
        hint = explain(e.code)
        if hint:
            out.append(f"{e.code}: {hint}")
    return out


def described(error: TwilioError) -> str:
    where = f" ({', '.join(error.fields)})" if error.fields else ""
    return f"{error.code}{where}: {error.message}" if error.code else error.message + where
