"""Everything a workspace owns, as one ZIP a person can keep, read and bring back.

    manifest.json         format name and version, when, counts
    entries.json          all entries with employers, projects, skills, tags and evidence metadata
    markdown/<year>.md    the log, one readable file per year
    evidence/<entry>/...  the evidence files themselves

Entries that were deleted (and are waiting out their undo) are left out. The archive is written to a file
object the caller gives (a temporary file for the export job), reading entries in chunks so that memory
stays flat however long the log is.
"""

import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import groupby
from typing import IO, Any

from django.utils import timezone

from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag

EXPORT_FORMAT = "afterresume.worklog"
EXPORT_VERSION = 1
CHUNK_SIZE = 500
PROGRESS_EVERY = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")

Progress = Callable[[int, int], None]


def _decimal(value: Decimal | None) -> str | None:
    # Strings keep metrics exact (JSON numbers would go through floats in most readers).
    return None if value is None else format(value.normalize(), "f")


def evidence_archive_path(evidence: Evidence) -> str:
    name = _UNSAFE.sub("_", evidence.original_name or "file").strip(" ._")[:80] or "file"
    return f"evidence/{evidence.entry_id}/{evidence.pk}-{name}"


def _entries(tenant) -> Iterator[Entry]:
    return (
        Entry.objects.filter(tenant=tenant, deleted_at__isnull=True)
        .select_related("employer", "project")
        .prefetch_related("skills", "tags", "evidence")
        .order_by("occurred_on", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _entry_dict(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "occurred_on": entry.occurred_on.isoformat(),
        "title": entry.title,
        "body": entry.body,
        "impact": entry.impact,
        "employer": entry.employer.name if entry.employer else "",
        "project": entry.project.name if entry.project else "",
        "skills": [skill.name for skill in entry.skills.all()],
        "tags": [tag.name for tag in entry.tags.all()],
        "metric_value": _decimal(entry.metric_value),
        "metric_unit": entry.metric_unit,
        "metric_before": _decimal(entry.metric_before),
        "metric_after": _decimal(entry.metric_after),
        "confidential": entry.confidential,
        "outcome_pending": entry.outcome_pending,
        "follow_up_on": entry.follow_up_on.isoformat() if entry.follow_up_on else None,
        "created_at": entry.created_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
        "evidence": [
            {
                "kind": item.kind,
                "title": item.title,
                "url": item.url,
                "original_name": item.original_name,
                "content_type": item.content_type,
                "size_bytes": item.size_bytes,
                "path": evidence_archive_path(item) if item.kind == Evidence.Kind.FILE else "",
            }
            for item in entry.evidence.all()
        ],
    }


def _reference(tenant) -> dict[str, list]:
    return {
        "employers": [
            {"name": e.name} for e in Employer.objects.filter(tenant=tenant).order_by("name", "id")
        ],
        "projects": [
            {"name": p.name, "employer": p.employer.name if p.employer else ""}
            for p in Project.objects.filter(tenant=tenant).select_related("employer").order_by("name", "id")
        ],
        "skills": [
            {"name": s.name, "key": s.key} for s in Skill.objects.filter(tenant=tenant).order_by("name", "id")
        ],
        "tags": [{"name": t.name} for t in Tag.objects.filter(tenant=tenant).order_by("name", "id")],
    }


def _markdown_entry(entry: dict[str, Any]) -> str:
    lines = [f"### {entry['occurred_on']} — {entry['title']}", ""]
    where = " · ".join(part for part in (entry["employer"], entry["project"]) if part)
    facts = []
    if where:
        facts.append(f"*{where}*")
    if entry["skills"]:
        facts.append("Skills: " + ", ".join(entry["skills"]))
    if entry["tags"]:
        facts.append("Tags: " + " ".join(f"#{tag.replace(' ', '-')}" for tag in entry["tags"]))
    if facts:
        lines += [" · ".join(facts), ""]
    if entry["confidential"]:
        lines += ["> **Confidential** — names or numbers here must not leave a private review.", ""]
    if entry["body"]:
        lines += [entry["body"].strip(), ""]
    if entry["impact"]:
        lines += [f"**Impact:** {entry['impact'].strip()}", ""]
    if entry["metric_value"] is not None or entry["metric_after"] is not None:
        result = f"**Result:** {entry['metric_value'] or ''} {entry['metric_unit']}".rstrip()
        if entry["metric_before"] is not None or entry["metric_after"] is not None:
            result += f" (before {entry['metric_before'] or '—'}, after {entry['metric_after'] or '—'})"
        lines += [result, ""]
    if entry["outcome_pending"]:
        lines += [f"**Outcome pending** — follow up on {entry['follow_up_on']}.", ""]
    if entry["evidence"]:
        lines.append("Evidence:")
        for item in entry["evidence"]:
            if item["kind"] == Evidence.Kind.FILE:
                label = item["title"] or item["original_name"] or "file"
                if item["path"]:
                    lines.append(f"- [{label}](../{item['path']})")
                else:
                    lines.append(f"- {label} (the file was no longer stored when this export was made)")
            else:
                lines.append(f"- [{item['title'] or item['url']}]({item['url']})")
        lines.append("")
    return "\n".join(lines)


def _markdown_year(year: int, entries: list[dict[str, Any]], workspace: str) -> str:
    parts = [
        f"# {workspace}: work log {year}",
        "",
        f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}.",
        "",
    ]
    for month, items in groupby(entries, key=lambda item: item["occurred_on"][:7]):
        parts += [f"## {month}", ""]
        parts += [_markdown_entry(item) for item in items]
    return "\n".join(parts).rstrip() + "\n"


def workspace_export_write(
    *, tenant, target: IO[bytes], on_progress: Progress | None = None
) -> dict[str, int]:
    """Write the workspace's ZIP archive to `target`; returns the counts that are also in the manifest."""
    total_entries = Entry.objects.filter(tenant=tenant, deleted_at__isnull=True).count()
    total_files = Evidence.objects.filter(
        tenant=tenant, entry__deleted_at__isnull=True, kind=Evidence.Kind.FILE
    ).count()
    total = total_entries + total_files
    done = 0

    def step(amount: int = 1) -> None:
        nonlocal done
        done += amount
        if on_progress and (done % PROGRESS_EVERY == 0 or done == total):
            on_progress(done, total)

    reference = _reference(tenant)
    entries: list[dict[str, Any]] = []
    files: list[tuple[str, Evidence]] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in _entries(tenant):
            data = _entry_dict(entry)
            entries.append(data)
            files += [
                (evidence_archive_path(item), item)
                for item in entry.evidence.all()
                if item.kind == Evidence.Kind.FILE and item.file
            ]
            step()
        missing: set[str] = set()
        for path, evidence in files:
            try:
                with evidence.file.open("rb") as source, archive.open(path, "w", force_zip64=True) as sink:
                    shutil.copyfileobj(source, sink, length=1024 * 1024)
            except FileNotFoundError:
                missing.add(path)
            step()
        if missing:
            # Keep what is known about a file that storage no longer has; the import restores it as such.
            for data in entries:
                for item in data["evidence"]:
                    if item["path"] in missing:
                        item.update(path="", missing=True)

        payload = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "workspace": tenant.name,
            **reference,
            "entries": entries,
        }
        archive.writestr("entries.json", json.dumps(payload, ensure_ascii=False, indent=1))

        years: dict[int, list[dict[str, Any]]] = {}
        for data in entries:
            years.setdefault(int(data["occurred_on"][:4]), []).append(data)
        for year, items in sorted(years.items()):
            archive.writestr(f"markdown/{year}.md", _markdown_year(year, items, tenant.name))

        counts = {
            "entries": len(entries),
            "evidence_files": len(files) - len(missing),
            "evidence_links": sum(
                1 for data in entries for item in data["evidence"] if item["kind"] == Evidence.Kind.LINK
            ),
            **{name: len(items) for name, items in reference.items()},
        }
        manifest = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": timezone.now().isoformat(),
            "workspace": tenant.name,
            "counts": counts,
            "files": {"entries": "entries.json", "markdown": "markdown/<year>.md", "evidence": "evidence/"},
            "missing_evidence_files": sorted(missing),
            "notes": "Deleted entries are left out. Import this file into an empty AfterResume workspace.",
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    if on_progress:
        on_progress(total, total)
    return counts
