"""Limits and small helpers shared by the work-log services."""

import re
import zoneinfo
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

TITLE_MAX = 200
BODY_MAX = 20_000
IMPACT_MAX = 5_000
NAME_MAX = 120
TAG_MAX = 50
METRIC_UNIT_MAX = 30
# Up to 11 digits before the point and 4 after: 15 significant digits, which every database keeps exactly
# (SQLite stores decimals as doubles, so the column's 18 digits would not read back).
METRIC_INTEGER_DIGITS = 11
METRIC_LIMIT = Decimal(10) ** METRIC_INTEGER_DIGITS
SKILLS_PER_ENTRY = 30
TAGS_PER_ENTRY = 30
FILES_PER_UPLOAD = 20
EVIDENCE_PER_ENTRY = 50
LINK_MAX = 2000
EARLIEST_DATE = date(1950, 1, 1)
FUTURE_SLACK = timedelta(days=366)  # how far ahead a follow-up may be
LOG_AHEAD_SLACK = timedelta(days=1)  # work is logged once done: today, or tomorrow across a date line
PURGE_AFTER = timedelta(days=30)

_SPACES = re.compile(r"\s+")
_UNSET: Any = object()


def _clean_name(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip()


def split_names(value: str | Iterable[str] | None) -> list[str]:
    """Names from a comma-separated string or a list, trimmed, without blanks, in order."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [cleaned for item in items if (cleaned := _clean_name(str(item)))]


def _today_for(author) -> date:
    zone_name = getattr(author, "time_zone", "") or ""
    if zone_name:
        try:
            return timezone.localdate(timezone=zoneinfo.ZoneInfo(zone_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.localdate()
