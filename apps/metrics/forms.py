"""Filters of the staff pages: the dashboard's range and granularity, the event log's filters."""

from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.accounts.models import Tenant, User
from apps.core.dates import day_after, day_start
from apps.core.input import parse_id
from apps.core.models import Job
from apps.metrics.charts import DAY, GRANULARITIES, MONTH, WEEK
from apps.metrics.selectors import EventFilters
from apps.metrics.services import metrics_today

DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years of days: enough to compare a year with the one before
PRESETS = (7, 30, 90, 365)
GRANULARITY_CHOICES = [(DAY, "Day"), (WEEK, "Week"), (MONTH, "Month")]
CURSOR_SEPARATOR = "~"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RangeForm(forms.Form):
    """`since`..`until` (metrics days, inclusive) and how to group them. Empty means the last 30 days."""

    since = forms.DateField(required=False, label="From", widget=DateInput())
    until = forms.DateField(required=False, label="To", widget=DateInput())
    granularity = forms.ChoiceField(choices=GRANULARITY_CHOICES, required=False, label="Group by")

    def clean(self):
        data = super().clean()
        today = metrics_today()
        until = data.get("until") or today
        since = data.get("since") or until - timedelta(days=DEFAULT_DAYS - 1)
        if until > today:
            self.add_error("until", "Pick today or an earlier day.")
        if since > until:
            self.add_error("since", "The start is after the end.")
        elif (until - since).days + 1 > MAX_DAYS:
            self.add_error("since", f"Show at most {MAX_DAYS} days at a time.")
        data["since"], data["until"] = since, min(until, today)
        data["granularity"] = data.get("granularity") or DAY
        return data

    def range(self) -> tuple[date, date, str]:
        """The valid range, or the default one when the form has errors (they are shown beside it)."""
        if self.is_valid():
            return self.cleaned_data["since"], self.cleaned_data["until"], self.cleaned_data["granularity"]
        today = metrics_today()
        granularity = self.data.get("granularity")
        return (
            today - timedelta(days=DEFAULT_DAYS - 1),
            today,
            granularity if granularity in GRANULARITIES else DAY,
        )


def encode_cursor(cursor: tuple[datetime, int] | None) -> str:
    if cursor is None:
        return ""
    moment, pk = cursor
    return f"{moment.isoformat()}{CURSOR_SEPARATOR}{pk}"


def decode_cursor(raw: str) -> tuple[datetime, int] | None:
    # A "+" of the offset that reached us unencoded has become a space.
    moment, _, pk = (raw or "").replace(" ", "+").partition(CURSOR_SEPARATOR)
    parsed = parse_datetime(moment) if moment else None
    row_id = parse_id(pk)
    if parsed is None or row_id is None or timezone.is_naive(parsed):
        return None
    return parsed, row_id


class EventFilterForm(forms.Form):
    kind = forms.CharField(
        required=False,
        max_length=100,
        label="Kind",
        help_text='Exact, like "job.failed", or ending in a dot for a family: "billing.".',
    )
    workspace = forms.CharField(required=False, max_length=60, label="Workspace", help_text="Its slug.")
    actor = forms.CharField(required=False, max_length=254, label="Person", help_text="Their email address.")
    job = forms.IntegerField(required=False, min_value=1, max_value=2**62, label="Job")
    since = forms.DateField(required=False, label="From", widget=DateInput())
    until = forms.DateField(required=False, label="To", widget=DateInput())
    before = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput())

    def clean_workspace(self):
        slug = self.cleaned_data["workspace"].strip()
        if not slug:
            return None
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise forms.ValidationError("No workspace has that slug.")
        return tenant

    def clean_actor(self):
        email = self.cleaned_data["actor"].strip()
        if not email:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError("Nobody has that email address.")
        return user

    def clean_job(self):
        pk = self.cleaned_data["job"]
        if pk is None:
            return None
        job = Job.objects.filter(pk=pk).first()
        if job is None:
            raise forms.ValidationError("There is no job with that number.")
        return job

    def clean_before(self):
        raw = self.cleaned_data["before"]
        if raw and decode_cursor(raw) is None:
            raise forms.ValidationError("That page link is out of date; start again from the newest.")
        return decode_cursor(raw) if raw else None

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("since", "The start is after the end.")
        return data

    def filters(self) -> EventFilters:
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        return EventFilters(
            kind=data.get("kind") or "",
            tenant=data.get("workspace"),
            actor=data.get("actor"),
            since=day_start(since) if since else None,
            until=day_after(until) if until else None,
            job=data.get("job"),
        )

    def query_without_cursor(self) -> str:
        query = self.data.copy()
        query.pop("before", None)
        return query.urlencode()
