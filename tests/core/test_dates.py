from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from apps.core.dates import day_after, day_range, day_start

TOKYO = ZoneInfo("Asia/Tokyo")
HONOLULU = ZoneInfo("Pacific/Honolulu")


def test_it_gives_the_days_of_a_zone_as_utc_instants():
    start, end = day_range(date(2025, 3, 1), date(2025, 3, 31), TOKYO)
    assert start == datetime(2025, 2, 28, 15, tzinfo=UTC)
    assert end == datetime(2025, 3, 31, 15, tzinfo=UTC)


@pytest.mark.parametrize("zone", [TOKYO, HONOLULU, UTC])
def test_it_leaves_the_range_open_at_the_ends_of_the_calendar(zone):
    assert day_start(date(1, 1, 1), zone) is None
    assert day_after(date(9999, 12, 31), zone) is None
    assert day_range(date(1, 1, 1), date(9999, 12, 31), zone) == (None, None)
    assert day_start(date(1, 1, 3), zone) is not None
    assert day_after(date(9999, 12, 29), zone) is not None
