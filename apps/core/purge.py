"""The default way an app removes a workspace's rows when an account is deleted (see apps.accounts.purge).

`tenant_rows_purge(models, tenant)` deletes every row of `models` that belongs to the workspace (a foreign
key to accounts.Tenant), the files their FileFields name first (deleting a missing file is harmless, so a
run that stopped half-way is simply run again), then the rows, models that point at others first so a
PROTECT between them never stops it. Core imports no app: the tenant model is named by its label.
"""

from collections.abc import Iterable

from django.db import models, transaction

TENANT_MODEL = "accounts.Tenant"


def tenant_foreign_keys(model: type[models.Model]) -> list[models.ForeignKey]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.is_relation
        and field.related_model is not None
        and field.related_model._meta.label == TENANT_MODEL
    ]


def tenant_rows(model: type[models.Model], tenant) -> models.QuerySet:
    """Every row of `model` that belongs to `tenant` (by any tenant foreign key), soft-deleted ones too."""
    query = models.Q()
    for field in tenant_foreign_keys(model):
        query |= models.Q(**{field.name: tenant})
    return model._base_manager.filter(query) if query else model._base_manager.none()


def _deletion_order(tenant_models: list[type[models.Model]]) -> list[type[models.Model]]:
    """Models that point at other models of the list come before the models they point at."""
    remaining, ordered = list(tenant_models), []
    while remaining:
        for model in remaining:
            referenced_by_rest = any(
                field.is_relation and field.related_model is model
                for other in remaining
                if other is not model
                for field in other._meta.concrete_fields
            )
            if not referenced_by_rest:
                break
        else:  # a cycle: CASCADE / SET_NULL between them will do
            model = remaining[0]
        remaining.remove(model)
        ordered.append(model)
    return ordered


def _file_names(model: type[models.Model], rows: models.QuerySet) -> list[tuple]:
    names = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.FileField):
            for name in rows.exclude(**{field.name: ""}).values_list(field.name, flat=True):
                if name:
                    names.append((field.storage, name))
    return names


def tenant_rows_purge(app_models: Iterable[type[models.Model]], tenant) -> int:
    """Delete the workspace's rows of `app_models` (and their files). Returns how many rows went."""
    tenant_models = [model for model in app_models if tenant_foreign_keys(model) and not model._meta.proxy]
    for model in tenant_models:
        for storage, name in _file_names(model, tenant_rows(model, tenant)):
            storage.delete(name)
    removed = 0
    with transaction.atomic():
        for model in _deletion_order(tenant_models):
            removed += tenant_rows(model, tenant).delete()[0]
    return removed


# Event data that may carry what a person wrote or who they are; ids, amounts and kinds stay.
PERSONAL_EVENT_KEYS = frozenset(
    {
        "email",
        "fields",
        "memo",
        "name",
        "names",
        "note",
        "old_name",
        "reason",
        "skills",
        "source_name",
        "title",
        "url",
    }
)
REMOVED = "[removed]"


def events_scrub(*, tenant=None, actor=None) -> int:
    """Keep the audit events of a deleted workspace or person, without the personal details in their data."""
    from apps.core.models import Event

    if tenant is None and actor is None:
        return 0
    events = Event.objects.filter(tenant=tenant) if tenant is not None else Event.objects.filter(actor=actor)
    scrubbed = 0
    for event in events.only("id", "data").iterator():
        data = event.data if isinstance(event.data, dict) else {}
        if any(key in PERSONAL_EVENT_KEYS and value != REMOVED for key, value in data.items()):
            clean = {key: (REMOVED if key in PERSONAL_EVENT_KEYS else value) for key, value in data.items()}
            Event.objects.filter(pk=event.pk).update(data=clean)
            scrubbed += 1
    return scrubbed
