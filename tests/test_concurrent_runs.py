"""Two test runs on one machine keep out of each other's way: this run's Dramatiq queues live
under its own namespace on the shared Redis (flushing them leaves another run's messages), and
its embedded PostgreSQL, when used, lives in a private folder outside pytest's shared one."""

from __future__ import annotations

import getpass
import stat
import tempfile
from pathlib import Path

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from run_isolation import (
    delete_namespace,
    private_basetemp,
    private_embedded_dir,
    run_namespace,
)


def test_flushing_this_runs_queues_leaves_another_runs_messages(broker):
    other_run = RedisBroker(client=broker.client, namespace=run_namespace())
    assert other_run.namespace != broker.namespace
    try:
        other_run.declare_queue("charges")
        other_run.enqueue(
            dramatiq.Message(
                queue_name="charges", actor_name="advance_payment", args=(1,), kwargs={}, options={}
            )
        )
        broker.flush_all()
        assert other_run.do_qsize("charges") == 1
    finally:
        delete_namespace(broker.client, other_run.namespace)


def test_temporary_folders_are_private_to_this_run(tmp_path_factory, tmp_path):
    """Not under /tmp/pytest-of-<user>, which every other run re-permissions (the embedded
    PostgreSQL opens the folders above its data to its own system user) and prunes."""
    basetemp = tmp_path_factory.getbasetemp().resolve()
    shared = Path(tempfile.gettempdir()).resolve() / f"pytest-of-{getpass.getuser()}"
    assert shared not in basetemp.parents and basetemp.name.startswith("midway-pytest-")
    assert basetemp in tmp_path.resolve().parents
    # Created private (0700). The session's own basetemp may have been widened since, by the
    # embedded PostgreSQL wheel, which opens its parent folders for traversal (g+rx, o+rx).
    for folder in (private_basetemp(), private_embedded_dir()):
        try:
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
            assert shared not in folder.resolve().parents
        finally:
            folder.rmdir()
