"""Skill counters: `Skill.entry_count` (live entries with the skill) and `Skill.last_used_on` (the latest date
among them), kept in step by every service that changes which live entries a skill has, or their dates, so
the skills page and the API read them instead of counting the log.

Each change is given as the (skill id, entry date) pairs a skill gains and loses: a new or restored entry
gains its skills at its date, a deleted one loses them; an edit loses the removed skills and gains the added
ones, and a date change loses the kept skills at the old date and gains them at the new one. Then, in the
caller's transaction and after the links themselves were written:

- the skills' rows are locked in id order (`SELECT ... FOR UPDATE`), so two writers never wait on each
  other in a cycle and each sees the other's committed counts;
- each count moves by its difference, and `last_used_on` moves up to the latest date gained;
- a skill that lost an entry dated on (or after) its `last_used_on`, and gained nothing as recent, reads its
  latest date again from its own links: the only read of entries here, bounded by that one skill.

Each skill's live entries are also counted per calendar month (`SkillMonth`, one row per skill and month
it was used in), moved by the same pairs in one upsert, so the dashboard's top skills of the last months add
up a few rows per skill and never read the entries.

A merge recounts its target exactly (`skill_counts_refresh`). `skill_counts_check` compares every counter
with a recount (`python manage.py worklog_recount`, and the property test in tests/worklog).
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction
from django.db.models import Count, IntegerField, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from apps.worklog.models import Entry, Skill, SkillMonth

SkillDates = Iterable[tuple[int, date]]


def entry_skill_ids(entry_id: int) -> list[int]:
    """The ids of the skills linked to an entry (one query on the link table)."""
    return list(Entry.skills.through.objects.filter(entry_id=entry_id).values_list("skill_id", flat=True))


@transaction.atomic(savepoint=False)
def skill_counts_move(*, gained: SkillDates = (), lost: SkillDates = ()) -> None:
    """Apply what a change did to skills' live entries: `gained` and `lost` are (skill id, entry date), one
    pair per live entry a skill gained or lost. Call inside the transaction, after writing the links."""
    delta: Counter[int] = Counter()
    newest: dict[int, date] = {}
    lost_latest: dict[int, date] = {}
    for skill_id, day in gained:
        delta[skill_id] += 1
        newest[skill_id] = max(newest.get(skill_id, day), day)
    for skill_id, day in lost:
        delta[skill_id] -= 1
        lost_latest[skill_id] = max(lost_latest.get(skill_id, day), day)
    ids = sorted(set(newest) | set(lost_latest))
    if not ids:
        return
    locked = (
        Skill.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", "last_used_on", "tenant_id")
    )
    current, tenants = {}, {}
    for skill_id, last, tenant_id in locked:
        current[skill_id], tenants[skill_id] = last, tenant_id
    _months_move(gained, lost, tenants)
    plain: dict[tuple[int, date | None], list[int]] = {}
    reread: dict[int, list[int]] = {}
    for skill_id in ids:
        if skill_id not in current:
            continue  # merged away meanwhile: nothing left to count
        last, gained_day, lost_day = current[skill_id], newest.get(skill_id), lost_latest.get(skill_id)
        might_drop = lost_day is not None and last is not None and lost_day >= last
        if might_drop and (gained_day is None or gained_day < lost_day):
            reread.setdefault(delta[skill_id], []).append(skill_id)
            continue
        new_last = last if gained_day is None else max(last or gained_day, gained_day)
        plain.setdefault((delta[skill_id], new_last), []).append(skill_id)
    for (difference, new_last), skill_ids in plain.items():
        if difference == 0 and all(current[pk] == new_last for pk in skill_ids):
            continue
        Skill.objects.filter(pk__in=skill_ids).update(entry_count=_moved(difference), last_used_on=new_last)
    for difference, skill_ids in reread.items():
        Skill.objects.filter(pk__in=skill_ids).update(
            entry_count=_moved(difference), last_used_on=Subquery(_latest_live_date())
        )


def _month_of(day: date) -> date:
    return day.replace(day=1)


_MONTHS_UPSERT = """
INSERT INTO worklog_skillmonth (tenant_id, skill_id, month, entry_count, created_at, updated_at)
VALUES {values}
ON CONFLICT (skill_id, month) DO UPDATE
SET entry_count = worklog_skillmonth.entry_count + excluded.entry_count, updated_at = excluded.updated_at
"""


def _months_move(gained: SkillDates, lost: SkillDates, tenants: dict[int, int]) -> None:
    """Add each (skill, month) difference to its SkillMonth row, creating it: one upsert statement."""
    delta: Counter[tuple[int, date]] = Counter()
    for skill_id, day in gained:
        delta[skill_id, _month_of(day)] += 1
    for skill_id, day in lost:
        delta[skill_id, _month_of(day)] -= 1
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (tenants[skill_id], skill_id, connection.ops.adapt_datefield_value(month), difference, now, now)
        for (skill_id, month), difference in sorted(delta.items())
        if difference and skill_id in tenants
    ]
    if not rows:
        return
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = _MONTHS_UPSERT.format(values=values)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])


def _months_counted(skill_ids: list[int]) -> dict[tuple[int, date], int]:
    """{(skill id, month): live entries} from the links: what the SkillMonth rows must hold."""
    counted = (
        Entry.skills.through.objects.filter(skill_id__in=skill_ids, entry__deleted_at__isnull=True)
        .annotate(month=TruncMonth("entry__occurred_on"))
        .order_by()
        .values_list("skill_id", "month")
        .annotate(n=Count("entry_id"))
    )
    return {(skill_id, month): n for skill_id, month, n in counted}


def _months_stored(skill_ids: list[int]) -> dict[tuple[int, date], int]:
    stored = SkillMonth.objects.filter(skill_id__in=skill_ids).exclude(entry_count=0)
    return {
        (skill_id, month): n for skill_id, month, n in stored.values_list("skill_id", "month", "entry_count")
    }


def _moved(difference: int):
    from django.db.models import F

    return F("entry_count") + difference if difference else F("entry_count")


def _live_links():
    return Entry.skills.through.objects.filter(skill_id=OuterRef("pk"), entry__deleted_at__isnull=True)


def _latest_live_date():
    return (
        _live_links()
        .order_by()
        .values("skill_id")
        .annotate(latest=Max("entry__occurred_on"))
        .values("latest")
    )


def _live_count():
    counted = _live_links().order_by().values("skill_id").annotate(n=Count("entry_id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@transaction.atomic(savepoint=False)
def skill_counts_refresh(*, tenant=None, skill_ids: Iterable[int] | None = None) -> int:
    """Recount skills exactly from their links: the given ones, or every skill of `tenant`. Locks them first
    (id order) so a concurrent writer's move is neither lost nor counted twice. Returns how many."""
    queryset = Skill.objects.all()
    if tenant is not None:
        queryset = queryset.filter(tenant=tenant)
    if skill_ids is not None:
        queryset = queryset.filter(pk__in=list(skill_ids))
    locked = dict(queryset.order_by("pk").select_for_update(no_key=True).values_list("pk", "tenant_id"))
    ids = list(locked)
    if ids:
        Skill.objects.filter(pk__in=ids).update(
            entry_count=_live_count(), last_used_on=Subquery(_latest_live_date())
        )
        SkillMonth.objects.filter(skill_id__in=ids).delete()
        SkillMonth.objects.bulk_create(
            SkillMonth(tenant_id=locked[skill_id], skill_id=skill_id, month=month, entry_count=n)
            for (skill_id, month), n in _months_counted(ids).items()
        )
    return len(ids)


