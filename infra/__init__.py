"""Infrastructure: settings, the Temporal connection (data converter, payload codec, metrics
runtime), logging with PII masking, and the process exit. Depends on the domain (a2p), never the
other way round."""
