"""Settings as a fresh interpreter reads them from an environment (settings load once per process)."""

import json
import os
import subprocess
import sys

from django.conf import settings as django_settings


def settings_from_environment(expression: str, *, unset: tuple[str, ...] = (), **environment):
    """The JSON value of `expression` (Python, with `settings` in scope) after django.setup() in a new
    interpreter whose environment is ours without `unset`, plus `environment`."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({expression}))"
    )
    env = {name: value for name, value in os.environ.items() if name not in unset}
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
