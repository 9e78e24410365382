"""Work-log benchmark: the timeline and search with 10,000 entries in one workspace and 100,000 in others.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/afterresume .venv/bin/python bench/worklog.py
    .venv/bin/python bench/worklog.py                     # SQLite, in a temporary file
    .venv/bin/python bench/worklog.py --runs 50 --keep    # keep the bench database afterwards

The DATABASE_URL names the server only: the bench makes its own database (afterresume_bench_worklog on
PostgreSQL, a temporary file on SQLite), migrates it, fills it with bulk inserts, and drops it at the end.
Each page is asked for through Django's test client as the signed-in owner (server time: middleware, view,
queries and template), after two warm-up requests; the table shows the median and the SQL query count, and
the ratio to a baseline page in the same run (the bare app layout, `layouts/app.html`). The search rows
time the search selector directly.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "afterresume_bench_worklog"


def _words(text: str, sep: str | None = None) -> list[str]:
    return [word.strip() for word in text.split(sep)]


WORDS = {
    "verbs": _words(
        "Shipped Refactored Migrated Designed Reviewed Debugged Automated Documented Mentored Led Proposed "
        "Optimised Launched Rewrote Planned Measured"
    ),
    "things": _words(
        "billing service|checkout flow|search index|deploy pipeline|onboarding email|API gateway|"
        "data warehouse|mobile release|feature flag system|incident runbook|design system|pricing page|"
        "cache layer|auth service|reporting dashboard|job queue",
        "|",
    ),
    "details": _words(
        "kubernetes postgres latency throughput accessibility observability terraform graphql retention "
        "conversion compliance budget hiring roadmap customers stakeholders alerts migrations caching "
        "security reliability costs tests"
    ),
}
EMPLOYERS = _words("Acme Globex Initech Umbrella Hooli")
SKILLS = _words(
    "Python Django PostgreSQL Kubernetes Terraform React TypeScript Go Leadership Mentoring SQL AWS Docker "
    "GraphQL Redis Communication"
)
TAGS = _words("launch incident process hiring cost customer security quality")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page (median reported)")
    parser.add_argument("--entries", type=int, default=10_000, help="entries in the measured workspace")
    parser.add_argument("--others", type=int, default=100_000, help="entries across the other workspaces")
    parser.add_argument("--workspaces", type=int, default=10, help="how many other workspaces")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    return parser.parse_args()


# ------------------------------------------------------------------------------------------ database


def prepare_database(url: str) -> tuple[str, callable]:
    """The URL of a fresh bench database and a function that removes it."""
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{BENCH_DB}"')

        def drop() -> None:
            with psycopg.connect(admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')

        return urlunsplit(parts._replace(path=f"/{BENCH_DB}")), drop
    folder = tempfile.mkdtemp(prefix="afterresume-bench-")
    path = Path(folder) / "bench.sqlite3"

    def remove() -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        Path(folder).rmdir()

    return f"sqlite:///{path}", remove


def setup_django(database_url: str, media: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "afterresume.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # DEBUG off as in production, 'testserver' allowed, email kept in memory


# -------------------------------------------------------------------------------------------- data


def fill_workspace(tenant, author, count: int, rng: random.Random) -> None:
    from apps.worklog.models import Employer, Entry, Project, Skill, Tag
    from apps.worklog.skills import skill_normalise

    employers = Employer.objects.bulk_create([Employer(tenant=tenant, name=name) for name in EMPLOYERS])
    projects = Project.objects.bulk_create(
        [
            Project(tenant=tenant, name=name.title(), employer=rng.choice(employers))
            for name in WORDS["things"]
        ],
    )
    skills = Skill.objects.bulk_create(
        [Skill(tenant=tenant, name=skill_normalise(n)[0], key=skill_normalise(n)[1]) for n in SKILLS]
    )
    tags = Tag.objects.bulk_create([Tag(tenant=tenant, name=name) for name in TAGS])
    start = datetime.now(UTC).date() - timedelta(days=8 * 365)
    batch = 5_000
    for offset in range(0, count, batch):
        entries = []
        for _ in range(min(batch, count - offset)):
            verb, thing = rng.choice(WORDS["verbs"]), rng.choice(WORDS["things"])
            details = rng.sample(WORDS["details"], 6)
            project = rng.choice(projects)
            entries.append(
                Entry(
                    tenant=tenant,
                    author=author,
                    occurred_on=start + timedelta(days=rng.randrange(8 * 365)),
                    title=f"{verb} the {thing} ({details[0]})",
                    body=(
                        f"Worked on {details[1]} and {details[2]} for the {thing}. "
                        f"Paired with the team on {details[3]}; wrote notes about {details[4]}."
                    ),
                    impact=f"Better {details[5]} for the {thing}.",
                    employer=project.employer,
                    project=project,
                    outcome_pending=rng.random() < 0.02,
                    follow_up_on=start + timedelta(days=rng.randrange(9 * 365)),
                )
            )
        Entry.objects.bulk_create(entries, batch_size=1_000)
        SkillLink, TagLink = Entry.skills.through, Entry.tags.through
        SkillLink.objects.bulk_create(
            [SkillLink(entry_id=e.pk, skill_id=s.pk) for e in entries for s in rng.sample(skills, 2)],
            batch_size=5_000,
        )
        TagLink.objects.bulk_create(
            [TagLink(entry_id=e.pk, tag_id=rng.choice(tags).pk) for e in entries], batch_size=5_000
        )


def fill(args) -> tuple:
    from django.db import connection

    from apps.accounts.models import Membership, Tenant, User

    rng = random.Random(20_240_314)
    owner = User.objects.create_user(email="bench@example.com", password=None, name="Bench Person")
    tenant = Tenant.objects.create(name="Bench workspace", slug="bench")
    Membership.objects.create(user=owner, tenant=tenant, role=Membership.Role.OWNER)
    started = time.perf_counter()
    fill_workspace(tenant, owner, args.entries, rng)
    per_workspace = args.others // max(1, args.workspaces)
    for n in range(args.workspaces):
        other = Tenant.objects.create(name=f"Other workspace {n}", slug=f"other-{n}")
        person = User.objects.create_user(email=f"other{n}@example.com", password=None)
        Membership.objects.create(user=person, tenant=other, role=Membership.Role.OWNER)
        fill_workspace(other, person, per_workspace, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return owner, tenant, time.perf_counter() - started


# ------------------------------------------------------------------------------------------ timing


def baseline_view(request):
    from django.shortcuts import render

    return render(request, "layouts/app.html")


def install_baseline_url() -> str:
    """The project's URLs plus one bare page rendering the app layout, as the yardstick."""
    from django.conf import settings
    from django.urls import clear_url_caches, include, path

    urlconf = ModuleType("bench_worklog_urls")
    urlconf.urlpatterns = [path("__bench__/layout/", baseline_view), path("", include("afterresume.urls"))]
    settings.ROOT_URLCONF = urlconf
    clear_url_caches()
    return "/__bench__/layout/"


