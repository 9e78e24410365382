"""Another workspace's report is a 404 in the API, for every operation, and nothing is charged or shared."""

import pytest

from apps.reporting.models import ReportShare
from tests.reporting.tenancy_cases import _report

pytestmark = pytest.mark.usefixtures("funded")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/reports/{id}/"),
        ("get", "/api/reports/{id}/export/md/"),
        ("get", "/api/reports/{id}/export/pdf/"),
        ("get", "/api/reports/{id}/export/docx/"),
        ("get", "/api/reports/{id}/export/json-resume/"),
        ("post", "/api/reports/{id}/share/"),
        ("delete", "/api/reports/{id}/share/"),
    ],
)
def test_it_answers_404_to_an_outsider_in_the_api(client, alice, charlie, method, path):
    report = _report(alice)
    client.force_login(charlie)
    response = getattr(client, method)(path.format(id=report.pk), content_type="application/json")
    assert response.status_code == 404 and set(response.json()) == {"message", "extra"}
    assert not ReportShare.objects.exists()
    from apps.billing.models import UsageEvent

    assert not UsageEvent.objects.exists()
