"""What a2p counts: the names and labels of its metrics. They are served in Prometheus format,
beside the Temporal SDK's own (workflow/activity latencies, task slots, ...), on
``A2P_METRICS_BIND`` (e.g. ``0.0.0.0:9464/metrics``) by the process's Temporal runtime
(infra/temporal_client.py).

a2p's counters (Prometheus names):
* ``a2p_registrations_started{flow}``; ``a2p_registrations_ended{flow, outcome, phase}``
  (outcome COMPLETED / FAILED / CANCELLED; phase = where it was when it ended);
* ``a2p_otp_resends{flow}``;
* ``a2p_twilio_calls{endpoint, status}`` (endpoint = method + path template, SIDs as {Sid}; status = the
  HTTP status, ``error`` (no answer), or ``cancelled`` (a cancel or shutdown abandoned the request));
* ``a2p_webhooks{kind, outcome}`` (kind trusthub / event_streams; outcome accepted / refused (401, 403:
  unsigned, forged, or a callback re-aimed at another registration) / too_large (413) / unavailable
  (503: Temporal unreachable) / rejected (other 4xx)) — every refusal is counted, while the logs
  carry at most one line per reason every 10 s.
* ``a2p_stalled_registrations`` (gauge, set by the service: running registrations whose workflow
  task has been scheduled or started for longer than A2P_STALL_AFTER_SECONDS; starter/stalls.py).
Workflow counters are emitted by Temporal only on first execution, never on replay.
"""

from __future__ import annotations

import re

REGISTRATIONS_STARTED = "a2p_registrations_started"
REGISTRATIONS_ENDED = "a2p_registrations_ended"
OTP_RESENDS = "a2p_otp_resends"
TWILIO_CALLS = "a2p_twilio_calls"
WEBHOOKS = "a2p_webhooks"
STALLED_REGISTRATIONS = "a2p_stalled_registrations"

_SID = re.compile(r"/[A-Z]{2}[0-9a-f]{32}")


def endpoint(method: str, url: str) -> str:
    """``POST /v1/CustomerProfiles/{Sid}/EntityAssignments``: a label without SIDs (bounded cardinality)."""
    path = re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]
    return f"{method.upper()} {_SID.sub('/{Sid}', path)}"
