"""Exactly once in effect, with real worker processes killed at random moments, Stripe failing
(500s, 429s, dropped connections, "commit then fail"), Redis losing everything and PostgreSQL
restarting. Each scenario prints its seed; a failure names it."""

from __future__ import annotations

import pytest
from scenario import Scenario  # type: ignore[import-not-found]

SEEDS = [11, 23, 37]


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkilled_workers_and_stripe_faults_still_charge_refund_and_pay_once(
    cluster, seed: int
) -> None:
    scenario = Scenario(cluster, seed)
    scenario.run(chaos=True)
    scenario.verify()
    print(f"seed {seed}: {scenario.kills} worker kills")
    assert scenario.kills > 0, f"seed {seed}: the chaos loop never killed a worker"


def test_redis_restarted_empty_mid_batch_loses_nothing(cluster) -> None:
    scenario = Scenario(cluster, 101)
    scenario.run(chaos=False, during=cluster.redis.restart)
    scenario.verify()


def test_postgresql_restarted_mid_batch_jobs_retry_and_post_nothing_twice(
    postgres_cluster,
) -> None:
    cluster, postgres = postgres_cluster
    scenario = Scenario(cluster, 202)
    scenario.run(chaos=False, during=postgres.restart)
    scenario.verify()
