"""An HTMX request from a page whose session has ended swaps nothing (what was typed stays) and shows a
sign-in notice that leads back to the page; an ordinary request still gets the login redirect."""

import pytest

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_it_redirects_a_page_request_to_the_login_page(client):
    response = client.get("/log/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/log/"


@pytest.mark.parametrize(
    ("current", "back"),
    [
        ("http://testserver/log/new/?employer=3", "/accounts/login/?next=/log/new/%3Femployer%3D3"),
        ("https://elsewhere.example/phish/", "/accounts/login/?next=/notifications/badge/"),
        ("", "/accounts/login/?next=/notifications/badge/"),
    ],
)
def test_it_answers_an_htmx_request_with_a_notice_and_no_swap(client, db, current, back):
    headers = {**HTMX, **({"HTTP_HX_CURRENT_URL": current} if current else {})}
    response = client.get("/notifications/badge/", **headers)
    assert response.status_code == 200
    assert response["HX-Reswap"] == "none" and response["HX-Trigger"] == "signed-out"
    html = response.content.decode()
    assert 'id="signed-out-notice" hx-swap-oob="true"' in html
    assert f'href="{back}"' in html
    assert 'name="password"' not in html


def test_it_leaves_signed_in_htmx_requests_alone(alice_client):
    response = alice_client.get("/log/", **HTMX)
    assert response.status_code == 200 and "HX-Reswap" not in response