def skill_counts_check(*, tenant=None) -> list[dict]:
    """The skills whose counters differ from a recount: [{"id", "name", "stored", "counted", "months"}]
    (months: {month: (stored, counted)} where they differ), empty when every counter is right. Reads
    every link of the workspace: for checks, never for pages."""
    queryset = Skill.objects.all() if tenant is None else Skill.objects.filter(tenant=tenant)
    rows = queryset.annotate(counted_n=_live_count(), counted_last=Subquery(_latest_live_date())).values(
        "pk", "name", "entry_count", "last_used_on", "counted_n", "counted_last"
    )
    rows = list(rows.order_by("pk"))
    ids = [row["pk"] for row in rows]
    months_stored, months_counted = _months_stored(ids), _months_counted(ids)
    months_wrong: dict[int, dict] = {}
    for key in months_stored.keys() | months_counted.keys():
        stored_n, counted_n = months_stored.get(key, 0), months_counted.get(key, 0)
        if stored_n != counted_n:
            months_wrong.setdefault(key[0], {})[key[1]] = (stored_n, counted_n)
    wrong = []
    for row in rows:
        stored, counted = (row["entry_count"], row["last_used_on"]), (row["counted_n"], row["counted_last"])
        months = months_wrong.get(row["pk"], {})
        if stored != counted or months:
            wrong.append(
                {"id": row["pk"], "name": row["name"], "stored": stored, "counted": counted, "months": months}
            )
    return wrong
