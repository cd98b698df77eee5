"""gunicorn settings of the Procfile's web process: `gunicorn -c python:web.gunicorn_conf …`.

Prometheus' multiprocess mode, so that /metrics shows the whole process group whichever worker
answers the scrape: the values live in files under a private folder made for this gunicorn
master (prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is first imported, which this
module precedes, --preload or not), and the folder goes when the master exits.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

metrics_dir = tempfile.mkdtemp(prefix="midway-web-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, metrics_dir)


def on_exit(server: Any) -> None:
    shutil.rmtree(metrics_dir, ignore_errors=True)
