"""/api/docs shows the operations: Swagger UI comes from our own static files and runs under our CSP."""

from afterresume.api import api


def test_it_renders_the_api_operations_under_the_content_security_policy(page, shot):
    refused = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    outside = []
    page.on(
        "request", lambda request: outside.append(request.url) if "localhost" not in request.url else None
    )

    response = page.goto("/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for()
    operations = sum(
        len(view.operations)
        for router in api._get_bound_routers()
        for view in router.path_operations.values()
    )
    assert page.locator(".opblock").count() >= operations - 1
    assert page.get_by_text("/api/worklog/entries/", exact=True).first.is_visible()
    assert page.locator(".info .title").inner_text().startswith("AfterResume API")
    shot("1280-light")

    page.locator(".opblock-summary-path", has_text="/api/worklog/entries/").first.click()
    page.get_by_text("ErrorOut").first.wait_for()
    shot("1280-light-entries-open")
    assert not refused, refused
    assert not failed, failed
    assert not outside, outside
