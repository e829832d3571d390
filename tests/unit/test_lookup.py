"""A retry's bounded search (activities/lookup.py): newest first it stops at the first resource
older than the bound; a list that turns out not to be newest first is read to its end instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from activities.lookup import CLOCK_MARGIN, find_recent

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


@dataclass
class Resource:
    sid: str
    date_created: datetime


class Listing:
    """A list in the shape of twilio-python's (``await stream_async(page_size=...)``): counts what is read."""

    def __init__(self, items: list[Resource]) -> None:
        self.items, self.read = items, 0

    async def stream_async(self, page_size: int | None = None):
        async def gen():
            for item in self.items:
                self.read += 1
                yield item
        return gen()


def aged(sid: str, minutes_ago: float) -> Resource:
    return Resource(sid, NOW - timedelta(minutes=minutes_ago))


@pytest.mark.asyncio
async def test_newest_first_stops_at_the_first_resource_older_than_the_bound():
    listing = Listing([aged("new", 1), aged("mine", 2)] + [aged(f"old{i}", 60 + i) for i in range(10_000)])
    assert (await find_recent(listing, NOW - timedelta(minutes=5), lambda r: r.sid == "mine")).sid == "mine"
    missing = await find_recent(listing, NOW - timedelta(minutes=5), lambda r: r.sid == "absent")
    assert missing is None and listing.read == 2 + 2 + 1  # found at 2; absent: stopped at the first old one


@pytest.mark.asyncio
async def test_a_list_that_is_not_newest_first_is_read_to_the_end():
    oldest_first = [aged(f"old{i}", 600 - i) for i in range(100)] + [aged("mine", 1)]
    listing = Listing(oldest_first)
    found = await find_recent(listing, NOW - timedelta(minutes=5), lambda r: r.sid == "mine")
    assert found is not None and found.sid == "mine"


@pytest.mark.asyncio
async def test_resources_within_the_margin_of_the_bound_are_still_looked_at():
    listing = Listing([aged("new", 1), aged("skewed", 5 + CLOCK_MARGIN.total_seconds() / 60 - 1)])
    found = await find_recent(listing, NOW - timedelta(minutes=5), lambda r: r.sid == "skewed")
    assert found is not None
