import zoneinfo

from django.utils import timezone

from apps.accounts.selectors import tenant_for_user


class TenantMiddleware:
    """Sets request.tenant (the signed-in person's workspace, or None) and their time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.tenant = tenant_for_user(user) if user.is_authenticated else None
        if user.is_authenticated and user.time_zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except zoneinfo.ZoneInfoNotFoundError:
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
