"""What one test run keeps to itself, so that several runs can share a machine: its temporary
folders (pytest's basetemp, which by default sits in /tmp/pytest-of-<user>, where every other
run re-permissions and prunes) and the embedded PostgreSQL in private folders, stopped and
removed at the end; and Dramatiq queues under a namespace of their own on a shared Redis, so
that flushing ours never drops another run's messages."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from redis import Redis


def run_namespace() -> str:
    return f"dramatiq-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def private_embedded_dir() -> Path:
    """A folder only this run (and user) can enter: mkdtemp creates it 0700."""
    return Path(tempfile.mkdtemp(prefix="midway-test-pg-"))


def private_basetemp() -> Path:
    return Path(tempfile.mkdtemp(prefix="midway-pytest-"))


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server kept in data_dir (its child processes too) and delete it."""
    from models.db import embedded_server

    embedded_server(data_dir).cleanup()
    shutil.rmtree(data_dir, ignore_errors=True)


def delete_namespace(client: Redis, namespace: str) -> None:
    keys = list(client.scan_iter(match=f"{namespace}*", count=500))
    if keys:
        client.delete(*keys)
