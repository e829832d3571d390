"""Domain of a2p-registrar: models, constants and settings. Imports nothing else of ours."""
