"""The Procfile's three processes, plus stripe_sim, on real PostgreSQL and Redis: a payment made
over HTTP succeeds, and its day reconciles clean."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import requests
from ci import IN_CI
from loopback_processes import (
    BIN,
    PrivateRedis,
    free_port,
    kill_group,
    procfile,
    start_procfile_process,
    start_stripe_sim,
    wait_until,
)

ROOT = Path(__file__).parents[1]
API_KEY = "sk_test_midway"
WEBHOOK_SECRET = "whsec_procfile_smoke"


def test_procfile_processes_take_a_payment_to_a_clean_reconciliation(
    committed_database_url: str, tmp_path: Path
) -> None:
    redis_server = PrivateRedis(tmp_path, require_binary=IN_CI)
    redis_server.start()
    port = free_port()
    sim, sim_url = start_stripe_sim(
        tmp_path,
        API_KEY,
        "--webhook-url",
        f"http://127.0.0.1:{port}/api/webhooks/stripe",
        "--webhook-secret",
        WEBHOOK_SECRET,
    )
    env = {
        **os.environ,
        # As in an activated virtualenv: the Procfile names gunicorn and midway bare.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": committed_database_url,
        "REDIS_URL": redis_server.url,
        "STRIPE_API_BASE": sim_url,
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WEB_BIND": f"127.0.0.1:{port}",
        "PROMETHEUS_METRICS": "off",
        "WORKER_PROCESSES": "1",
        "WORKER_THREADS": "4",
    }
    processes = {}
    try:
        created = subprocess.run(
            [str(BIN / "midway"), "keys", "create", "--role", "admin", "--name", "smoke"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
        for name, command in procfile(ROOT / "Procfile").items():
            processes[name] = start_procfile_process(command, tmp_path / f"{name}.log", env)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 30, "web")

        def post(path: str, body: dict[str, object]) -> dict[str, object]:
            response = requests.post(
                f"{base}{path}",
                json=body,
                headers={**headers, "Idempotency-Key": f"smoke-{path}"},
                timeout=10,
            )
            assert response.status_code in (201, 202), response.text
            return response.json()  # type: ignore[no-any-return]

        customer = post(
            "/api/customers", {"name": "Smoke Foods", "email": "s@x.test", "external_id": "smoke"}
        )
        carrier = post(
            "/api/carriers",
            {
                "name": "Smoke Lines",
                "email": "c@x.test",
                "country": "US",
                "default_currency": "usd",
            },
        )
        payment = post(
            "/api/payments/intent",
            {
                "customer_id": customer["id"],
                "carrier_id": carrier["id"],
                "load_id": "smoke-1",
                "amount": 12345,
                "currency": "usd",
                "carrier_amount": 10000,
                "payment_method": "pm_card_bypassPending",
            },
        )

        def succeeded() -> bool:
            body = requests.get(
                f"{base}/api/payments/{payment['id']}", headers=headers, timeout=5
            ).json()
            return body["status"] == "succeeded"

        wait_until(succeeded, 60, "the payment to succeed")
        assert all(p.poll() is None for p in processes.values()), "a Procfile process died"

        today = datetime.now(UTC).date().isoformat()
        recon = subprocess.run(
            [
                str(BIN / "midway"),
                "recon",
                "run",
                "--date",
                today,
                "--source",
                "api",
                "--format",
                "json",
                "--quiet",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        assert recon.returncode == 0, recon.stdout + recon.stderr
        report = json.loads(recon.stdout)
        assert report["status"] == "clean"
        assert report["counts"]["stripe_rows"] >= 1 and report["counts"]["matched"] >= 1
    finally:
        for process in processes.values():
            kill_group(process, signal.SIGTERM)  # a clean stop: gunicorn removes its files
        kill_group(sim)
        redis_server.stop()
