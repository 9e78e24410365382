"""Health checks: one module behind `/api/readyz/` and the staff system page.

Readiness (`readiness()`, for load balancers and `/api/readyz/`) is the database and the job broker: what
the app cannot serve without. The system page (`system_checks()`) adds the cache, file storage, Stripe and
the model endpoint, each with its latency. A network check that is not configured (no Stripe key, the
offline `builtin` model provider) is reported as "not configured" and sends nothing.

The network checks ask whether the service answers at all (any HTTP answer, even a 401, proves it is
reachable) and how fast; they send no credentials: talking to Stripe and to the model stays in
apps/billing/stripe_gateway.py and apps/llm/providers/.
"""

import http.client
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage
from django_q.status import Stat

from apps.core.queue import queue_ping

OK, ERROR, NOT_CONFIGURED = "ok", "error", "not_configured"
STRIPE_DEFAULT_BASE = "https://api.stripe.com"
OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"


class NoAnswer(Exception):
    """The service was asked and said nothing useful; the message says what."""


@dataclass
class Check:
    key: str
    label: str
    status: str
    detail: str = ""
    latency_ms: int | None = None
    facts: dict = field(default_factory=dict)

    @property
    def is_ok(self) -> bool:
        return self.status == OK

    def readiness_text(self) -> str:
        """`/api/readyz/`'s wording: "ok", or "error: <what>"."""
        return "ok" if self.is_ok else f"error: {self.detail or 'no answer'}"


def _timed(key: str, label: str, probe) -> Check:
    """Run `probe()` -> (detail, facts); an exception is an error named by its type."""
    began = time.monotonic()
    try:
        detail, facts = probe()
    except Exception as exc:
        detail = str(exc) if isinstance(exc, NoAnswer) else type(exc).__name__
        return Check(key, label, ERROR, detail=detail, latency_ms=_ms(began))
    return Check(key, label, OK, detail=detail, latency_ms=_ms(began), facts=facts)


def _ms(began: float) -> int:
    return round((time.monotonic() - began) * 1000)


# ------------------------------------------------------------------------------------------ database


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor, {}


def check_database() -> Check:
    return _timed("database", "Database", _database)


# --------------------------------------------------------------------------------------------- queue


@dataclass(frozen=True)
class QueueInfo:
    broker: str
    depth: int | None
    oldest_waiting_at: datetime | None
    clusters: list[dict]
    last_task_at: datetime | None
    last_task_ok: bool | None

    @property
    def oldest_waiting_seconds(self) -> int | None:
        if self.oldest_waiting_at is None:
            return None
        return max(0, int((timezone.now() - self.oldest_waiting_at).total_seconds()))


def _task_started(payload) -> datetime | None:
    try:
        task = SignedPackage.loads(payload)
    except Exception:
        return None
    started = task.get("started") if isinstance(task, dict) else None
    return started if isinstance(started, datetime) else None


def queue_info() -> QueueInfo:
    """Depth and oldest waiting task from the broker, clusters from their heartbeats, the last task run."""
    broker = get_broker()
    depth = broker.queue_size()
    oldest = None
    if Conf.ORM:
        first = (
            OrmQ.objects.using(Conf.ORM)
            .filter(key=broker.list_key, lock__lte=timezone.now())
            .order_by("id")
            .values_list("payload", flat=True)
            .first()
        )
        oldest = _task_started(first) if first else None
    else:
        first = broker.connection.lindex(broker.list_key, 0)
        oldest = _task_started(first) if first else None
    clusters = []
    for stat in Stat.get_all(broker=broker) or []:
        clusters.append(
            {
                "id": str(stat.cluster_id),
                "host": stat.host,
                "status": stat.status,
                "workers": len(stat.workers or []),
                "seen_at": stat.timestamp,
            }
        )
    last = Task.objects.order_by("-stopped").values("stopped", "success").first()
    return QueueInfo(
        broker=broker.info(),
        depth=depth,
        oldest_waiting_at=oldest,
        clusters=clusters,
        last_task_at=last["stopped"] if last else None,
        last_task_ok=last["success"] if last else None,
    )


