"""Reports benchmark: a brag document over 1,000 and 10,000 entries, with the builtin writer and with a
model on an OpenAI-compatible server on loopback, and a 10-page PDF export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reports.py
    .venv/bin/python bench/reports.py --sizes 1000 --runs 1     # SQLite, in a temporary file

The DATABASE_URL names the server only: the bench makes its own database (afterresume_h7_bench_reports on
PostgreSQL, a temporary file on SQLite), migrates it, fills each workspace with bulk inserts and drops it at
the end. Django runs with DEBUG off. Each report is written through `report_create` with the job run inline
(django-q2's sync mode): entries selected and streamed, the report written, every bullet's citations and
claims checked, and version 1 saved. Time is the median of --runs; peak memory is measured in a separate run
with tracemalloc (Python allocations). The model server answers each request by citing the entries named in
its prompt, so the map-then-reduce path runs as it would against a real model (the server's own time is
included; it is small). Goals: builtin over 10,000 entries under 3 s; the PDF under 2 s; peak memory flat in
the number of entries beyond one group.
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import _common  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "afterresume_h7_bench_reports"

VERBS = [
    "Shipped",
    "Refactored",
    "Migrated",
    "Designed",
    "Reviewed",
    "Debugged",
    "Automated",
    "Documented",
    "Mentored",
    "Led",
    "Launched",
]
THINGS = [
    "billing service",
    "checkout flow",
    "search index",
    "deploy pipeline",
    "onboarding email",
    "API gateway",
    "data warehouse",
    "mobile release",
    "feature flag system",
    "incident runbook",
    "design system",
    "pricing page",
    "cache layer",
    "auth service",
]
DETAILS = [
    "latency",
    "throughput",
    "accessibility",
    "observability",
    "retention",
    "conversion",
    "compliance",
    "reliability",
    "costs",
]
EMPLOYERS = ["Acme", "Globex", "Initech", "Umbrella"]
SKILLS = ["Python", "PostgreSQL", "Kubernetes", "Terraform", "React", "Go", "Mentoring", "SQL", "AWS"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="entry counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per row (median reported)")
    parser.add_argument("--pdf-pages", type=int, default=10, help="pages of the PDF export")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    return parser.parse_args()


# ------------------------------------------------------------------------------------------ database


def prepare_database(url: str):
    return _common.prepare_database(url, BENCH_DB)


def setup_django(database_url: str, media: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "afterresume.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment(debug=False)  # DEBUG off as in production, email kept in memory
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django_q.conf import Conf

    Conf.SYNC = True  # jobs run inline, through django-q2's real worker code
    from apps.billing import services as billing

    billing.rate_card_install_default()


def fill(count: int, rng: random.Random):
    """A workspace with `count` entries: four employers, 14 projects, metrics on a third, impact on most."""
    from apps.accounts.models import Membership, Tenant, User
    from apps.billing import services as billing
    from apps.worklog.models import Employer, Entry, Project, Skill
    from apps.worklog.skills import skill_normalise

    owner = User.objects.create_user(email=f"bench{count}@example.com", password=None, name="Bench Person")
    tenant = Tenant.objects.create(name=f"Bench {count}", slug=f"bench-{count}")
    Membership.objects.create(user=owner, tenant=tenant, role=Membership.Role.OWNER)
    billing.reserve_credit(tenant=tenant, amount_micros=1_000_000_000, idempotency_key="bench:fund")
    employers = Employer.objects.bulk_create([Employer(tenant=tenant, name=name) for name in EMPLOYERS])
    projects = Project.objects.bulk_create(
        [
            Project(tenant=tenant, name=name.title(), employer=employers[i % 4])
            for i, name in enumerate(THINGS)
        ]
    )
    skills = Skill.objects.bulk_create(
        [Skill(tenant=tenant, name=skill_normalise(n)[0], key=skill_normalise(n)[1]) for n in SKILLS]
    )
    start = datetime.now(UTC).date() - timedelta(days=6 * 365)
    entries = []
    for n in range(count):
        project = rng.choice(projects)
        thing, detail = project.name.lower(), rng.choice(DETAILS)
        measured = rng.random() < 0.35
        before = Decimal(rng.randrange(20, 400))
        entries.append(
            Entry(
                tenant=tenant,
                author=owner,
                occurred_on=start + timedelta(days=rng.randrange(6 * 365)),
                title=f"{rng.choice(VERBS)} the {thing} for {detail} #{n}",
                body=f"Worked with the team on the {thing}; measured {detail} before and after. " * 3,
                impact=f"Better {detail} for the {thing} customers." if rng.random() < 0.8 else "",
                employer_id=project.employer_id,
                project=project,
                metric_value=before / 2 if measured else None,
                metric_before=before if measured else None,
                metric_after=before / 2 if measured else None,
                metric_unit="ms" if measured else "",
                confidential=rng.random() < 0.02,
            )
        )
    Entry.objects.bulk_create(entries, batch_size=2_000)
    link = Entry.skills.through
    link.objects.bulk_create(
        [link(entry_id=e.pk, skill_id=s.pk) for e in entries for s in rng.sample(skills, 2)], batch_size=5_000
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return owner, tenant


# ------------------------------------------------------------------------------------ model server


class ModelServer:
    """An OpenAI-compatible /v1/chat/completions on loopback that answers by citing the prompt's entries."""

    def __init__(self):
        self.requests = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                prompt = "\n".join(message.get("content") or "" for message in body.get("messages", []))
                server.requests += 1
                answer = _answer(prompt)
                content = json.dumps(answer)
                payload = json.dumps(
                    {
                        "id": "bench",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "local-model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4,
                                  "total_tokens": (len(prompt) + len(content)) // 4},
                    }
                ).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def _answer(prompt: str) -> dict:
    """Eight bullets, each citing a few of the entries (or drafts) the prompt names."""
    ids = [int(pk) for pk in re.findall(r"\[E(\d+)\]|E(\d+)[,\]]", prompt) for pk in pk if pk]
    ids = list(dict.fromkeys(ids))
    step = max(1, len(ids) // 8)
    bullets = [
        {"text": "Shipped work on the project", "citations": ids[index : index + min(step, 3)]}
        for index in range(0, len(ids), step)
    ][:8]
    titles = re.findall(r'- "([^"]+)":', prompt) or ["Projects"]
    return {
        "sections": [{"title": title, "bullets": bullets if n == 0 else []} for n, title in enumerate(titles)]
    }


# -------------------------------------------------------------------------------------------- runs


def write_report(tenant, owner):
    from apps.reporting import services
    from apps.reporting.models import Report

    report = services.report_create(tenant=tenant, user=owner, kind="brag_document")
    report = Report.objects.get(pk=report.pk)
    assert report.status == Report.Status.READY, report.error
    return report


def measure(label: str, tenant, owner, runs: int) -> dict:
    timings = []
    report = write_report(tenant, owner)  # warm-up: imports, URL resolver, rate card, query plans
    cpu = []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        report = write_report(tenant, owner)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    tracemalloc.start()
    write_report(tenant, owner)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "label": label,
        "seconds": statistics.median(timings),
        "cpu": statistics.median(cpu),
        "peak_mb": peak / 1_000_000,
        "entries": len(report.selected_entry_ids),
        "prompt_tokens": report.prompt_tokens,
        "completion_tokens": report.completion_tokens,
        "cost_micros": report.cost_micros,
        "requests": report.job.progress_total if not report.drafted_without_ai else 0,
    }


