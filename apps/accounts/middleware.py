from django.utils import timezone

from apps.accounts.selectors import tenant_for_user
from apps.accounts.timezones import user_zone


class TenantMiddleware:
    """Sets request.tenant (the signed-in person's workspace, or None) and their time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.tenant = tenant_for_user(user) if user.is_authenticated else None
        zone = user_zone(user) if user.is_authenticated else None
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)
