"""A no-op actor on the project's broker: the baseline for bench/jobs.py."""

import dramatiq

import jobs.worker  # noqa: F401  (the broker must be set up before any actor is declared)


@dramatiq.actor(queue_name="bench_noop", max_retries=0)
def noop(index: int) -> None:
    return None
