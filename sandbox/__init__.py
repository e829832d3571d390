"""A local, stateful Twilio API server for Trust Hub, Addresses and A2P messaging."""
