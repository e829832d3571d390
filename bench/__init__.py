"""`python -m bench`: how fast a2p-registrar drives registrations, what each costs in Twilio calls,
history events, CPU and memory, and how close that is to Temporal's and Twilio's own limits.
See bench/RESULTS.md (figures and how they were taken) and `python -m bench --help`."""