def pdf_export(tenant, owner, pages: int, runs: int) -> dict:
    """A report of many bullets (from the entries' own words), made long enough for `pages` pages."""
    import io

    from pypdf import PdfReader

    from apps.reporting import services
    from apps.reporting.exports import export_build, outside_view
    from apps.reporting.sources import bullet_text
    from apps.worklog import selectors as worklog_selectors

    report = write_report(tenant, owner)
    rows = worklog_selectors.entry_report_rows(tenant=tenant, confidential=False)
    bullets_per_page = 11  # each bullet also lists its source: about 11 fit a page
    chosen = [next(rows) for _ in range(pages * bullets_per_page)]
    sections = services.current_sections(report)
    sections[0]["bullets"] = [{"text": bullet_text(row), "citations": [row["id"]]} for row in chosen]
    services.report_version_save(report=report, sections=sections, note="bench")
    count = len(PdfReader(io.BytesIO(export_build(outside_view(report), "pdf"))).pages)
    while count < pages:
        extra = [next(rows) for _ in range(4)]
        sections[0]["bullets"] += [{"text": bullet_text(row), "citations": [row["id"]]} for row in extra]
        services.report_version_save(report=report, sections=sections, note="bench")
        count = len(PdfReader(io.BytesIO(export_build(outside_view(report), "pdf"))).pages)
    timings, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        services.report_export(report=report, fmt="pdf", user=owner)  # build, then charge (once a version)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return {
        "pages": count,
        "bullets": len(sections[0]["bullets"]),
        "seconds": statistics.median(timings),
        "cpu": statistics.median(cpu),
    }


