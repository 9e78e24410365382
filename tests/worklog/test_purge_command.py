from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.worklog import services
from apps.worklog.models import Entry


def test_it_purges_entries_deleted_before_the_cutoff(make_entry, alice, capsys):
    old, recent = make_entry("old"), make_entry("recent")
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        services.entry_delete(entry=old, actor=alice)
    services.entry_delete(entry=recent, actor=alice)
    call_command("purge_deleted_entries", "--days", "7")
    assert "Purged 1 entry deleted more than 7 days ago." in capsys.readouterr().out
    assert list(Entry.objects.values_list("title", flat=True)) == ["recent"]


def test_it_refuses_a_zero_day_window(db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_deleted_entries", "--days", "0")
