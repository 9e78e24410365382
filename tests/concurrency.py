"""Helpers for tests that race real threads against PostgreSQL."""

import threading

import pytest
from django.db import connection, connections

needs_postgres = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="real row-lock races need PostgreSQL; SQLite serialises writers",
    ),
]


def run_in_threads(count: int, target, *, timeout: float = 120) -> list:
    """Start `count` threads at once on `target(index)`; return their results in order, raise their errors."""
    barrier = threading.Barrier(count)
    results = [None] * count
    errors = []

    def worker(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not errors, errors
    return results
