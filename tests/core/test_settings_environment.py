"""Settings read from the environment, in a fresh interpreter (settings load once per process)."""

import json
import os
import subprocess
import sys

from django.conf import settings as django_settings


def _database_engine(**environment) -> str:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps(settings.DATABASES['default']['ENGINE']))"
    )
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="afterresume.settings", **environment)
    result = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=django_settings.BASE_DIR,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_takes_the_embedded_database_when_the_url_is_set_but_empty():
    """An env file with `DATABASE_URL=` (as docker-compose writes it) means the default, not a crash."""
    assert _database_engine(DATABASE_URL="") == "django.db.backends.sqlite3"
    assert _database_engine() == "django.db.backends.sqlite3"
    postgres = _database_engine(DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused")
    assert postgres == "django.db.backends.postgresql"
