"""The dashboard's charts and tiles: which snapshot figures each shows, and how days become weeks or months.

One definition feeds the chart, its CSV and the tests, so the CSV is exactly the data behind the chart.

How a period (a week or a month) sums up its days depends on the figure:
- `sum`: things that happened (sign-ups, entries, tokens, money in and out) add up.
- `last`: states (weekly and monthly active people, balances, workspaces) are the value on the period's
  last day that has a snapshot.
- `mean`: daily active people is the average over the period's days, rounded to a whole person.
A day without a snapshot is a gap (None), not a zero; a period with no snapshot at all is a gap too.
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from apps.core.csv_safety import csv_text
from apps.core.money import micros_to_decimal_string

DAY, WEEK, MONTH = "day", "week", "month"
GRANULARITIES = (DAY, WEEK, MONTH)


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    rule: str = "sum"  # sum | last | mean
    money: bool = False
    value: Callable[[object], int] | None = None  # derived from the snapshot row; else the field `key`

    def of(self, row) -> int:
        return self.value(row) if self.value is not None else getattr(row, self.key)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: str  # line | bar
    series: tuple[Series, ...]
    note: str = ""
    stacked: bool = False

    @property
    def money(self) -> bool:
        return all(series.money for series in self.series)


def _margin(row) -> int:
    return row.ai_charged_micros - row.ai_cost_micros


MARGIN = Series("ai_margin_micros", "Margin", money=True, value=_margin)

CHARTS: tuple[Chart, ...] = (
    Chart(
        "active",
        "Active people",
        "line",
        (
            Series("dau", "Daily", rule="mean"),
            Series("wau", "Weekly (7 days)", rule="last"),
            Series("mau", "Monthly (30 days)", rule="last"),
        ),
        note="People who did something: signed in, logged, edited, paid.",
    ),
    Chart(
        "growth",
        "Sign-ups and invites",
        "bar",
        (
            Series("signups", "Sign-ups"),
            Series("invites_issued", "Invites issued"),
            Series("invites_redeemed", "Invites redeemed"),
        ),
    ),
    Chart(
        "work",
        "Entries and reports",
        "bar",
        (
            Series("entries_logged", "Entries logged"),
            Series("entries_improved", "Entries improved"),
            Series("reports_generated", "Reports generated"),
        ),
    ),
    Chart(
        "jobs",
        "AI jobs",
        "bar",
        (Series("ai_jobs_succeeded", "Succeeded"), Series("ai_jobs_failed", "Failed")),
        stacked=True,
    ),
    Chart(
        "tokens",
        "Tokens",
        "bar",
        (Series("tokens_in", "In (prompt)"), Series("tokens_out", "Out (completion)")),
        stacked=True,
    ),
    Chart(
        "margin",
        "AI charge, cost to us and margin",
        "line",
        (
            Series("ai_charged_micros", "Charged", money=True),
            Series("ai_cost_micros", "Cost to us", money=True),
            MARGIN,
        ),
        note="Cost to us uses the model costs set in the admin.",
    ),
    Chart(
        "money",
        "Top-ups and refunds",
        "bar",
        (
            Series("topup_revenue_micros", "Top-ups", money=True),
            Series("refund_micros", "Refunds", money=True),
        ),
    ),
    Chart(
        "reserve",
        "Reserve liability",
        "line",
        (
            Series("liability_micros", "Positive balances", rule="last", money=True),
            Series("negative_balance_micros", "Owed to us", rule="last", money=True),
        ),
        note="Balances at the end of each period.",
    ),
    Chart(
        "workspaces",
        "Workspaces",
        "line",
        (
            Series("workspaces_total", "All", rule="last"),
            Series("workspaces_quiet", "Gone quiet (no entry in 30 days)", rule="last"),
        ),
    ),
)
CHARTS_BY_KEY = {chart.key: chart for chart in CHARTS}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def periods(since: date, until: date, granularity: str) -> list[Period]:
    """The days, weeks (Monday to Sunday) or calendar months from `since` to `until`, cut at both ends."""
    result = []
    start = since
    while start <= until:
        if granularity == WEEK:
            end = start + timedelta(days=6 - start.weekday())
        elif granularity == MONTH:
            following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            end = following - timedelta(days=1)
        else:
            end = start
        end = min(end, until)
        result.append(Period(start, end))
        start = end + timedelta(days=1)
    return result


def _round_half_up(total: int, count: int) -> int:
    return (2 * total + count) // (2 * count)


def period_value(series: Series, rows: list) -> int | None:
    """One period's value from its days' snapshot rows (oldest first); None when it has none."""
    if not rows:
        return None
    if series.rule == "last" or len(rows) == 1:
        return series.of(rows[-1])
    total = sum(map(series.of, rows))
    return _round_half_up(total, len(rows)) if series.rule == "mean" else total


def rows_per_period(by_day: dict, spans: list[Period]) -> list[list]:
    """Each period's snapshot rows, oldest first (computed once per page and shared by its charts)."""
    grouped = []
    for period in spans:
        day, rows = period.start, []
        while day <= period.end:
            row = by_day.get(day)
            if row is not None:
                rows.append(row)
            day += timedelta(days=1)
        grouped.append(rows)
    return grouped


