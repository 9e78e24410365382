"""Load benchmark: the app under gunicorn (gunicorn.conf.py) and PostgreSQL on loopback, with N users at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py
    ... bench/load.py --users 20 --duration 60 --size 100000      # the defaults
    ... bench/load.py --compare          # sync workers (3, the former CMD) against the threaded default
    ... bench/load.py --think 0          # no pause between a user's requests (a stress run)

Each simulated user signs in once through the real sign-in form, then until the run ends repeats a visit:
the timeline's first page, two pages of scrolling (the next-page link the page gives), a search, a quick
add (the modal's form, then its submission) and the balance badge (twice: the layout polls it), pausing
`--think` seconds on average (0.5x to 1.5x, at random) between requests, as a person reading would. Users
sign in together (their password hashing is not part of the timed visits), then each starts at a random
moment within two pauses, so the run does not open with every user asking for the same page at once.
Requests go over keep-alive connections of Python's http.client, one per user, with the headers of the TLS
proxy (X-Forwarded-Proto: https), as in production. Figures: throughput of the whole run, and per step the
count, errors, p50 / p95 / p99 / max latency; the goals (issue 10) are checked on the last lines.

The DATABASE_URL names the server: the workspaces are those of bench/worklog.py (database
afterresume_bench_worklog). An existing one kept with `bench/worklog.py --keep` is reused as is; otherwise
it is filled here (the measured workspace and 50,000 entries of other workspaces) and dropped at the end,
unless `--keep`. Settings are the production ones with DEBUG off (bench/bench_settings.py).
"""

import argparse
import html
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import _common  # bench/ is on sys.path as the script's folder
import worklog as worklog_bench

ROOT = _common.ROOT
PASSWORD = "load-bench-password-7f3a"  # noqa: S105 - a throwaway account of the bench database
GOALS = [("timeline", 300.0), ("scroll", 300.0), ("balance badge", 50.0)]
SEARCHES = [worklog_bench.RARE_WORD, worklog_bench.EVERY_WORD, "billing latency"]
_NEXT = re.compile(r'class="ar-tl-more" hx-get="([^"]+)"')
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="simulated users at once")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load after the sign-ins")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's requests (s)")
    parser.add_argument("--size", type=int, default=100_000, help="entries of the measured workspace")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--workers", type=int, default=0, help="WEB_CONCURRENCY (0: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=0, help="GUNICORN_THREADS (0: gunicorn.conf.py's)")
    parser.add_argument("--compare", action="store_true", help="run 3 sync workers, then the default")
    parser.add_argument(
        "--configs",
        default="",
        help="runs as class:workers:threads, comma-separated (e.g. sync:3:1,gthread:3:2)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="keep a bench database filled by this run")
    return parser.parse_args()


# ------------------------------------------------------------------------------------------ set-up


def prepare(url: str, size: int, media: str) -> tuple[str, callable]:
    """The bench database with the measured workspace in it, and what removes it afterwards."""
    bench_url = _common.named_database_url(url, worklog_bench.BENCH_DB)
    reuse = _common.database_exists(bench_url)
    if not reuse:
        bench_url, cleanup = _common.prepare_database(url, worklog_bench.BENCH_DB)
    collected = (worklog_bench.STATIC_ROOT / "staticfiles.json").exists()  # collected by a bench run before
    worklog_bench.setup_django(bench_url, media, collect_static=not collected)
    from django.core.management import call_command
    from django.db import connection

    from apps.accounts.models import Tenant

    call_command("migrate", verbosity=0, interactive=False)
    if not Tenant.objects.filter(slug=f"bench-{size}").exists():
        seconds = worklog_bench.fill([size], 50_000, 5)
        print(f"filled {size + 50_000:,} entries in {seconds:.0f} s")
        reuse = False
    else:
        print(f"reusing the workspace of {size:,} entries in {worklog_bench.BENCH_DB}")
    connection.close()
    return bench_url, (lambda: None) if reuse else cleanup


def sign_in_ready(size: int) -> str:
    """The workspace owner's e-mail, with a password and a verified address so the sign-in form admits it."""
    from allauth.account.models import EmailAddress

    owner, _tenant = worklog_bench.workspace(size)
    owner.set_password(PASSWORD)
    owner.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=owner, email=owner.email, defaults={"verified": True, "primary": True}
    )
    return owner.email


