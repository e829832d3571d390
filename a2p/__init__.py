"""The domain of a2p-registrar: request models and their rules, timings, the Twilio calls' names
and I/O models, what a registration shows, search attributes, constants and metric names. Imports
nothing else of ours; the workflows' sandbox passes it through."""
