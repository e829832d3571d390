"""Metrics: the Temporal SDK's own (workflow/activity latencies, task slots, ...) and a2p's
counters, all served in Prometheus format on ``A2P_METRICS_BIND`` (e.g. ``0.0.0.0:9464/metrics``)
by the Temporal runtime of the process.

a2p's counters (Prometheus names):
* ``a2p_registrations_started{flow}``; ``a2p_registrations_ended{flow, outcome, phase}``
  (outcome COMPLETED / FAILED / CANCELLED; phase = where it was when it ended);
* ``a2p_otp_resends{flow}``;
* ``a2p_twilio_calls{endpoint, status}`` (endpoint = method + path template, SIDs as {Sid});
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
from functools import lru_cache

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

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


@lru_cache(maxsize=None)
def runtime_for(bind_address: str | None) -> Runtime | None:
    """The process's Temporal runtime with a Prometheus endpoint (one per address per process);
    None: the SDK's default runtime, no endpoint."""
    if not bind_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))
