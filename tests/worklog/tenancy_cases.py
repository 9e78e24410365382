"""Work-log object URLs for the tenancy harness (tests/tenancy.py): an outsider gets 404 on each."""

from django.core.files.uploadedfile import SimpleUploadedFile


def _entry(owner, **fields):
    from apps.worklog import services

    tenant = owner.memberships.get().tenant
    return services.entry_create(tenant=tenant, author=owner, title="Alice's private work", **fields)


def _entry_kwargs(owner):
    return {"pk": _entry(owner).pk}


def _deleted_entry_kwargs(owner):
    from apps.worklog import services

    entry = _entry(owner)
    services.entry_delete(entry=entry, actor=owner)
    return {"pk": entry.pk}


def _evidence_kwargs(owner):
    from apps.worklog import services

    upload = SimpleUploadedFile("notes.txt", b"private notes", content_type="text/plain")
    piece = services.evidence_add_file(entry=_entry(owner), actor=owner, upload=upload)
    return {"pk": piece.pk}


def _skill_kwargs(owner):
    entry = _entry(owner, skills=["Kubernetes", "Go"])
    return {"pk": entry.skills.get(name="Kubernetes").pk}


def _import_check_kwargs(owner):
    from apps.core.models import Job
    from apps.worklog.tasks import PREVIEW_KIND

    job = Job.objects.create(
        tenant=owner.memberships.get().tenant,
        created_by=owner,
        kind=PREVIEW_KIND,
        label="Checking alice.csv",
        func_path="apps.worklog.tasks.worklog_import_preview",
        params={"fmt": "csv", "filename": "alice.csv"},
    )
    return {"pk": job.pk}


OUTSIDER_GETS_404 = {
    "worklog_entry_detail": (_entry_kwargs, ["get"]),
    "worklog_entry_edit": (_entry_kwargs, ["get", "post"]),
    "worklog_entry_delete": (_entry_kwargs, ["post"]),
    "worklog_entry_restore": (_deleted_entry_kwargs, ["post"]),
    "worklog_evidence_upload": (_entry_kwargs, ["post"]),
    "worklog_evidence_link": (_entry_kwargs, ["post"]),
    "worklog_evidence_file": (_evidence_kwargs, ["get"]),
    "worklog_evidence_delete": (_evidence_kwargs, ["post"]),
    "worklog_skill_edit": (_skill_kwargs, ["get"]),
    "worklog_skill_rename": (_skill_kwargs, ["post"]),
    "worklog_skill_merge": (_skill_kwargs, ["post"]),
    "worklog_porting_import_job": (_import_check_kwargs, ["get"]),
}
