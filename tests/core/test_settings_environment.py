"""Settings read from the environment."""

from tests.fresh_settings import settings_from_environment


def _database_engine(**environment) -> str:
    return settings_from_environment(
        "settings.DATABASES['default']['ENGINE']", unset=("DATABASE_URL",), **environment
    )


def test_it_takes_the_embedded_database_when_the_url_is_set_but_empty():
    """An env file with `DATABASE_URL=` (as docker-compose writes it) means the default, not a crash."""
    assert _database_engine(DATABASE_URL="") == "django.db.backends.sqlite3"
    assert _database_engine() == "django.db.backends.sqlite3"
    postgres = _database_engine(DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused")
    assert postgres == "django.db.backends.postgresql"
