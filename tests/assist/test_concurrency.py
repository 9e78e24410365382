"""Two people deciding the same suggestion at once (PostgreSQL, real threads): exactly one decision wins."""

import pytest

from apps.assist import services
from apps.assist.models import Suggestion
from apps.assist.tasks import improve_entries
from apps.core.errors import Conflict
from apps.worklog import services as worklog_services
from apps.worklog.models import EntryVersion
from tests.assist.conftest import DEPLOY_ENTRY
from tests.concurrency import needs_postgres, run_in_threads

pytestmark = [*needs_postgres, pytest.mark.django_db(transaction=True)]


def test_it_lets_one_of_two_racing_decisions_win(tenant, alice, bob):
    entry = worklog_services.entry_create(tenant=tenant, author=alice, **DEPLOY_ENTRY)
    job, _plan = services.improve_start(tenant=tenant, user=alice, entries=[entry])
    improve_entries(job.pk, **job.params)
    suggestion = Suggestion.objects.get()

    def decide(index):
        person = (alice, bob)[index % 2]
        mine = Suggestion.objects.get(pk=suggestion.pk)
        try:
            if index % 2:
                services.suggestion_reject(suggestion=mine, actor=person)
            else:
                services.suggestion_accept(suggestion=mine, actor=person)
        except Conflict:
            return "refused"
        return "decided"

    outcomes = run_in_threads(6, decide)
    assert sorted(outcomes).count("decided") == 1
    suggestion.refresh_from_db()
    entry.refresh_from_db()
    if suggestion.status == "accepted":
        assert entry.title == "Migrated the deploy scripts" and EntryVersion.objects.count() == 1
    else:
        assert suggestion.status == "rejected" and entry.title == DEPLOY_ENTRY["title"]
        assert not EntryVersion.objects.exists()
