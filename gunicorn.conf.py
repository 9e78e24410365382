"""gunicorn settings for the web process (the image's CMD runs `gunicorn -c gunicorn.conf.py ...`).

Threaded workers (`gthread`): each of WEB_CONCURRENCY processes serves GUNICORN_THREADS requests at once, so
a fast request (the balance badge, a page of the timeline) is not queued behind a slow one (an import
preview, a PDF) the way it is with one request per sync worker. Two threads per process, and twice as
many processes as cores plus one: a request's Python work holds its process's lock on the interpreter, so
more processes with fewer threads keep a fast request from waiting on a busy neighbour (bench/load.py on 2
cores: badge p95 78 ms at 3 x 4, 48 ms at 5 x 2; `--compare` measures sync workers against the default).
Every thread holds its own database connection (CONN_MAX_AGE), so a replica opens at most workers x
threads connections: 5 x 2 = 10 on 2 cores.

Environment (all optional):
    GUNICORN_BIND          address to listen on (default 0.0.0.0:$PORT, PORT defaulting to 8000)
    WEB_CONCURRENCY        worker processes (default: 2 x CPU cores + 1, at most 12)
    GUNICORN_THREADS       threads per worker (default 2)
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
workers = _int("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 12), high=64)
threads = _int("GUNICORN_THREADS", 2) if worker_class == "gthread" else 1

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
