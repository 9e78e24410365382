"""Deploy checks (`manage.py check --deploy`) for what makes login and sign-up rate limits hold.

allauth counts attempts per client address in the default cache. Two things quietly break that in
production: a cache that each gunicorn worker keeps to itself (every worker counts on its own, so the
limit is multiplied by the number of workers and forgotten on restart), and a TLS proxy whose address
every request seems to come from (one person's failed logins lock out everyone) when allauth is not
told how many proxies to look past in X-Forwarded-For.
"""

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.security, checks.Tags.caches, deploy=True)
def rate_limits_hold_in_production(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    found: list[checks.CheckMessage] = []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        found.append(
            checks.Warning(
                f"The default cache ({backend.rsplit('.', 1)[-1]}) is not shared between processes, so "
                "login and sign-up rate limits are counted per worker and reset on every restart.",
                hint="Set REDIS_URL (the cache then lives in Redis, shared by every worker).",
                id="afterresume.W001",
            )
        )
    proxy_count = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0) or 0
    client_ip_header = getattr(settings, "ALLAUTH_TRUSTED_CLIENT_IP_HEADER", None)
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and not proxy_count and not client_ip_header:
        found.append(
            checks.Warning(
                "SECURE_PROXY_SSL_HEADER trusts a proxy, but allauth is not told how to find the client "
                "address behind it: every request seems to come from the proxy, so one client's failed "
                "logins rate-limit everyone.",
                hint="Set ALLAUTH_TRUSTED_PROXY_COUNT to the number of proxies in front of the app (1 for "
                "one nginx, Caddy or load balancer), or ALLAUTH_TRUSTED_CLIENT_IP_HEADER to the header "
                "your proxy sets to the client address (e.g. X-Real-IP).",
                id="afterresume.W002",
            )
        )
    return found
