"""Signal receivers: each parses what it is given and calls one service."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from apps.metrics import services


@receiver(user_logged_in, dispatch_uid="metrics.sign_in")
def on_sign_in(sender, request, user, **kwargs):
    services.sign_in_record(user=user)