def main() -> None:
    args = parse_args()
    url, drop = prepare_database(os.environ.get("DATABASE_URL", "sqlite://"))
    media = tempfile.mkdtemp(prefix="afterresume-bench-media-")
    server = ModelServer()
    try:
        setup_django(url, media)
        from django.conf import settings
        from django.db import connection

        print(f"database: {connection.vendor} ({BENCH_DB if connection.vendor == 'postgresql' else url}); "
              f"DEBUG={settings.DEBUG}; context budget {settings.REPORT_CONTEXT_TOKENS} tokens, "
              f"{settings.REPORT_MAP_CHUNK_ENTRIES} entries a map request")  # fmt: skip
        rng = random.Random(20_241_201)
        results = []
        workspaces = {}
        for size in (int(value) for value in args.sizes.split(",")):
            started = time.perf_counter()
            workspaces[size] = fill(size, rng)
            print(f"filled {size:,} entries in {time.perf_counter() - started:.1f} s")
        for size, (owner, tenant) in workspaces.items():
            settings.LLM_PROVIDER = "builtin"
            results.append(measure(f"builtin, {size:,} entries", tenant, owner, args.runs))
        for size, (owner, tenant) in workspaces.items():
            settings.LLM_PROVIDER, settings.LLM_BASE_URL = "openai", server.url
            settings.LLM_API_KEY, settings.LLM_MODEL, settings.LLM_RESPONSE_FORMAT = (
                "sk-bench",
                "local-model",
                "json_schema",
            )
            results.append(measure(f"local model, {size:,} entries", tenant, owner, max(1, args.runs // 2)))
        settings.LLM_PROVIDER = "builtin"
        owner, tenant = workspaces[max(workspaces)]
        pdf = pdf_export(tenant, owner, args.pdf_pages, args.runs)
        print()
        columns = (
            ("entries", 8),
            ("time", 9),
            ("cpu", 7),
            ("peak mem", 9),
            ("requests", 9),
            ("tokens in", 10),
            ("out", 7),
        )
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} cores; cpu: this process's CPU time only")
        print(
            f"{'brag document':<28} "
            + " ".join(f"{name:>{width}}" for name, width in columns)
            + f" {'cost':>9}"
        )
        for row in results:
            print(
                f"{row['label']:<28} {row['entries']:>8,} {row['seconds']:>8.2f}s {row['cpu']:>6.2f}s "
                f"{row['peak_mb']:>7.1f}MB "
                f"{row['requests']:>9} {row['prompt_tokens']:>10,} {row['completion_tokens']:>7,} "
                f"${row['cost_micros'] / 1_000_000:>8.4f}"
            )  # fmt: skip
        print(
            f"\nPDF export: {pdf['pages']} pages ({pdf['bullets']} bullets and their sources) "
            f"in {pdf['seconds']:.2f} s ({pdf['cpu']:.2f} s of CPU)"
        )
    finally:
        server.stop()
        shutil.rmtree(media, ignore_errors=True)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop()


if __name__ == "__main__":
    main()
