"""Purging a workspace's data and a person's details, app by app, without accounts importing the apps.

Each installed app takes part through its AppConfig (the same way as `bootstrap`):

- `purge_workspace(tenant) -> int`: remove what the app keeps for the workspace. Without one, the app gets
  the default step (apps.core.purge): every row of its models with a foreign key to the workspace goes,
  with the files they name.
- `purge_person(user) -> int`: remove what the app keeps for one person, wherever they work. Without one,
  the default deletes the rows of its models that belong to the person (a foreign key to the user that
  cascades), e.g. allauth's email addresses and passkeys.
- `purge_keeps`: names of its models that are kept on purpose (the ledger, receipts, audit rows); its own
  steps remove the personal details in them instead.

Steps run in reverse INSTALLED_APPS order, so an app runs before the apps it depends on. Every step is
safe to run again. `workspace_leftovers` walks every model with a workspace foreign key afterwards: the
purge fails loudly if any row is left outside the kept models.
"""

from django.apps import apps
from django.conf import settings
from django.db import models

from apps.core.purge import tenant_foreign_keys, tenant_rows, tenant_rows_purge

# Third-party models we keep: the admin's change log is the staff audit trail.
KEPT_ELSEWHERE = {"admin.LogEntry"}


class PurgeIncomplete(Exception):
    """Rows of the workspace were left outside the kept models; the job fails and can be run again."""


def _kept(config) -> set[str]:
    return {f"{config.label}.{name}" for name in getattr(config, "purge_keeps", ())}


def kept_models() -> set[str]:
    labels = set(KEPT_ELSEWHERE)
    for config in apps.get_app_configs():
        labels |= _kept(config)
    return labels


def _default_workspace_step(config, tenant) -> int:
    kept = _kept(config)
    return tenant_rows_purge([m for m in config.get_models() if m._meta.label not in kept], tenant)


def _person_foreign_keys(model) -> list:
    user_label = settings.AUTH_USER_MODEL
    return [
        field
        for field in model._meta.concrete_fields
        if field.is_relation
        and field.related_model is not None
        and field.related_model._meta.label == user_label
        and field.remote_field.on_delete is models.CASCADE
    ]


def _default_person_step(config, user) -> int:
    kept = _kept(config) | KEPT_ELSEWHERE
    removed = 0
    for model in config.get_models():
        if model._meta.label in kept or model._meta.label == settings.AUTH_USER_MODEL:
            continue
        query = models.Q()
        for field in _person_foreign_keys(model):
            query |= models.Q(**{field.name: user})
        if query:
            removed += model._base_manager.filter(query).delete()[0]
    return removed


def workspace_purge(*, tenant) -> dict[str, int]:
    """Run every app's workspace step; {app label: rows removed}."""
    removed = {}
    for config in reversed(list(apps.get_app_configs())):
        step = getattr(config, "purge_workspace", None)
        removed[config.label] = step(tenant) if callable(step) else _default_workspace_step(config, tenant)
    leftovers = workspace_leftovers(tenant=tenant)
    if leftovers:
        raise PurgeIncomplete(f"Rows of workspace {tenant.pk} are left: {leftovers}")
    return {label: count for label, count in removed.items() if count}


def person_purge(*, user) -> dict[str, int]:
    """Run every app's person step; {app label: rows removed}."""
    removed = {}
    for config in reversed(list(apps.get_app_configs())):
        step = getattr(config, "purge_person", None)
        removed[config.label] = step(user) if callable(step) else _default_person_step(config, user)
    return {label: count for label, count in removed.items() if count}


def workspace_leftovers(*, tenant) -> dict[str, int]:
    """Rows still pointing at the workspace, by model, outside the models kept on purpose."""
    kept = kept_models()
    left = {}
    for model in apps.get_models():
        if model._meta.label in kept or not tenant_foreign_keys(model):
            continue
        count = tenant_rows(model, tenant).count()
        if count:
            left[model._meta.label] = count
    return left
