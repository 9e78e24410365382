"""Shared pieces of the import/export tests: files in a temporary storage, real jobs run inline, and a
workspace filled with every kind of data an entry can carry."""

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_q.conf import Conf

from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag

PDF_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02pixels" * 500


@pytest.fixture
def media(settings, tmp_path):
    """Default storage in a fresh directory, so tests see exactly the files they make."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"


@pytest.fixture
def sync_jobs(monkeypatch):
    """django-q2's sync mode: async_task runs the task inline, through the real worker code."""
    monkeypatch.setattr(Conf, "SYNC", True)


PREVIEW = reverse("worklog_porting_import_preview")
CONFIRM = reverse("worklog_porting_import_commit")


@pytest.fixture(name="upload_import")
def upload_import_fixture(django_capture_on_commit_callbacks):
    """upload_import(client, content, fmt=..., name=...) -> the preview page, as the person sees it.

    A file checked in the request answers with the preview; a file checked by a job (a ZIP, a large file)
    redirects to the job's page, which is followed once the job (run inline) has finished.
    """

    def upload(client, content, *, fmt: str, name: str):
        data = content.encode() if isinstance(content, str) else content
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(PREVIEW, {"format": fmt, "file": SimpleUploadedFile(name, data)})
        if response.status_code == 302 and "/import-export/import/" in response["Location"]:
            return client.get(response["Location"])
        return response

    return upload


@pytest.fixture(name="confirm_import")
def confirm_import_fixture(django_capture_on_commit_callbacks):
    """confirm_import(client, preview_response, mode="all" | "skip") -> the confirmation's response."""

    def confirm(client, preview_response, mode: str = "all"):
        token = preview_response.context["token"]
        assert token, "the preview offers nothing to confirm"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(CONFIRM, {"token": token, "mode": mode})

    return confirm


def stored_files() -> set[str]:
    """Every file in the private storage's evidence, imports and jobs folders."""
    found = set()
    for folder in ("evidence", "imports", "jobs"):
        if not default_storage.exists(folder):
            continue
        for sub in default_storage.listdir(folder)[0]:
            found |= {f"{folder}/{sub}/{name}" for name in default_storage.listdir(f"{folder}/{sub}")[1]}
    return found


def import_uploads() -> set[str]:
    return {name for name in stored_files() if name.startswith("imports/")}


