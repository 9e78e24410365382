"""The time zones a person can choose: the canonical IANA names, grouped by region, with aliases resolved.

`zoneinfo.available_timezones()` lists about 600 names, many of them old aliases ("US/Pacific",
"Asia/Calcutta", "Etc/GMT+5"). People choose from the zones of the tz database's `zone.tab` (one per
populated area, e.g. "Europe/Amsterdam"), plus UTC. Whatever else they (or their browser) send is resolved
to one of those: an alias through the database's links ("Asia/Calcutta" -> "Asia/Kolkata"), a name typed
loosely ("europe/berlin", "New York") to the zone it names. The data comes from the system's tz database
(the directories zoneinfo searches) or the `tzdata` package; without `zone.tab`, the region-prefixed
names zoneinfo knows are offered instead.
"""

import functools
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

UTC_NAME = "UTC"
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
# Names that mean UTC under another spelling.
UTC_ALIASES = {"etc/utc", "etc/uct", "etc/universal", "etc/zulu", "etc/gmt", "etc/gmt0", "etc/gmt+0",
               "etc/gmt-0", "etc/greenwich", "gmt", "gmt0", "gmt+0", "gmt-0", "greenwich", "uct",
               "universal", "zulu", "utc"}  # fmt: skip


@dataclass(frozen=True)
class Zone:
    name: str  # "America/Argentina/Buenos_Aires"
    region: str  # "America"
    city: str  # "Argentina / Buenos Aires"
    country: str  # "Argentina", "" when unknown
    comment: str  # zone.tab's note, e.g. "Eastern (most areas)"

    @property
    def label(self) -> str:
        """What a list shows beside the name: the country and the note."""
        return " — ".join(part for part in (self.country, self.comment) if part)


def _data_file(name: str) -> str | None:
    """The text of a tz database file, from the system's zoneinfo directories or the tzdata package."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / name
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")
    try:
        from importlib.resources import files

        resource = files("tzdata.zoneinfo").joinpath(name)
        if resource.is_file():
            return resource.read_text(encoding="utf-8", errors="replace")
    except (ImportError, ModuleNotFoundError, FileNotFoundError):
        return None
    return None


def _rows(text: str | None) -> list[list[str]]:
    if not text:
        return []
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _city(name: str) -> str:
    return " / ".join(part.replace("_", " ") for part in name.split("/")[1:])


@functools.cache
def _catalogue() -> tuple[dict[str, Zone], dict[str, str]]:
    """(zones by name, lower-cased alias -> canonical name)."""
    available = zoneinfo.available_timezones()
    countries = {row[0]: row[1] for row in _rows(_data_file("iso3166.tab")) if len(row) >= 2}
    zones: dict[str, Zone] = {}
    for row in _rows(_data_file("zone.tab")):
        if len(row) < 3 or row[2] not in available:
            continue
        name = row[2]
        zones[name] = Zone(
            name=name,
            region=name.split("/")[0],
            city=_city(name),
            country=countries.get(row[0], ""),
            comment=row[3].strip() if len(row) > 3 else "",
        )
    if not zones:
        for name in available:
            if name.split("/")[0] in REGIONS and "/" in name:
                region = name.split("/")[0]
                zones[name] = Zone(name=name, region=region, city=_city(name), country="", comment="")
    zones[UTC_NAME] = Zone(
        name=UTC_NAME, region=UTC_NAME, city="", country="", comment="Coordinated Universal Time"
    )

    aliases: dict[str, str] = dict.fromkeys(UTC_ALIASES, UTC_NAME)
    links: dict[str, str] = {}
    for line in (_data_file("tzdata.zi") or "").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L":
            links[parts[2]] = parts[1]
    for alias, target in links.items():
        for _hop in range(5):  # a link to a link
            if target in zones or target not in links:
                break
            target = links[target]
        if target in zones and alias not in zones:
            aliases.setdefault(alias.lower(), target)
    return zones, aliases


def time_zone_names() -> list[str]:
    """Every zone a person can choose, UTC first, then by name."""
    zones, _aliases = _catalogue()
    return [UTC_NAME, *sorted(name for name in zones if name != UTC_NAME)]


def time_zone_choices() -> list[tuple[str, str]]:
    """(name, name) pairs for a model or form field's choices."""
    return [(name, name) for name in time_zone_names()]


def time_zone_groups() -> list[tuple[str, list[Zone]]]:
    """The zones grouped by region (UTC on its own first), each group sorted by name."""
    zones, _aliases = _catalogue()
    groups: dict[str, list[Zone]] = {}
    for name in time_zone_names():
        zone = zones[name]
        groups.setdefault(zone.region, []).append(zone)
    return list(groups.items())


def time_zone_aliases() -> dict[str, str]:
    """Alias -> canonical name (lower-case keys), for a browser's zone that is an old name."""
    _zones, aliases = _catalogue()
    return dict(aliases)


def time_zone_resolve(value: str) -> str | None:
    """The canonical zone `value` names, or None when it names none.

    Accepts the canonical name in any case, an alias ("US/Eastern", "Asia/Calcutta"), spaces for
    underscores ("America/New York"), and a city alone when only one zone has it ("berlin").
    """
    text = " ".join((value or "").split())
    if not text or len(text) > 64:
        return None
    zones, aliases = _catalogue()
    if text in zones:
        return text
    key = text.replace(" ", "_").lower()
    by_lower = {name.lower(): name for name in zones}
    if key in by_lower:
        return by_lower[key]
    if key in aliases:
        return aliases[key]
    if "/" not in key:
        matches = [name for name in zones if name.lower().rsplit("/", 1)[-1] == key]
        if len(matches) == 1:
            return matches[0]
        alias_matches = {target for alias, target in aliases.items() if alias.rsplit("/", 1)[-1] == key}
        if len(alias_matches) == 1:
            return alias_matches.pop()
    return None


def user_zone(user) -> zoneinfo.ZoneInfo | None:
    """The person's own time zone from their profile; None when they have none or it is not a known zone."""
    name = getattr(user, "time_zone", "") or ""
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
