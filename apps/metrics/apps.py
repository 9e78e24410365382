from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "apps.metrics"
    label = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from apps.metrics import signals  # noqa: F401 - connects the sign-in receiver

    def bootstrap(self, stdout) -> None:
        """Metrics' part of `manage.py bootstrap`: the snapshot and reconcile schedules, model costs."""
        from apps.metrics.services import metrics_defaults_install

        for line in metrics_defaults_install():
            stdout.write(line)
