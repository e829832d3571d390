"""The local stack on the embedded default — a Temporal dev server with its Web UI, the Twilio
sandbox, a worker and the registration service on this machine — and the demo that drives a
sample registration through it (`a2p demo`). Not part of the production image."""
