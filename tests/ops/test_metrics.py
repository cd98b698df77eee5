"""/metrics: only for the scraper holding METRICS_TOKEN, and under gunicorn (the Procfile's web
line) every scrape sees the whole process group, whichever worker answers it."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import psutil
import requests
from ci import IN_CI
from loopback_processes import (
    BIN,
    PrivateRedis,
    free_port,
    kill_group,
    procfile,
    spawn,
    start_procfile_process,
    wait_until,
)

ROOT = Path(__file__).parents[2]


def with_token(app: Any, token: str | None) -> Any:
    state = app.extensions["midway"]
    state.settings = dataclasses.replace(state.settings, metrics_token=token)
    return app.test_client()


def test_metrics_are_refused_until_a_token_is_set(app: Any) -> None:
    refused = with_token(app, None).get("/metrics")
    assert refused.status_code == 403
    assert "METRICS_TOKEN" in refused.json["error"]["message"]


def test_metrics_need_the_token(app: Any) -> None:
    client = with_token(app, "s3cret-scrape")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer other"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert right.status_code == 200 and "midway_http_requests_total" in right.text
    assert client.get("/healthz").status_code == 200  # probes stay open


def healthz_count(text: str) -> float:
    match = re.search(
        r'^midway_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$',
        text,
        re.M,
    )
    return float(match.group(1)) if match else 0.0


def test_every_scrape_sums_every_gunicorn_worker(
    committed_database_url: str, tmp_path: Path
) -> None:
    redis_server = PrivateRedis(tmp_path, require_binary=IN_CI)
    redis_server.start()
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": committed_database_url,
        "REDIS_URL": redis_server.url,
        "WEB_BIND": f"127.0.0.1:{port}",
        "METRICS_TOKEN": "scrape",
        "PROMETHEUS_METRICS": "off",
        # The probes come from one address faster than its throttle allows (web/address_throttle):
        # this test is about summing the workers, so the throttle is lifted for it.
        "ADDRESS_RATE_LIMIT_PER_S": "10000",
    }
    web = start_procfile_process(procfile(ROOT / "Procfile")["web"], tmp_path / "web.log", env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 30, "web")
        probes = 40
        for _ in range(probes - 1):  # a new connection each: the workers share them out
            assert requests.get(f"{base}/healthz", timeout=5).ok
        auth = {"Authorization": "Bearer scrape", "Connection": "close"}
        seen = [
            healthz_count(requests.get(f"{base}/metrics", headers=auth, timeout=5).text)
            for _ in range(12)
        ]
        # wait_until's successful probe is the 40th; every scrape sees all of them.
        assert seen == [float(probes)] * len(seen), (seen, (tmp_path / "web.log").read_text())
    finally:
        kill_group(web, sig=15)
        redis_server.stop()


def test_the_workers_exporter_listens_where_the_settings_say(
    committed_database_url: str, tmp_path: Path
) -> None:
    redis_server = PrivateRedis(tmp_path, require_binary=IN_CI)
    redis_server.start()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": committed_database_url,
        "REDIS_URL": redis_server.url,
        "PROMETHEUS_METRICS": "on",
        "WORKER_METRICS_PORT": str(port),
        "WORKER_PROCESSES": "2",
        "WORKER_THREADS": "1",
    }
    worker = spawn([str(BIN / "midway"), "worker"], tmp_path / "worker.log", env)
    try:
        scrape = f"http://127.0.0.1:{port}/"
        wait_until(lambda: requests.get(scrape, timeout=1).ok, 60, "the workers' exporter")
        listening = {
            connection.laddr.ip
            for connection in psutil.net_connections("tcp")
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
        }
        assert listening == {"127.0.0.1"}  # WORKER_METRICS_HOST's default: loopback only
    finally:
        kill_group(worker, sig=15)
        redis_server.stop()
        shutil.rmtree(Path(tempfile.gettempdir()) / f"midway-worker-metrics-{port}")
