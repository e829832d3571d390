"""How a create finds what an earlier attempt (or an earlier run) of it already made — the other
half of every create's idempotency, next to the deterministic friendly names the workflow gives.

* When to look: :func:`may_exist` — the activity's attempt > 1, or the workflow marked the call
  ``maybe_repeated`` (a reset or continued run, an operator's retry). An ordinary first attempt
  never looks: no extra call.
* How far to look: bounded by what the earlier attempts can have made, never by the account's
  size. Where Twilio has a list filter (``FriendlyName`` on customer profiles, trust products and
  addresses) the activity uses it. Elsewhere (end users, supporting documents, brand
  registrations, messaging services) :func:`find_recent` reads the list newest first, 1,000 a
  page, and stops at the first resource made before the call's first attempt could have run
  (:func:`made_since`).

List order: Twilio lists newest first. Its specs say nothing about order; its maintainers do
(twilio/twilio-oai issue 22: "the list result is sorted from the newest to the oldest", no
parameter changes it), and they order by SID, "close to the date created but not always exact"
(twilio/twilio-csharp pull request 65). Hence the margin: a resource counts as older only when it
is older than the bound by more than :data:`CLOCK_MARGIN` (ordering slack and clock skew between
Twilio and Temporal). The order is not taken on faith: the search stops early only once the list
itself has shown it descends (a resource older than an earlier one by more than the margin) and
never that it does not (one newer than an earlier one by more than the margin); a list in another
order is read to its end, as before — slower, never wrong. The sandbox lists newest first too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from temporalio import activity

from a2p.calls import MayRepeat

PAGE_SIZE = 1000  # Twilio's largest page: a bounded search is usually one request
CLOCK_MARGIN = timedelta(minutes=10)

log = structlog.get_logger("a2p.activities")


def may_exist(req: MayRepeat) -> bool:
    """True when an earlier attempt or run of this call may have reached Twilio: look before making."""
    return activity.info().attempt > 1 or req.maybe_repeated


def made_since(req: MayRepeat) -> datetime:
    """The oldest a resource made by an earlier attempt or run of this call can be: the
    registration's start (passed by the workflow), else this activity's first scheduling."""
    return req.since or activity.info().scheduled_time


async def find_recent(listing: Any, since: datetime, match: Callable[[Any], bool]) -> Any | None:
    """The newest resource of ``listing`` (a twilio-python list resource) that ``match``es, read
    newest first and no further back than ``since`` (less :data:`CLOCK_MARGIN`); None if none."""
    bound = since - CLOCK_MARGIN
    newest: datetime | None = None
    oldest: datetime | None = None
    trust_order = True   # until the list shows otherwise
    descending = False   # the list has shown it: a resource older than an earlier one by more than the margin
    async for item in await listing.stream_async(page_size=PAGE_SIZE):
        if match(item):
            return item
        created = getattr(item, "date_created", None)
        if created is None:
            continue
        if oldest is not None and created > oldest + CLOCK_MARGIN and trust_order:
            trust_order = False
            log.warning("list_not_newest_first", list=type(listing).__name__,
                        note="reading the whole list to look for an earlier attempt's resource")
        newest = created if newest is None else max(newest, created)
        oldest = created if oldest is None else min(oldest, created)
        descending = descending or newest - created > CLOCK_MARGIN
        if trust_order and descending and created < bound:
            return None
    return None