@dataclass(frozen=True)
class ChartData:
    chart: Chart
    periods: list[Period]
    values: dict[str, list[int | None]]  # series key -> one value per period

    def as_json(self) -> dict:
        """What metrics.js draws: labels, one dataset per series; money in integer micros."""
        return {
            "key": self.chart.key,
            "title": self.chart.title,
            "type": self.chart.kind,
            "stacked": self.chart.stacked,
            "money": self.chart.money,
            "labels": [period.start.isoformat() for period in self.periods],
            "ends": [period.end.isoformat() for period in self.periods],
            "datasets": [
                {"key": series.key, "label": series.label, "data": self.values[series.key]}
                for series in self.chart.series
            ],
        }


def chart_data(chart: Chart, grouped: list[list], spans: list[Period]) -> ChartData:
    """`grouped` is `rows_per_period(by_day, spans)`."""
    values = {series.key: [period_value(series, rows) for rows in grouped] for series in chart.series}
    return ChartData(chart=chart, periods=spans, values=values)


def _cell(series: Series, value: int | None):
    if value is None:
        return ""
    return micros_to_decimal_string(value) if series.money else value


def chart_csv_header(chart: Chart) -> list[str]:
    return ["period_start", "period_end"] + [
        f"{series.key.removesuffix('_micros')}_usd" if series.money else series.key for series in chart.series
    ]


def chart_csv_rows(data: ChartData) -> Iterable[list]:
    for index, period in enumerate(data.periods):
        yield [csv_text(period.start.isoformat()), csv_text(period.end.isoformat())] + [
            _cell(series, data.values[series.key][index]) for series in data.chart.series
        ]


def chart_csv(data: ChartData) -> str:
    """The chart's data as CSV: a header, one row per period; money as exact dollars, gaps empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_text(name) for name in chart_csv_header(data.chart)])
    writer.writerows(chart_csv_rows(data))
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------ tiles


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    series: Series
    good: str = "up"  # which way is good news: up | down
    hint: str = ""


TILES: tuple[Tile, ...] = (
    Tile("signups", "Sign-ups", Series("signups", "Sign-ups")),
    Tile("mau", "Monthly active", Series("mau", "Monthly active", rule="last"), hint="at the end"),
    Tile("dau", "Daily active", Series("dau", "Daily active", rule="mean"), hint="average"),
    Tile("entries", "Entries logged", Series("entries_logged", "Entries logged")),
    Tile("improved", "Entries improved", Series("entries_improved", "Entries improved")),
    Tile("reports", "Reports generated", Series("reports_generated", "Reports generated")),
    Tile("ai_failed", "AI jobs failed", Series("ai_jobs_failed", "AI jobs failed"), good="down"),
    Tile(
        "tokens",
        "Tokens in / out",
        Series("tokens", "Tokens", value=lambda row: row.tokens_in + row.tokens_out),
    ),
    Tile("charged", "AI charged", Series("ai_charged_micros", "AI charged", money=True)),
    Tile("cost", "AI cost to us", Series("ai_cost_micros", "AI cost to us", money=True), good="down"),
    Tile("margin", "AI margin", MARGIN),
    Tile("topups", "Top-up revenue", Series("topup_revenue_micros", "Top-ups", money=True)),
    Tile("refunds", "Refunds", Series("refund_micros", "Refunds", money=True), good="down"),
    Tile(
        "liability",
        "Reserve liability",
        Series("liability_micros", "Liability", rule="last", money=True),
        good="neutral",
        hint="at the end",
    ),
    Tile(
        "quiet",
        "Workspaces gone quiet",
        Series("workspaces_quiet", "Quiet", rule="last"),
        good="down",
        hint="no entry in 30 days",
    ),
)


@dataclass(frozen=True)
class TileValue:
    tile: Tile
    value: int | None
    previous: int | None

    @property
    def change_percent(self) -> int | None:
        """Whole percent change against the previous period, rounded half up; None without a base."""
        if self.value is None or not self.previous:
            return None
        difference = self.value - self.previous
        sign = -1 if difference * self.previous < 0 else 1
        return sign * _round_half_up(abs(difference) * 100, abs(self.previous))

    @property
    def trend(self) -> str:
        """good | bad | flat | new | none, for the tile's colour."""
        if self.value is None or self.previous is None:
            return "none"
        if self.previous == 0:
            return "flat" if self.value == 0 else "new"
        if self.value == self.previous or self.tile.good == "neutral":
            return "flat"
        up = self.value > self.previous
        return "good" if up == (self.tile.good == "up") else "bad"


def tile_values(by_day: dict, current: Period, previous: Period) -> list[TileValue]:
    now_rows = rows_per_period(by_day, [current])[0]
    before_rows = rows_per_period(by_day, [previous])[0]
    return [
        TileValue(tile, period_value(tile.series, now_rows), period_value(tile.series, before_rows))
        for tile in TILES
    ]
