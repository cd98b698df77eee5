"""Worker processes export Dramatiq's Prometheus metrics when PROMETHEUS_METRICS is on."""

from __future__ import annotations

import requests
from loopback_processes import free_port, wait_until
from scenario import Scenario  # type: ignore[import-not-found]

from models import Payment


def test_a_worker_process_exposes_message_metrics(cluster) -> None:
    port = free_port()
    cluster.extra_env.update(PROMETHEUS_METRICS="on", dramatiq_prom_port=str(port))
    scenario = Scenario(cluster, 5)
    scenario.set_up_market(carriers=1)
    scenario.accept_payments(3)
    cluster.start_worker(0)
    scenario.drive(scenario.all_finished(Payment), chaos=False, timeout_s=60)

    def metrics() -> str:
        return requests.get(f"http://127.0.0.1:{port}/", timeout=2).text

    wait_until(lambda: 'actor_name="advance_payment"' in metrics(), 15, "prometheus metrics")
    assert "dramatiq_messages_total" in metrics()
    assert "dramatiq_message_duration_milliseconds" in metrics()
