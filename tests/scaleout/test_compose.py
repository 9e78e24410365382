"""docker-compose.yml, read as Compose reads it. No Docker engine runs here (nor in CI), so this checks the
file's structure and what it hands the app: services, replicas, health checks, start order, environment."""

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker")
ONE_SHOTS = ("migrate", "minio-bucket")
SETTINGS_TEXT = (ROOT / "afterresume" / "settings.py").read_text()
# Read by boto3 itself (django-storages' S3 backend hands over to it) and by `manage.py bootstrap`.
READ_ELSEWHERE = {
    "AWS_ACCESS_KEY_ID": "boto3",
    "AWS_SECRET_ACCESS_KEY": "boto3",
    "ADMIN_EMAIL": "apps/accounts/management/commands/bootstrap.py",
    "ADMIN_PASSWORD": "apps/accounts/management/commands/bootstrap.py",
}
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::(?P<op>[-?])(?P<default>[^}]*))?\}")


def resolve(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} interpolation (and $$ for a dollar)."""

    def substitute(match: re.Match) -> str:
        name, op, default = match["name"], match["op"], match["default"] or ""
        if env.get(name):
            return env[name]
        if op == "?":
            raise KeyError(f"{name}: {default}")
        return default if op == "-" else ""

    return INTERPOLATION.sub(substitute, str(value)).replace("$$", "$")


REQUIRED = {"SECRET_KEY": "s3cret", "ADMIN_PASSWORD": "admin pass", "MINIO_ROOT_PASSWORD": "minio pass"}


def app_env(service: str, **env: str) -> dict[str, str]:
    raw = SERVICES[service]["environment"]
    return {name: resolve(value, {**REQUIRED, **env}) for name, value in raw.items()}


def test_it_runs_every_part_of_the_stack_as_a_service():
    assert set(SERVICES) == {"migrate", "web", "worker", "proxy", "db", "redis", "minio", "minio-bucket"}


def test_it_runs_two_web_replicas_on_gunicorn_and_two_workers_on_qcluster():
    assert SERVICES["web"]["deploy"]["replicas"] == SERVICES["worker"]["deploy"]["replicas"] == 2
    assert SERVICES["worker"]["command"] == ["python", "manage.py", "qcluster"]
    # The web replicas run the image's CMD: gunicorn.
    assert "command" not in SERVICES["web"]
    cmd = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")]
    assert len(cmd) == 1 and "gunicorn" in cmd[0]
    # Replicas cannot share a host port: only the proxy publishes one, and it sends requests to `web`.
    assert "ports" not in SERVICES["web"] and "ports" not in SERVICES["worker"]
    assert not any("container_name" in SERVICES[name] for name in ("web", "worker"))
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server web:8000 resolve;" in nginx and "proxy_pass http://afterresume_web;" in nginx
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in SERVICES["proxy"]["volumes"]


def test_it_builds_one_image_for_every_app_service():
    for name in APP_SERVICES:
        assert (SERVICES[name]["build"], SERVICES[name]["image"]) == (".", "afterresume:local")


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("web", "http://127.0.0.1:8000/api/healthz/"),
        ("worker", "qcluster_health"),
        ("proxy", "http://127.0.0.1/api/healthz/"),
        ("db", "pg_isready"),
        ("redis", "redis-cli"),
        ("minio", "ready"),
    ],
)
def test_it_checks_the_health_of_each_long_running_service(service, expected):
    check = SERVICES[service]["healthcheck"]
    assert check["test"][0] == "CMD"
    assert any(expected in part for part in check["test"][1:])
    assert {"interval", "timeout", "retries"} <= set(check)
    assert SERVICES[service].get("restart") == "unless-stopped"


def test_it_gives_the_health_checks_commands_that_exist():
    web = SERVICES["web"]["healthcheck"]["test"]
    assert web[1:3] == ["python", "-c"]
    compile(web[3], "<web healthcheck>", "exec")
    assert SERVICES["worker"]["healthcheck"]["test"][1:] == ["python", "manage.py", "qcluster_health"]
    assert get_commands()["qcluster_health"] == "apps.core"
    assert SERVICES["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert SERVICES["db"]["healthcheck"]["test"][2:] == ["-U", "afterresume", "-d", "afterresume"]
    assert SERVICES["minio"]["healthcheck"]["test"][1:] == ["mc", "ready", "local"]


def test_it_migrates_once_and_creates_the_bucket_before_any_replica_starts():
    for name in ONE_SHOTS:
        assert SERVICES[name]["restart"] == "no"
    migrate = "python manage.py migrate --noinput && python manage.py bootstrap"
    assert SERVICES["migrate"]["command"] == ["sh", "-c", migrate]
    assert SERVICES["migrate"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "minio-bucket": {"condition": "service_completed_successfully"},
    }
    for name in ("web", "worker"):
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert SERVICES["minio-bucket"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert SERVICES["proxy"]["depends_on"] == {"web": {"condition": "service_healthy"}}
    script = " ".join(SERVICES["minio-bucket"]["entrypoint"])
    assert 'mc mb --ignore-existing "files/$$BUCKET"' in script and "mc anonymous set none" in script


def test_it_points_the_app_at_the_stacks_own_database_broker_and_files():
    env = app_env("web")
    assert env["DEBUG"] == "false"
    assert env["DATABASE_URL"] == "postgres://afterresume:afterresume@db:5432/afterresume"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["AWS_STORAGE_BUCKET_NAME"] == resolve(SERVICES["minio-bucket"]["environment"]["BUCKET"], {})
    assert env["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("afterresume", "minio pass")
    minio = {name: resolve(value, REQUIRED) for name, value in SERVICES["minio"]["environment"].items()}
    assert (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]) == ("afterresume", "minio pass")
    db = SERVICES["db"]["environment"]
    credentials = (db["POSTGRES_USER"], db["POSTGRES_DB"], resolve(db["POSTGRES_PASSWORD"], {}))
    assert credentials == ("afterresume",) * 3
    # The health checks ask for 127.0.0.1, which must stay allowed whatever ALLOWED_HOSTS says.
    hosts = app_env("web", ALLOWED_HOSTS="afterresume.example")["ALLOWED_HOSTS"]
    assert hosts == "afterresume.example,127.0.0.1"


def test_it_passes_the_trusted_proxy_count_through():
    assert app_env("web")["ALLAUTH_TRUSTED_PROXY_COUNT"] == "1"  # the nginx in front of the replicas
    assert app_env("worker", ALLAUTH_TRUSTED_PROXY_COUNT="2")["ALLAUTH_TRUSTED_PROXY_COUNT"] == "2"


def test_it_refuses_to_start_without_the_secrets():
    for name in REQUIRED:
        with pytest.raises(KeyError, match=name):
            app_env("web", **{other: "x" for other in REQUIRED if other != name}, **{name: ""})


def test_it_sets_only_variables_the_app_reads():
    for service in APP_SERVICES:
        assert SERVICES[service]["environment"] == SERVICES["web"]["environment"]
    for name in SERVICES["web"]["environment"]:
        reader = READ_ELSEWHERE.get(name, "afterresume/settings.py")
        if reader != "boto3":
            assert re.search(rf'(env\w*|environ\.get)\("{name}"', (ROOT / reader).read_text()), name


def test_it_installs_pango_for_pdf_exports_in_the_runtime_image():
    runtime = (ROOT / "Dockerfile").read_text().split("AS runtime", 1)[1]
    assert "libpango-1.0-0" in runtime and "libpangoft2-1.0-0" in runtime and "fonts-dejavu-core" in runtime


def test_it_keeps_secrets_and_local_state_out_of_the_build_context():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", ".env", "node_modules", "tests"} <= ignored
