import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.tenancy import NOT_OBJECT_URLS, OUTSIDER_GETS_404, STAFF_ONLY
from tests.urlwalk import walk


def test_it_covers_every_object_url():
    object_urls = {
        pattern.name
        for route, _path, pattern in walk()
        if "<" in route and not route.startswith(("admin/", "api/")) and pattern.name
    }
    missing = object_urls - set(OUTSIDER_GETS_404) - set(STAFF_ONLY) - set(NOT_OBJECT_URLS)
    assert not missing, f"add these URLs to tests/tenancy.py: {sorted(missing)}"


@pytest.mark.parametrize("url_name", sorted(OUTSIDER_GETS_404))
def test_it_answers_404_to_an_outsider(client, alice, charlie, url_name):
    make, methods = OUTSIDER_GETS_404[url_name]
    url = reverse(url_name, kwargs=make(alice))
    # A real password sign-in, so views that ask for recent authentication go on to the lookup.
    assert client.post("/accounts/login/", {"login": charlie.email, "password": PASSWORD}).status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    for method in methods:
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave charlie {response.status_code}"


@pytest.mark.parametrize("url_name", sorted(STAFF_ONLY))
def test_it_answers_404_to_non_staff_on_staff_objects(client, alice, url_name):
    make, methods = STAFF_ONLY[url_name]
    url = reverse(url_name, kwargs=make(alice))
    client.force_login(alice)
    for method in methods:
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave alice {response.status_code}"
