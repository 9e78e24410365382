"""A person's signed-in sessions: recorded at sign-in, ended all at once (deactivation, account deletion)."""

from importlib import import_module

from django.conf import settings

from apps.accounts.models import LoginSession, User


def _store(session_key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def login_session_record(*, user: User, session) -> None:
    """Remember the session a person just signed in with; forget their sessions the store no longer has."""
    if session.session_key is None:
        session.save()
    store = _store()
    stale = [row.pk for row in LoginSession.objects.filter(user=user) if not store.exists(row.session_key)]
    if stale:
        LoginSession.objects.filter(pk__in=stale).delete()
    LoginSession.objects.update_or_create(session_key=session.session_key, defaults={"user": user})


def login_session_forget(*, session_key: str | None) -> None:
    if session_key:
        LoginSession.objects.filter(session_key=session_key).delete()


def user_sessions_end(*, user: User) -> int:
    """Sign the person out everywhere: every session they signed in with is removed from the store."""
    rows = list(LoginSession.objects.filter(user=user))
    for row in rows:
        _store(row.session_key).delete(row.session_key)
    LoginSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)