def fill_workspace(tenant, author) -> dict:
    """Entries with everything: employers, projects, skills, tags, metrics, flags, files and links."""
    acme = Employer.objects.create(tenant=tenant, name="Acme Corp")
    globex = Employer.objects.create(tenant=tenant, name="Globex")
    Employer.objects.create(tenant=tenant, name="Unused Employer")
    payments = Project.objects.create(tenant=tenant, name="Payments", employer=acme)
    platform = Project.objects.create(tenant=tenant, name="Platform", employer=globex)
    Project.objects.create(tenant=tenant, name="Side project")
    python = Skill.objects.create(tenant=tenant, name="Python", key="python")
    sql = Skill.objects.create(tenant=tenant, name="PostgreSQL", key="postgresql")
    renamed = Skill.objects.create(tenant=tenant, name="JS tooling", key="js tooling")
    launch = Tag.objects.create(tenant=tenant, name="launch")
    mentoring = Tag.objects.create(tenant=tenant, name="mentoring")
    Tag.objects.create(tenant=tenant, name="unused-tag")

    first = Entry.objects.create(
        tenant=tenant,
        author=author,
        occurred_on=date(2024, 3, 14),
        title="Shipped the new checkout",
        body="Rebuilt checkout with **HTMX**.\n\n- fewer steps\n- faster",
        impact="Conversion went up for every plan.",
        employer=acme,
        project=payments,
        metric_value=Decimal("12.5"),
        metric_unit="%",
        metric_before=Decimal("31.0000"),
        metric_after=Decimal("43.5"),
    )
    first.skills.set([python, sql])
    first.tags.set([launch])
    Evidence.objects.create(
        tenant=tenant,
        entry=first,
        kind=Evidence.Kind.FILE,
        file=ContentFile(PDF_BYTES, name="report.pdf"),
        original_name="Q1 report.pdf",
        content_type="application/pdf",
        size_bytes=len(PDF_BYTES),
        title="Quarterly report",
    )
    Evidence.objects.create(
        tenant=tenant,
        entry=first,
        kind=Evidence.Kind.LINK,
        url="https://example.com/launch-post",
        title="Launch post",
    )
    second = Entry.objects.create(
        tenant=tenant,
        author=author,
        occurred_on=date(2024, 3, 14),
        title="Mentored two new engineers",
        employer=globex,
        project=platform,
        confidential=True,
    )
    second.skills.set([renamed])
    second.tags.set([mentoring, launch])
    Evidence.objects.create(
        tenant=tenant,
        entry=second,
        kind=Evidence.Kind.FILE,
        file=ContentFile(PNG_BYTES, name="board.png"),
        original_name="whiteboard photo.png",
        content_type="image/png",
        size_bytes=len(PNG_BYTES),
    )
    third = Entry.objects.create(
        tenant=tenant,
        author=author,
        occurred_on=date(2025, 1, 20),
        title="Proposed an on-call rotation",
        impact="",
        outcome_pending=True,
        follow_up_on=date(2025, 4, 1),
    )
    deleted = Entry.objects.create(
        tenant=tenant, author=author, occurred_on=date(2025, 1, 21), title="A mistaken entry"
    )
    Entry.objects.filter(pk=deleted.pk).update(deleted_at=deleted.created_at + timedelta(minutes=1))
    return {"entries": [first, second, third], "deleted": deleted}


def snapshot(tenant) -> dict:
    """Everything the log shows and keeps, by value, for comparing two workspaces."""
    entries = []
    for entry in (
        Entry.objects.filter(tenant=tenant, deleted_at__isnull=True)
        .select_related("employer", "project__employer")
        .prefetch_related("skills", "tags", "evidence")
        .order_by("-occurred_on", "-id")
    ):
        entries.append(
            {
                "occurred_on": entry.occurred_on,
                "title": entry.title,
                "body": entry.body,
                "impact": entry.impact,
                "employer": entry.employer.name if entry.employer else None,
                "project": (
                    entry.project.name,
                    entry.project.employer.name if entry.project.employer else None,
                )
                if entry.project
                else None,
                "skills": sorted((s.name, s.key) for s in entry.skills.all()),
                "tags": sorted(t.name for t in entry.tags.all()),
                "metric_value": entry.metric_value,
                "metric_unit": entry.metric_unit,
                "metric_before": entry.metric_before,
                "metric_after": entry.metric_after,
                "confidential": entry.confidential,
                "outcome_pending": entry.outcome_pending,
                "follow_up_on": entry.follow_up_on,
                "created_at": entry.created_at,
                "updated_at": entry.updated_at,
                "evidence": [
                    {
                        "kind": item.kind,
                        "title": item.title,
                        "url": item.url,
                        "original_name": item.original_name,
                        "content_type": item.content_type,
                        "size_bytes": item.size_bytes,
                        "bytes": item.file.open("rb").read() if item.file else None,
                    }
                    for item in entry.evidence.all()
                ],
            }
        )
    return {
        "entries": entries,
        "employers": sorted(Employer.objects.filter(tenant=tenant).values_list("name", flat=True)),
        "projects": sorted(
            (p.name, p.employer.name if p.employer else None)
            for p in Project.objects.filter(tenant=tenant).select_related("employer")
        ),
        "skills": sorted(Skill.objects.filter(tenant=tenant).values_list("name", "key")),
        "tags": sorted(Tag.objects.filter(tenant=tenant).values_list("name", flat=True)),
    }


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def make_zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()
