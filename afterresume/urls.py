from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from afterresume.api import api
from apps.accounts.views import InviteSignupByPasskeyView, InviteSignupView
from apps.core import views as core_views
from apps.reporting.urls import shared_urlpatterns as reporting_shared_urls


def _public(patterns):
    """The API does its own authentication (session or token, 401 when missing), never a login redirect."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _public(pattern.url_patterns)
        else:
            pattern.callback = login_not_required(pattern.callback)
    return patterns


# Staff sign in to the admin through the same login as everyone (passkeys and 2FA included).
admin.site.login = login_not_required(secure_admin_login(admin.site.login))
admin.site.site_header = "AfterResume staff"

api_patterns, api_app_name, api_namespace = api.urls

urlpatterns = [
    path("accounts/signup/", InviteSignupView.as_view(), name="account_signup"),
    path("accounts/signup/passkey/", InviteSignupByPasskeyView.as_view(), name="account_signup_by_passkey"),
    path("accounts/", include("allauth.urls")),
    path("accounts/profile/", RedirectView.as_view(pattern_name="profile", permanent=False)),
    path("admin/", admin.site.urls),
    path("favicon.ico", core_views.favicon),
    path("api/", include((_public(api_patterns), api_app_name), namespace=api_namespace)),
    path("log/", include("apps.worklog.urls")),
    path("billing/", include("apps.billing.urls")),
    path("improve/", include("apps.assist.urls")),
    path("jobs/", include("apps.core.urls")),
    path("reports/", include("apps.reporting.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("staff/", include("apps.metrics.urls")),  # /staff/metrics/, /staff/system/ (404 unless staff)
    # A report's share link: public and read-only (the view is marked login_not_required).
    *reporting_shared_urls,
    path("", include("apps.accounts.urls")),
]

handler400 = "apps.core.responses.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
