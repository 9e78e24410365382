"""Standing people: alice owns a workspace, bob is a second member of it, charlie is an outsider
with a workspace of his own, and staff is the operator."""

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache

from apps.accounts.models import Membership, Tenant, User

PASSWORD = "correct horse battery staple 42"


def pytest_configure(config):
    # A deliberately slow password hash (PBKDF2, about 0.4 s a password here) is the point in production
    # and pure waiting in tests, which create people by the thousand; tests hash with MD5 instead.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, so allauth's rate-limit counters never carry over, and with
    no price quotes remembered from another test's rate card (usage_quote_reused)."""
    from apps.billing.services import pricing

    cache.clear()
    pricing._LAST_QUOTES.clear()


def make_user(email: str, *, name: str = "", is_staff: bool = False) -> User:
    user = User.objects.create_user(email=email, password=PASSWORD, name=name, is_staff=is_staff)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def tenant(db) -> Tenant:
    return Tenant.objects.create(name="Alice's workspace", slug="alice")


@pytest.fixture
def alice(tenant) -> User:
    user = make_user("alice@example.com", name="Alice Anders")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def bob(tenant) -> User:
    user = make_user("bob@example.com", name="Bob Brandt")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def other_tenant(db) -> Tenant:
    return Tenant.objects.create(name="Charlie's workspace", slug="charlie")


@pytest.fixture
def charlie(other_tenant) -> User:
    user = make_user("charlie@example.com", name="Charlie Chen")
    Membership.objects.create(user=user, tenant=other_tenant, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def staff(db) -> User:
    user = make_user("staff@example.com", name="Sam Staff", is_staff=True)
    tenant = Tenant.objects.create(name="Staff workspace", slug="staff")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
