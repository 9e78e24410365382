from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in

        from apps.core.events import event_emitted
        from apps.core.models import Event
        from apps.notifications import receivers

        event_emitted.connect(receivers.on_event_emitted, sender=Event, dispatch_uid="notifications.events")
        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="notifications.sign_in")

    def bootstrap(self, stdout) -> None:
        """Notifications' part of `manage.py bootstrap`: the hourly reminder and follow-up schedules."""
        from apps.notifications.schedules import schedules_install

        for line in schedules_install():
            stdout.write(line)
