from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    # Account deletion (apps.accounts.purge): events are the audit trail, kept with personal details removed.
    purge_keeps = ("Event",)

    def ready(self):
        from apps.core import checks  # noqa: F401 - registers the deploy checks

    def bootstrap(self, stdout) -> None:
        """The kernel's part of `manage.py bootstrap`: the sweep that sends lost jobs' tasks again."""
        from apps.core.job_recovery import job_recovery_schedule_install  # the registry is ready by now

        stdout.write(job_recovery_schedule_install())

    def purge_workspace(self, tenant) -> int:
        """The workspace's jobs (and their files) go; its events stay, scrubbed."""
        from apps.core.models import Job
        from apps.core.purge import events_scrub, tenant_rows_purge

        events_scrub(tenant=tenant)
        return tenant_rows_purge([Job], tenant)

    def purge_person(self, user) -> int:
        from apps.core.purge import events_scrub

        events_scrub(actor=user)
        return 0
