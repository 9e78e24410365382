"""gunicorn settings for the web process (the image's CMD runs `gunicorn -c gunicorn.conf.py ...`).

Threaded workers (`gthread`): each of WEB_CONCURRENCY processes serves GUNICORN_THREADS requests at once, so
a fast request (the balance badge, a page of the timeline) is not queued behind a slow one (an import
preview, a PDF) the way it is with one request per sync worker. The request work is mostly waiting on
PostgreSQL, so threads overlap well; bench/load.py measures this against sync workers
(`--compare`). Every thread holds its own database connection (CONN_MAX_AGE), so a replica opens at most
workers x threads connections: 3 x 4 = 12 with the defaults.

Environment (all optional):
    GUNICORN_BIND          address to listen on (default 0.0.0.0:$PORT, PORT defaulting to 8000)
    WEB_CONCURRENCY        worker processes (default: CPU cores + 1, at most 8)
    GUNICORN_THREADS       threads per worker (default 4)
    GUNICORN_WORKER_CLASS  gthread (default) or sync, for comparisons
    GUNICORN_TIMEOUT       seconds before a stuck worker is restarted (default 60)
    GUNICORN_ACCESS_LOG    "-" for stdout (default), "" to turn the access log off
"""

import os


def _int(name: str, default: int, *, low: int = 1, high: int = 256) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low} and {high}, not {value}")
    return value


bind = [os.environ.get("GUNICORN_BIND", "").strip() or f"0.0.0.0:{_int('PORT', 8000, high=65535)}"]
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or "gthread"
if worker_class not in {"gthread", "sync"}:
    raise SystemExit(f"GUNICORN_WORKER_CLASS must be gthread or sync, not {worker_class!r}")
workers = _int("WEB_CONCURRENCY", min((os.cpu_count() or 1) + 1, 8), high=64)
threads = _int("GUNICORN_THREADS", 4) if worker_class == "gthread" else 1

timeout = _int("GUNICORN_TIMEOUT", 60, high=3600)
graceful_timeout = 30
keepalive = 5  # seconds an idle keep-alive connection from the proxy stays open
# Restart each worker now and then (staggered) so slow growth of memory never adds up.
max_requests = 5000
max_requests_jitter = 500
# The heartbeat file lives in memory, not on the container's overlay filesystem (which can stall it).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn's heartbeat files

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-").strip() or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
