"""Keep LoginSession in step with sign-ins and sign-outs (connected in AccountsConfig.ready)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out

from apps.accounts import sessions


def _on_login(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None and user is not None:
        sessions.login_session_record(user=user, session=session)


def _on_logout(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        sessions.login_session_forget(session_key=session.session_key)


def connect() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="accounts.login_session_record")
    user_logged_out.connect(_on_logout, dispatch_uid="accounts.login_session_forget")
