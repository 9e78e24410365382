"""Report URLs for the tenancy harness (merged by tests/tenancy.py): an outsider gets 404 on each, and the
API answers another workspace's report with 404 too (tests/reporting/test_tenancy.py)."""


def _report(owner, *, audience="shareable"):
    from apps.reporting import services
    from apps.reporting.models import Report
    from apps.worklog import services as worklog

    tenant = owner.memberships.get().tenant
    entry = worklog.entry_create(tenant=tenant, author=owner, title="Alice's private work")
    report = Report.objects.create(
        tenant=tenant, created_by=owner, kind="brag_document", title="Alice's brag", audience=audience,
        selected_entry_ids=[entry.pk],
    )  # fmt: skip
    services.report_version_save(
        report=report,
        sections=[
            {
                "key": "projects",
                "title": "Projects",
                "enabled": True,
                "bullets": [
                    {"text": "Alice's private work", "citations": [entry.pk]},
                ],
            }
        ],
        note="Written",
    )
    return report


def _report_kwargs(owner):
    return {"pk": _report(owner).pk}


def _section_kwargs(owner):
    return {"pk": _report(owner).pk, "key": "projects"}


def _bullet_kwargs(owner):
    return {"pk": _report(owner).pk, "key": "projects", "index": 0}


def _version_kwargs(owner):
    return {"pk": _report(owner).pk, "number": 1}


def _export_kwargs(owner):
    return {"pk": _report(owner).pk, "fmt": "pdf"}


OUTSIDER_GETS_404 = {
    "reporting_detail": (_report_kwargs, ["get"]),
    "reporting_status": (_report_kwargs, ["get"]),
    "reporting_retry": (_report_kwargs, ["post"]),
    "reporting_rename": (_report_kwargs, ["post"]),
    "reporting_delete": (_report_kwargs, ["post"]),
    "reporting_arrange": (_report_kwargs, ["post"]),
    "reporting_section_edit": (_section_kwargs, ["get", "post"]),
    "reporting_section_preview": (_section_kwargs, ["post"]),
    "reporting_section_regenerate": (_section_kwargs, ["post"]),
    "reporting_claim_remove": (_bullet_kwargs, ["post"]),
    "reporting_versions": (_report_kwargs, ["get"]),
    "reporting_version_restore": (_version_kwargs, ["post"]),
    "reporting_export": (_export_kwargs, ["get"]),
    "reporting_print": (_report_kwargs, ["get"]),
    "reporting_share": (_report_kwargs, ["post"]),
    "reporting_share_revoke": (_report_kwargs, ["post"]),
}

NOT_OBJECT_URLS = {
    "reporting_shared": "a share link's unguessable token, public by design (see test_sharing.py)"
}
