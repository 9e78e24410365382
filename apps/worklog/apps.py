from django.apps import AppConfig


class WorklogConfig(AppConfig):
    name = "apps.worklog"
    label = "worklog"
    verbose_name = "Work log"
