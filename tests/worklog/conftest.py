"""Fixtures of the work-log tests: entries made through the services, files, tokens and private storage."""

import pytest

from apps.accounts import services as account_services
from apps.worklog import services

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


@pytest.fixture
def make_entry(tenant, alice):
    """make_entry(title=..., owner=..., workspace=..., **fields) -> Entry, through entry_create."""

    def make(title: str = "Shipped the importer", *, owner=None, workspace=None, **fields):
        return services.entry_create(tenant=workspace or tenant, author=owner or alice, title=title, **fields)

    return make


@pytest.fixture
def media(settings, tmp_path):
    """Evidence files in a fresh private directory for each test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"


@pytest.fixture
def alice_token(alice, tenant) -> str:
    _token, raw = account_services.access_token_create(user=alice, tenant=tenant, name="cli")
    return raw


@pytest.fixture
def charlie_token(charlie, other_tenant) -> str:
    _token, raw = account_services.access_token_create(user=charlie, tenant=other_tenant, name="cli")
    return raw


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def htmx() -> dict:
    return {"HTTP_HX_REQUEST": "true"}
