"""Helpers that make the tenant filter impossible to forget."""

from django.http import Http404


def get_for_tenant_or_404(queryset, *, tenant, **lookup):
    """The object matching `lookup` inside `tenant`, or 404; another tenant's object is a 404 too."""
    if tenant is None:
        raise Http404
    try:
        return queryset.filter(tenant=tenant).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def require_tenant(request):
    """The request's workspace. Someone without one has nothing to see here: a 404 (JSON in the API)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        raise Http404("You are not in a workspace.")
    return tenant