def check_queue(*, details: bool = False) -> Check:
    def probe():
        if not queue_ping():
            raise NoAnswer("no answer")
        if not details:
            return "", {}
        info = queue_info()
        return info.broker, {"info": info}

    return _timed("queue", "Job queue", probe)


# -------------------------------------------------------------------------------------- cache, files


def _cache():
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise NoAnswer("the cache did not keep a value")
    cache.delete(key)
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return backend.rsplit(".", 1)[-1], {}


def check_cache() -> Check:
    return _timed("cache", "Cache", _cache)


def _storage():
    storage = default_storage
    if isinstance(storage, FileSystemStorage):
        location = os.fspath(storage.location)
        existing = location
        while existing and not os.path.exists(existing):
            parent = os.path.dirname(existing)
            if parent == existing:
                break
            existing = parent
        if not os.access(existing, os.W_OK):
            raise PermissionError(f"{existing} is not writable")
        return f"local files in {location}", {}
    storage.exists(f"health/{uuid.uuid4().hex}")  # a HEAD request: reachable, and the credentials work
    return type(storage).__name__, {}


def check_storage() -> Check:
    return _timed("storage", "File storage", _storage)


# ---------------------------------------------------------------------------------- network services


def http_probe(url: str, *, timeout: float) -> tuple[int, int]:
    """GET `url` and read the status line: (HTTP status, milliseconds). Raises when nothing answers."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    began = time.monotonic()
    conn = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/", headers={"User-Agent": "AfterResume health check"})
        status = conn.getresponse().status
    finally:
        conn.close()
    return status, _ms(began)


def _network(key: str, label: str, url: str) -> Check:
    try:
        status, latency = http_probe(url, timeout=settings.HEALTH_PROBE_TIMEOUT_SECONDS)
    except Exception as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        return Check(key, label, ERROR, detail=f"{reason} ({_host(url)})")
    if status >= 500:
        return Check(key, label, ERROR, detail=f"HTTP {status} from {_host(url)}", latency_ms=latency)
    return Check(key, label, OK, detail=f"HTTP {status} from {_host(url)}", latency_ms=latency)


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def check_stripe() -> Check:
    if not settings.STRIPE_SECRET_KEY:
        mode = "simulated checkout (DEBUG)" if settings.DEBUG else "top-up unavailable"
        return Check("stripe", "Stripe", NOT_CONFIGURED, detail=f"No STRIPE_SECRET_KEY: {mode}.")
    base = (settings.STRIPE_API_BASE or STRIPE_DEFAULT_BASE).rstrip("/")
    return _network("stripe", "Stripe", f"{base}/v1/")


def check_model_endpoint() -> Check:
    if settings.LLM_PROVIDER != "openai":
        return Check(
            "model",
            "Model endpoint",
            NOT_CONFIGURED,
            detail="The builtin provider runs on this server (LLM_PROVIDER=builtin); nothing to reach.",
        )
    base = (settings.LLM_BASE_URL or OPENAI_DEFAULT_BASE).rstrip("/")
    check = _network("model", "Model endpoint", f"{base}/models")
    check.facts["model"] = settings.LLM_MODEL
    return check


# ------------------------------------------------------------------------------------------ the sets

READINESS = (check_database, check_queue)


def readiness() -> dict[str, str]:
    """What `/api/readyz/` answers: {"database": "ok", "queue": "ok"} or "error: ..." values."""
    return {check.key: check.readiness_text() for check in (probe() for probe in READINESS)}


def system_checks() -> list[Check]:
    """Every check, for the staff system page: readiness first, then what degrades the service."""
    return [
        check_database(),
        check_queue(details=True),
        check_cache(),
        check_storage(),
        check_stripe(),
        check_model_endpoint(),
    ]