def time_request(client, url: str, runs: int, headers: dict) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        client.get(url, headers=headers)
    timings, queries, status = [], 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
        queries, status = len(captured), response.status_code
    return statistics.median(timings), queries, status


def raw_search(text: str, tenant_id: int | None) -> list:
    from django.db import connection

    query = " & ".join(f"{word}:*" for word in text.split())
    where = "AND e.tenant_id = %s" if tenant_id else ""
    params = [query, *([tenant_id] if tenant_id else [])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT e.id FROM worklog_entry e, to_tsquery('english', %s) q
            WHERE e.search_document @@ q AND e.deleted_at IS NULL {where}
            ORDER BY ts_rank(e.search_document, q) DESC, e.occurred_on DESC, e.id DESC LIMIT 31
            """,
            params,
        )
        return cursor.fetchall()


def time_call(function, runs: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        function()
    timings, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            function()
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    return statistics.median(timings), queries


def measure(args, owner, tenant) -> list[tuple]:
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from apps.worklog import selectors
    from apps.worklog.models import Entry
    from apps.worklog.search import search_filter

    # A failing page is reported with its status in the table instead of stopping the run.
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    baseline = install_baseline_url()
    try:
        timeline = reverse("worklog_timeline")
    except NoReverseMatch:
        timeline = None

    rows = []
    base_ms, base_queries, base_status = time_request(client, baseline, args.runs, {})
    rows.append(("baseline: bare app layout", baseline, base_ms, base_queries, base_status))
    if timeline is None:
        rows.append(("timeline", "(no URL named worklog_timeline yet)", None, None, None))
    else:
        htmx = {"HX-Request": "true"}
        pages = [
            ("timeline, first page", {}, {}),
            ("timeline, filtered by employer and skill", {"employer": "Acme", "skill": "python"}, {}),
            (
                "timeline, date range and tag",
                {"since": "2021-01-01", "until": "2022-12-31", "tag": "launch"},
                {},
            ),
            ("search page, one word", {"q": "kubernetes"}, {}),
            ("search page, two words + employer", {"q": "billing latency", "employer": "Globex"}, {}),
            ("search as you type (htmx fragment)", {"q": "migra"}, htmx),
        ]
        for label, query, headers in pages:
            url = f"{timeline}?{urlencode(query)}" if query else timeline
            ms, queries, status = time_request(client, url, args.runs, headers)
            rows.append((label, url, ms, queries, status))

    searches = [
        (f"search selector, workspace ({args.entries:,} entries)", lambda: selectors.entry_page(
            tenant=tenant, filters=selectors.EntryFilters(q="kubernetes latency"))),
        ("search selector, all entries, rare words", lambda: list(search_filter(
            Entry.objects.filter(deleted_at__isnull=True), "terraform retention hiring")[:30])),
        ("search selector, all entries, common word", lambda: list(search_filter(
            Entry.objects.filter(deleted_at__isnull=True), "billing")[:30])),
    ]  # fmt: skip
    if connection.vendor == "postgresql":
        # The core of the search without the ORM: the GIN index, the ranking and the first page.
        searches += [
            ("full-text SQL, all entries, two words", lambda: raw_search("kubernetes latency", None)),
            ("full-text SQL, all entries, common word", lambda: raw_search("billing", None)),
            ("full-text SQL, workspace, two words", lambda: raw_search("kubernetes latency", tenant.pk)),
        ]
    for label, function in searches:
        try:
            ms, queries = time_call(function, args.runs)
        except Exception as exc:
            connection.close()  # a failed query leaves nothing usable behind on PostgreSQL
            rows.append((label, f"failed: {type(exc).__name__}: {exc}", None, None, "error"))
            continue
        rows.append((label, f"({connection.vendor})", ms, queries, None))
    return rows


def print_table(rows, base_ms: float, args, vendor: str, fill_seconds: float, total: int) -> None:
    print()
    print(f"AfterResume work-log benchmark on {vendor}: {args.entries:,} entries in the measured workspace, "
          f"{total:,} in all; median of {args.runs} runs")  # fmt: skip
    print(f"(filled in {fill_seconds:.1f} s)")
    print()
    header = f"{'what':<44} {'median ms':>10} {'queries':>8} {'x baseline':>11} {'status':>7}"
    print(header)
    print("-" * len(header))
    for label, _url, ms, queries, status in rows:
        if ms is None:
            print(f"{label:<44} {'—':>10} {'—':>8} {'—':>11} {status or '—':>7}  {_url}")
            continue
        ratio = f"{ms / base_ms:.2f}" if base_ms else "—"
        print(f"{label:<44} {ms:>10.1f} {queries:>8} {ratio:>11} {status or '':>7}")
    if any(status not in (None, 200) for *_, status in rows):
        print("\nRows whose status is not 200 failed; their times are not measurements of the page.")
    print()
    for label, url, *_ in rows:
        if url.startswith("/"):
            print(f"  {label}: {url}")


def main() -> int:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "sqlite:///")
    bench_url, cleanup = prepare_database(url)
    media = tempfile.mkdtemp(prefix="afterresume-bench-media-")
    try:
        setup_django(bench_url, media)
        from django.core.management import call_command
        from django.db import connection, connections

        call_command("migrate", verbosity=0, interactive=False)
        owner, tenant, fill_seconds = fill(args)
        from apps.worklog.models import Entry

        total = Entry.objects.count()
        rows = measure(args, owner, tenant)
        print_table(rows, rows[0][2], args, connection.vendor, fill_seconds, total)
        bad = [row for row in rows if row[4] not in (None, 200)]
        connections.close_all()
        return 1 if bad else 0
    finally:
        if args.keep:
            print(f"kept the bench database: {bench_url}")
        else:
            try:
                from django.db import connections

                connections.close_all()
            except ImportError:
                pass
            cleanup()
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
