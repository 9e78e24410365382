"""Login and sign-up rate limits hold behind the TLS proxy, and `check --deploy` says when they would not."""

import pytest
from django.core.checks import registry

from apps.core.checks import rate_limits_hold_in_production
from tests.fresh_settings import settings_from_environment

PROXY = "10.0.0.1"  # what REMOTE_ADDR is for every request that comes through the proxy
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x/0"}}


@pytest.fixture
def two_logins_a_minute(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}


def attempt_login(client, **meta):
    return client.post(
        "/accounts/login/",
        {"login": "someone@example.com", "password": "wrong password"},
        REMOTE_ADDR=PROXY,
        **meta,
    )


def limited(response) -> bool:
    return response.status_code == 429


def test_it_limits_two_clients_behind_one_proxy_separately(client, db, settings, two_logins_a_minute):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    first = [attempt_login(client, HTTP_X_FORWARDED_FOR="203.0.113.7") for _ in range(3)]
    assert [limited(response) for response in first] == [False, False, True]
    # Another person behind the same proxy is not locked out by the first one's attempts.
    assert not limited(attempt_login(client, HTTP_X_FORWARDED_FOR="198.51.100.20"))


def test_it_keys_on_the_address_the_proxy_saw_not_one_the_client_wrote(
    client, db, settings, two_logins_a_minute
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for _ in range(2):
        attempt_login(client, HTTP_X_FORWARDED_FOR="203.0.113.7")
    # The client prepends a made-up address; the proxy appends the real one, which is what counts.
    assert limited(attempt_login(client, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7"))


def test_it_can_take_the_client_address_from_a_header_the_proxy_sets(
    client, db, settings, two_logins_a_minute
):
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    for _ in range(2):
        attempt_login(client, HTTP_X_REAL_IP="203.0.113.7")
    assert limited(attempt_login(client, HTTP_X_REAL_IP="203.0.113.7"))
    assert not limited(attempt_login(client, HTTP_X_REAL_IP="198.51.100.20"))


def test_it_treats_everyone_as_the_proxy_when_no_proxy_is_trusted(client, db, settings, two_logins_a_minute):
    """What happened before the setting: one person's attempts lock out everyone behind the proxy."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    for _ in range(2):
        attempt_login(client, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert limited(attempt_login(client, HTTP_X_FORWARDED_FOR="198.51.100.20"))


def _settings_from_environment(**environment) -> dict:
    return settings_from_environment(
        "{'count': settings.ALLAUTH_TRUSTED_PROXY_COUNT, 'header': settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER,"
        " 'cache': settings.CACHES['default']['BACKEND']}",
        unset=("REDIS_URL", "ALLAUTH_TRUSTED_PROXY_COUNT", "ALLAUTH_TRUSTED_CLIENT_IP_HEADER"),
        **environment,
    )


def test_it_reads_the_proxy_settings_and_the_shared_cache_from_the_environment():
    configured = _settings_from_environment(
        ALLAUTH_TRUSTED_PROXY_COUNT="2",
        ALLAUTH_TRUSTED_CLIENT_IP_HEADER="X-Real-IP",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert configured == {
        "count": 2,
        "header": "X-Real-IP",
        "cache": "django.core.cache.backends.redis.RedisCache",
    }
    default = _settings_from_environment()
    assert (default["count"], default["header"]) == (0, None)


# ------------------------------------------------------------------------------------ the deploy check


def _warning_ids() -> set[str]:
    return {message.id for message in rate_limits_hold_in_production()}


def test_it_warns_when_the_cache_is_per_process_or_the_proxy_is_unknown(settings):
    settings.DEBUG = False
    settings.CACHES = LOCMEM
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
    assert _warning_ids() == {"afterresume.W001", "afterresume.W002"}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert "afterresume.W001" in _warning_ids()


def test_it_is_quiet_with_redis_and_a_trusted_proxy_or_header(settings):
    settings.DEBUG = False
    settings.CACHES = REDIS
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    assert _warning_ids() == set()
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    assert _warning_ids() == set()


def test_it_stays_quiet_in_development(settings):
    settings.DEBUG = True
    settings.CACHES = LOCMEM
    assert _warning_ids() == set()


def test_it_runs_with_check_deploy():
    assert rate_limits_hold_in_production in registry.registry.get_checks(include_deployment_checks=True)
    assert rate_limits_hold_in_production not in registry.registry.get_checks(include_deployment_checks=False)
