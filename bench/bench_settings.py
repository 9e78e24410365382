"""Production settings for the benchmarks (bench/worklog.py, bench/load.py): the project's own settings,
read with DEBUG off from the environment the bench sets, with static files collected into the bench's own
folder (BENCH_STATIC_ROOT) instead of the checkout's `staticfiles/`."""

import os

from afterresume.settings import *  # noqa: F403 - the production settings, unchanged but for the line below

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