def start_server(database_url: str, media: str, port: int, worker_class: str, workers: int, threads: int):
    env = {
        **os.environ,
        **worklog_bench.production_environment(database_url, media),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKER_CLASS": worker_class,
        "GUNICORN_ACCESS_LOG": "",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and config
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "afterresume.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/healthz/")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit("gunicorn did not answer /api/healthz/ within 60 s")


def stop_server(server) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# ------------------------------------------------------------------------------------------ a user


@dataclass
class Record:
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, step: str, ms: float, error: str = "") -> None:
        with self.lock:
            self.samples.setdefault(step, []).append(ms)
            if error:
                self.errors.setdefault(step, []).append(error)


class RunOver(Exception):
    """The run's time is up: the user stops in the middle of its visit."""


class User:
    """One person's browser: a keep-alive connection, cookies, the CSRF token."""

    def __init__(self, port: int, record: Record, rng: random.Random, think: float, stop: threading.Event):
        self.host = f"127.0.0.1:{port}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.record, self.rng, self.think, self.stop = record, rng, think, stop

    def pause(self) -> None:
        """A person's pause between requests; ends the visit once the run is over."""
        if self.stop.wait(self.think * self.rng.uniform(0.5, 1.5) if self.think else 0):
            raise RunOver

    def request(self, step: str, method: str, path: str, *, form: dict | None = None, htmx: bool = False,
                expect: tuple[int, ...] = (200,)) -> tuple[int, str]:  # fmt: skip
        headers = {"Host": self.host, "X-Forwarded-Proto": "https", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if htmx:
            headers["HX-Request"] = "true"
        body = None
        if form is not None:
            body = urlencode(form)
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": f"https://{self.host}",
                    "Referer": f"https://{self.host}/log/",
                    "X-CSRFToken": self.cookies.get("csrftoken", ""),
                }
            )
        started = time.perf_counter()
        try:
            response, text = self._send(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.record.add(step, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}")
            return 0, ""
        ms = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        error = "" if response.status in expect else f"HTTP {response.status} on {path}"
        self.record.add(step, ms, error)
        return response.status, text

    def _send(self, method: str, path: str, body, headers: dict):
        """One request and its body. A kept-alive connection the server closed while idle is reopened and
        the GET sent again once, as browsers do (counted as `retried`); anything else is an error."""
        reused = self.connection.sock is not None
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused or method != "GET":
                raise
            self.connection.close()
            self.record.add("retried", 0.0)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        return response, response.read().decode("utf-8", "replace")

    def sign_in(self, email: str) -> bool:
        _status, page = self.request("sign-in form", "GET", "/accounts/login/")
        token = _CSRF_INPUT.search(page)
        status, _ = self.request(
            "sign in",
            "POST",
            "/accounts/login/",
            form={
                "login": email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            expect=(302,),
        )
        return status == 302 and "sessionid" in self.cookies

    def visit(self, number: int) -> None:
        _status, page = self.request("timeline", "GET", "/log/")
        self.pause()
        for _ in range(2):
            found = _NEXT.search(page)
            if not found:
                break
            _status, page = self.request("scroll", "GET", html.unescape(found.group(1)), htmx=True)
            self.pause()
        words = SEARCHES[number % len(SEARCHES)]
        self.request("search", "GET", "/log/?" + urlencode({"q": words}), htmx=True)
        self.pause()
        self.request("balance badge", "GET", "/billing/balance/badge/", htmx=True)
        self.pause()
        self.request("quick-add form", "GET", "/log/quick-add/", htmx=True)
        self.pause()
        entry = {
            "occurred_on": time.strftime("%Y-%m-%d"),
            "title": f"Load run entry {number} ({self.rng.randrange(10**6)})",
            "body": "Written by bench/load.py.",
            "impact": "",
            "employer": "Acme",
            "project": "",
            "skills": "Python, SQL",
            "tags": "launch",
        }
        self.request("quick add", "POST", "/log/quick-add/", form=entry, htmx=True)
        self.pause()
        self.request("balance badge", "GET", "/billing/balance/badge/", htmx=True)
        self.pause()


def run_load(port: int, email: str, users: int, duration: float, think: float) -> tuple[Record, float]:
    record = Record()
    signed_in = threading.Barrier(users + 1)
    stop = threading.Event()

    def user_loop(number: int) -> None:
        user = User(port, record, random.Random(number), think, stop)
        ok = user.sign_in(email)
        try:
            signed_in.wait(timeout=300)
        except threading.BrokenBarrierError:
            return
        if not ok:
            record.add("sign in", 0.0, "not signed in")
            return
        visit = number
        try:
            # Signed in together, people do not then click together: each starts within two pauses,
            # instead of all 20 asking for the timeline in the same millisecond.
            if stop.wait(think * user.rng.uniform(0, 2)):
                raise RunOver
            while not stop.is_set():
                user.visit(visit)
                visit += 1
        except RunOver:
            pass
        user.connection.close()

    threads = [threading.Thread(target=user_loop, args=(n,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    signed_in.wait(timeout=300)
    started = time.perf_counter()
    stop.wait(duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    return record, time.perf_counter() - started


# ------------------------------------------------------------------------------------------ report


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def report(title: str, record: Record, seconds: float) -> bool:
    retried = len(record.samples.pop("retried", []))
    total = sum(len(values) for step, values in record.samples.items() if "sign" not in step)
    errors = sum(len(values) for values in record.errors.values())
    print(f"\n{title}")
    print(f"{total:,} requests in {seconds:.0f} s after the sign-ins: {total / seconds:.1f} requests/s; "
          f"{errors} errors; {retried} GETs sent again after an idle connection was closed")  # fmt: skip
    header = (
        f"{'step':<16} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for step, values in record.samples.items():
        print(
            f"{step:<16} {len(values):>6} {len(record.errors.get(step, [])):>6} "
            + " ".join(f"{percentile(values, share):>8.0f}" for share in (0.5, 0.95, 0.99))
            + f" {max(values):>8.0f}"
        )
    ok = errors == 0
    for step, limit in GOALS:
        values = record.samples.get(step, [])
        p95 = percentile(values, 0.95) if values else float("inf")
        ok = ok and p95 < limit
        print(f"goal: {step} p95 < {limit:.0f} ms: {p95:.0f} ms {'PASS' if p95 < limit else 'FAIL'}")
    print(f"goal: zero errors: {errors} {'PASS' if errors == 0 else 'FAIL'}")
    for step, messages in record.errors.items():
        print(f"  {step}: {messages[:3]}")
    return ok


def main() -> int:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not _common.is_postgres(url):
        raise SystemExit("bench/load.py runs on PostgreSQL: set DATABASE_URL=postgres://...")
    media = tempfile.mkdtemp(prefix="afterresume-load-media-")
    bench_url, cleanup = prepare(url, args.size, media)
    runs = [(args.worker_class, args.workers, args.threads)]
    if args.compare:
        runs = [("sync", 3, 1), *runs]
    if args.configs:
        runs = [(kind, int(workers), int(threads)) for kind, workers, threads in
                (config.split(":") for config in args.configs.split(","))]  # fmt: skip
    ok = True
    try:
        email = sign_in_ready(args.size)
        from django.db import connections

        connections.close_all()
        print(
            f"{args.users} users, {args.duration:.0f} s each run, think {args.think:.2f} s, workspace of "
            f"{args.size:,} entries; {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.2f}"
        )
        for worker_class, workers, threads in runs:
            server = start_server(bench_url, media, args.port, worker_class, workers, threads)
            try:
                record, seconds = run_load(args.port, email, args.users, args.duration, args.think)
            finally:
                stop_server(server)
            shape = f"{workers or 'default'} workers" + (
                f" x {threads or 'default'} threads" if worker_class == "gthread" else ""
            )
            title = f"gunicorn {worker_class}, {shape} (load average now {os.getloadavg()[0]:.2f})"
            ok = report(title, record, seconds) and ok
    finally:
        if args.keep:
            print(f"kept the bench database: {bench_url}")
        else:
            cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
