"""The workflow.patched markers: each change of behaviour that a running registration would replay
differently. Registrations started before a marker keep the old way at each point it guards; the
recorded histories in tests/histories replay through them (tests/integration/test_replay.py)."""

from temporalio import workflow

# Every change of behaviour that running registrations would replay differently is guarded by
# this patch: registrations started before it keep the old way at each such point.
FAILURE_PATHS = "failure-paths-ways-forward"

# An OTP re-send requested while the brand turned out VERIFIED (a poll, a webhook, a refused
# re-send) is answered once the OTP wait ends: before, it stayed "being applied" to the end,
# refusing every later action.
OTP_REQUEST_ANSWERED = "otp-resend-request-answered-when-verified"

# Long waits continue as new runs, carrying the registration's state (RegistrationState).
CONTINUE_AS_NEW = "continue-as-new-in-long-waits"

# No OTP re-send once the 30-day deadline has passed: the OTP expires and a person decides.
NO_RESEND_AFTER_DEADLINE = "no-otp-resend-after-the-deadline"

# Actions answered once their effect is done (registrations started before: answered as then —
# decisions at once, corrections after their settle wait).
FAST_ANSWERS = "answer-actions-after-their-effect"

# A bundle status callback is a nudge: the workflow reads the bundle from Twilio and applies what
# Twilio says now, so a stale or replayed callback (its delivery token is not signed) never moves a
# bundle backwards. Before: the callback's status was applied as it came.
BUNDLE_CALLBACKS_CONFIRMED = "bundle-callbacks-confirmed-by-a-fetch"

# An OTP re-send requested just before the registration parks for a person (a status poll or a
# refused re-send finds the brand SUSPENDED, EXPIRED, ...) is answered when it parks, refused:
# before, nothing took it, and every later action was refused as "being applied".
RESEND_ANSWERED_WHEN_PARKED = "otp-resend-request-answered-when-parked"

# Brand review, campaign vetting and the waits for a person (NEEDS_ATTENTION, OTP_EXPIRED)
# continue as new too, resuming at their step (RegistrationState.resume).
CONTINUE_AS_NEW_IN_EVERY_LONG_WAIT = "continue-as-new-in-reviews-and-waits-for-a-person"

# A correction resubmits the customer profile, then the trust bundle, each only once the one before
# is accepted: after its settle wait it is read and, until Twilio takes it up, followed; rejected,
# it is parked for a correction before anything after it is resubmitted. Before, both were
# resubmitted together, one settle wait for both.
RESUBMIT_IN_TURN = "bundles-resubmitted-each-once-the-one-before-is-accepted"

# A brand that leaves APPROVED during the OTP wait for a state with a way forward of its own goes
# back to the brand review: FAILED waits for a correction and is updated, PENDING / IN_REVIEW is
# followed until reviewed, then the OTP wait carries on. Before, the wait went on, re-sending the
# OTP Twilio refused every interval until the deadline.
BRAND_REVIEWED_AGAIN = "brand-leaving-approved-during-the-otp-wait-reviewed-again"


def failure_paths() -> bool:
    """FAILURE_PATHS's guard at the points of that change that went out unguarded (the customer
    profile's Email updated on an email correction; the trust bundle resubmitted after the customer
    profile; the bundles checked after a correction's settle wait). A run started since the change
    takes the new way there whether or not it has met FAILURE_PATHS yet: it recorded FAST_ANSWERS,
    a marker of the same change, as it started; asking FAILURE_PATHS there would record a marker its
    history lacks. A run started before takes the new way once it reaches such a point live. The
    change's other points ask `workflow.patched(FAILURE_PATHS)` itself, as they always did."""
    return workflow.patched(FAST_ANSWERS) or workflow.patched(FAILURE_PATHS)
