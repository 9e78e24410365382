"""Staff read the request log in the admin; nobody writes it there."""

from apps.accounts.models import User
from apps.llm.models import LLMRequest


def test_it_lists_the_request_log_read_only(client, tenant):
    admin = User.objects.create_superuser(email="root@example.com", password="a long admin passphrase")
    LLMRequest.objects.create(
        tenant=tenant, feature="assist.improve", provider="openai", model="m", outcome="ok"
    )
    client.force_login(admin)

    listing = client.get("/admin/llm/llmrequest/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "LLM requests" in page and "assist.improve" in page
    assert client.get("/admin/llm/llmrequest/add/").status_code == 403
    row = LLMRequest.objects.get()
    assert client.post(f"/admin/llm/llmrequest/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LLMRequest.objects.filter(pk=row.pk).exists()
    assert LLMRequest._meta.verbose_name_plural == "LLM requests"
