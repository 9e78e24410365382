"""Everything a workspace owns, as one ZIP a person can keep, read and bring back.

    manifest.json         format name and version, when, counts
    entries.json          all entries with employers, projects, skills, tags and evidence metadata
    markdown/<year>.md    the log, one readable file per year
    evidence/<entry>/...  the evidence files themselves

Entries that were deleted (and are waiting out their undo) are left out. The archive is written to a file
object the caller gives (a temporary file for the export job) as the log is read, so memory stays flat and
time grows linearly however long the log is:

- evidence files first, streamed member by member (which ones storage no longer has is noted, a set of
  paths, so the entries can say so);
- entries.json next, one compact JSON object per entry written into the ZIP as each chunk of entries is read
  (one query, streamed from a server-side cursor CHUNK_SIZE rows at a time), never built in one piece;
- the Markdown of each year goes to a temporary file meanwhile (a ZIP takes one member at a time) and is
  copied in after entries.json, with the year's count, which is known by then.
"""

import io
import json
import re
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from django.db.models import Prefetch
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


def _names_by_entry(links, ids: list[int], name: str) -> dict[int, list[str]]:
    """{entry id: the names it links to, in name order} for the entries `ids`, read as pairs of values (one
    query; no model instance a link, which was most of an export's time)."""
    found: dict[int, list[str]] = defaultdict(list)
    rows = links.filter(entry_id__in=ids).order_by(name, "pk").values_list("entry_id", name)
    for entry_id, value in rows:
        found[entry_id].append(value)
    return found


def _entries(tenant) -> Iterator[Entry]:
    """The workspace's live entries, oldest first, each with `skill_names` and `tag_names`: one query read
    through a server-side cursor CHUNK_SIZE rows at a time (evidence and names loaded per chunk).

    One query, not a keyset query per chunk: right after a bulk import the planner's statistics still say
    the workspace has a few entries, and each chunk's query then sorted every entry after the last one read
    (357 ms a chunk at 100,000 entries, so the export's time grew with the square of the log)."""
    live = (
        Entry.objects.filter(tenant=tenant, deleted_at__isnull=True)
        .select_related("employer", "project")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("created_at", "id")))
        .order_by("occurred_on", "id")
    )
    rows = live.iterator(chunk_size=CHUNK_SIZE)
    while entries := list(islice(rows, CHUNK_SIZE)):
        ids = [entry.pk for entry in entries]
        skills = _names_by_entry(Entry.skills.through.objects, ids, "skill__name")
        tags = _names_by_entry(Entry.tags.through.objects, ids, "tag__name")
        for entry in entries:
            entry.skill_names, entry.tag_names = skills.get(entry.pk, []), tags.get(entry.pk, [])
        yield from entries


def _evidence_files(tenant) -> Iterator[Evidence]:
    """The stored files of the workspace's live entries: one query, streamed CHUNK_SIZE rows at a time
    (as _entries, and for the same reason: a keyset query per chunk can be planned from stale statistics)."""
    files = (
        Evidence.objects.filter(tenant=tenant, entry__deleted_at__isnull=True, kind=Evidence.Kind.FILE)
        .exclude(file="")
        .order_by("id")
    )
    yield from files.iterator(chunk_size=CHUNK_SIZE)


def _entry_dict(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "occurred_on": entry.occurred_on.isoformat(),
        "title": entry.title,
        "body": entry.body,
        "impact": entry.impact,
        "employer": entry.employer.name if entry.employer else "",
        "project": entry.project.name if entry.project else "",
        "skills": entry.skill_names,
        "tags": entry.tag_names,
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


class _MarkdownYears:
    """The readable log, one file per year, written entry by entry to temporary files (the ZIP takes one
    member at a time) and copied into the archive at the end, each headed by its count."""

    def __init__(self, workspace: str):
        self.workspace = workspace
        self.years: dict[int, dict[str, Any]] = {}

    def add(self, entry: dict[str, Any]) -> None:
        year = int(entry["occurred_on"][:4])
        state = self.years.get(year)
        if state is None:
            handle = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="")  # noqa: SIM115 - closed in copy_into
            state = self.years[year] = {"file": handle, "count": 0, "month": None, "pending": None}
        month = entry["occurred_on"][:7]
        if month != state["month"]:
            self._part(state, f"## {month}")
            self._part(state, "")
            state["month"] = month
        self._part(state, _markdown_entry(entry))
        state["count"] += 1

    @staticmethod
    def _part(state: dict, text: str) -> None:
        # Parts are joined by newlines; the last one is held back to be written without trailing space.
        if state["pending"] is not None:
            state["file"].write("\n" + state["pending"])
        state["pending"] = text

    def copy_into(self, archive: zipfile.ZipFile) -> None:
        for year in sorted(self.years):
            state = self.years[year]
            count = state["count"]
            header = "\n".join(
                [
                    f"# {self.workspace}: work log {year}",
                    "",
                    f"{count} entr{'y' if count == 1 else 'ies'}.",
                    "",
                ]
            )
            with state["file"] as handle, archive.open(f"markdown/{year}.md", "w", force_zip64=True) as sink:
                text = io.TextIOWrapper(sink, encoding="utf-8", newline="")
                text.write(header)
                handle.seek(0)
                shutil.copyfileobj(handle, text, 1024 * 1024)
                text.write(("\n" + state["pending"]).rstrip() + "\n")
                text.flush()
                text.detach()

    def close(self) -> None:
        for state in self.years.values():
            state["file"].close()


def _compact(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


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
    markdown = _MarkdownYears(tenant.name)
    counts = {"entries": 0, "evidence_files": 0, "evidence_links": 0}
    missing: set[str] = set()
    try:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for evidence in _evidence_files(tenant):
                path = evidence_archive_path(evidence)
                try:
                    with (
                        evidence.file.open("rb") as source,
                        archive.open(path, "w", force_zip64=True) as sink,
                    ):
                        shutil.copyfileobj(source, sink, length=1024 * 1024)
                    counts["evidence_files"] += 1
                except FileNotFoundError:
                    # Keep what is known about a file that storage no longer has; the import restores it so.
                    missing.add(path)
                step()

            head = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "workspace": tenant.name, **reference}
            with archive.open("entries.json", "w", force_zip64=True) as sink:
                text = io.TextIOWrapper(sink, encoding="utf-8", newline="")
                text.write(_compact(head)[:-1] + ',"entries":[')
                for entry in _entries(tenant):
                    data = _entry_dict(entry)
                    for item in data["evidence"]:
                        if item["path"] in missing:
                            item.update(path="", missing=True)
                        elif item["kind"] == Evidence.Kind.LINK:
                            counts["evidence_links"] += 1
                    text.write(("," if counts["entries"] else "") + "\n" + _compact(data))
                    markdown.add(data)
                    counts["entries"] += 1
                    step()
                text.write("\n]}\n")
                text.flush()
                text.detach()
            markdown.copy_into(archive)

            counts.update({name: len(items) for name, items in reference.items()})
            manifest = {
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "exported_at": timezone.now().isoformat(),
                "workspace": tenant.name,
                "counts": counts,
                "files": {
                    "entries": "entries.json",
                    "markdown": "markdown/<year>.md",
                    "evidence": "evidence/",
                },
                "missing_evidence_files": sorted(missing),
                "notes": (
                    "Deleted entries are left out. Import this file into an empty AfterResume workspace."
                ),
            }
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    finally:
        markdown.close()
    if on_progress:
        on_progress(total, total)
    return counts
