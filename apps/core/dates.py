"""Whole days as instants, safe at the ends of the calendar.

A filter "from `since` to `until`" in a person's time zone becomes the half-open range [start, end) of
aware datetimes. Near 0001-01-01 or 9999-12-31 the arithmetic (`until + 1 day`, converting to UTC) would
overflow, so there the range is simply left open: nothing is earlier or later than what can be stored.
"""

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.utils import timezone

# A day this close to an end of the calendar, in any time zone, may not survive a conversion to UTC.
_EDGE = timedelta(days=2)


def day_start(day: date, zone: tzinfo | None = None) -> datetime | None:
    """The first instant of `day` in `zone` (the current time zone by default); None near date.min."""
    if day - date.min < _EDGE:
        return None
    return datetime.combine(day, time.min, tzinfo=zone or timezone.get_current_timezone()).astimezone(UTC)


def day_after(day: date, zone: tzinfo | None = None) -> datetime | None:
    """The first instant after `day` in `zone`; None near date.max (nothing later can be stored)."""
    if date.max - day < _EDGE:
        return None
    following = day + timedelta(days=1)
    start = day_start(following, zone)
    if start is None:
        # Near date.min day_start leaves a range open below, but an end must still close it ("until
        # 0001-01-01" is almost nothing, not everything). The day after date.min converts in any zone.
        start = datetime.combine(following, time.min, tzinfo=zone or timezone.get_current_timezone())
        start = start.astimezone(UTC)
    return start


def day_range(
    since: date | None, until: date | None, zone: tzinfo | None = None
) -> tuple[datetime | None, datetime | None]:
    """[start, end) for the whole days `since`..`until` (inclusive); None means unbounded on that side."""
    return (
        day_start(since, zone) if since else None,
        day_after(until, zone) if until else None,
    )
