"""Assist object URLs for the tenancy harness (merged by tests/tenancy.py): an outsider gets 404 on each."""


def _entry(owner):
    from apps.worklog import services

    tenant = owner.memberships.get().tenant
    return services.entry_create(
        tenant=tenant,
        author=owner,
        title="I rewrote the private deploy scripts",
        body="Deploys were slow. I rewrote them. Deploy time went from 40 to 12 minutes.",
    )


def _entry_kwargs(owner):
    return {"pk": _entry(owner).pk}


def _version_kwargs(owner):
    from apps.worklog import services

    entry = _entry(owner)
    services.entry_update(entry=entry, actor=owner, title="Rewrote the private deploy scripts")
    return {"pk": entry.pk, "version_pk": entry.versions.get().pk}


def _suggestion_kwargs(owner):
    from apps.assist import services
    from apps.assist.tasks import improve_entries

    entry = _entry(owner)
    job, _plan = services.improve_start(tenant=entry.tenant, user=owner, entries=[entry])
    improve_entries(job.pk, **job.params)  # run it here, as the worker would
    return {"pk": entry.suggestions.get().pk}


OUTSIDER_GETS_404 = {
    "assist_entry_improve": (_entry_kwargs, ["get", "post"]),
    "assist_entry_panel": (_entry_kwargs, ["get"]),
    "assist_version_restore": (_version_kwargs, ["post"]),
    "assist_suggestion_decide": (_suggestion_kwargs, ["post"]),
    "assist_suggestion_check": (_suggestion_kwargs, ["post"]),
}
