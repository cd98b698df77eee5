"""Payout batching through the real services and stripe_sim: thresholds, receivables,
payouts not enabled, failed payouts retried next period, instant payouts, in-flight batches."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from cli.main import cli
from models.db import transaction
from payments import chart, ledger, payout_batching, payouts

THRESHOLDS = {"usd": 10000, "eur": 10000, "jpy": 10000}
DAY1, DAY2, DAY3 = date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)


def batch(sessions: sessionmaker[Session], period: date) -> list[int]:
    with transaction(sessions) as session:
        ids, _ = payout_batching.create_batches(session, period, THRESHOLDS)
    return ids


def balances(market: Any, carrier_id: int) -> tuple[int, int, int]:
    """(owed, receivable, on the connected balance) in usd."""
    account = market.accounts[carrier_id]
    with market.sessions() as session:
        return (
            payouts.owed_to_carrier(session, carrier_id, "usd"),
            payouts.receivable_from_carrier(session, carrier_id, "usd"),
            ledger.balance(session, chart.stripe_balance(account).code, "usd").amount,
        )


def test_only_carriers_at_or_above_the_threshold_with_payouts_enabled_are_batched(market) -> None:
    below = market.carrier("Just Below")
    at = market.carrier("Right At")
    above = market.carrier("Just Above")
    pending = market.carrier("Still Onboarding", onboarded=False)
    market.pay(below, 9999)
    market.pay(at, 10000)
    market.pay(above, 10001)
    market.pay(pending, 50000)

    ids = batch(market.sessions, DAY1)
    made = {(b.carrier_id, b.amount, b.payout_amount, b.period) for b in market.batches()}
    assert made == {(at, 10000, 10000, DAY1), (above, 10001, 10001, DAY1)}
    for batch_id in ids:
        market.advance(batch_id)
    market.settle()
    assert {market.advance(batch_id) for batch_id in ids} == {"paid"}
    assert balances(market, at) == (0, 0, 0) and balances(market, above) == (0, 0, 0)
    # Below the threshold rolls over: one more cent next period and it goes out, in full.
    assert balances(market, below) == (9999, 0, 0)
    market.pay(below, 1)
    assert batch(market.sessions, DAY2) != []
    assert [(b.carrier_id, b.amount) for b in market.batches() if b.period == DAY2] == [
        (below, 10000)
    ]
    with market.sessions() as session:
        assert ledger.trial_balance(session) == {"usd": 0}


def test_a_refund_after_payout_is_netted_against_the_next_batch(market) -> None:
    carrier = market.carrier("Road Runner")
    payment = market.pay(carrier, 20000)  # the shipper paid 25000; 80% is the carrier's
    (first,) = batch(market.sessions, DAY1)
    market.advance(first)
    # Refund 5000 of the load after the carrier was paid: they owe back 4000.
    market.refund(payment, 5000)
    assert balances(market, carrier)[:2] == (0, 4000)
    # 13000 more: still only 9000 net, below the threshold.
    market.pay(carrier, 13000)
    assert batch(market.sessions, DAY2) == []
    market.pay(carrier, 1000)
    (second,) = batch(market.sessions, DAY3)
    (row,) = [b for b in market.batches() if b.id == second]
    assert (row.amount, row.receivable_offset, row.payout_amount) == (10000, 4000, 10000)
    market.advance(second)
    assert balances(market, carrier)[:2] == (0, 0)
    with market.sessions() as session:
        assert ledger.trial_balance(session) == {"usd": 0}


def test_a_failed_payout_stays_on_the_connected_balance_and_is_retried_next_period(
    market,
) -> None:
    carrier = market.carrier("Closed Bank")
    account = market.accounts[carrier]
    market.control(f"accounts/{account}/payout_failure", {"failure_code": "account_closed"})
    market.pay(carrier, 12000)
    (first,) = batch(market.sessions, DAY1)
    market.advance(first)
    market.settle()
    assert market.advance(first) == "failed"
    (failed,) = market.batches()
    assert (failed.status, failed.failure_code) == ("failed", "account_closed")
    assert balances(market, carrier) == (0, 0, 12000)  # transferred, back on their balance

    # The carrier fixes their bank; next period pays the stranded money (nothing to transfer).
    market.control(f"accounts/{account}/payout_failure", {"failure_code": None})
    (second,) = batch(market.sessions, DAY2)
    (retry,) = [b for b in market.batches() if b.id == second]
    assert (retry.amount, retry.payout_amount) == (0, 12000)
    market.advance(second)
    market.settle()
    assert market.advance(second) == "paid"
    assert balances(market, carrier) == (0, 0, 0)
    # New money plus a stranded balance go out together in one batch.
    market.control(f"accounts/{account}/payout_failure", {"failure_code": "no_account"})
    market.pay(carrier, 10000)
    (third,) = batch(market.sessions, DAY3)
    market.advance(third)
    market.settle()
    assert market.advance(third) == "failed"
    market.control(f"accounts/{account}/payout_failure", {"failure_code": None})
    market.pay(carrier, 500)
    (fourth,) = batch(market.sessions, date(2026, 3, 12))
    (combined,) = [b for b in market.batches() if b.id == fourth]
    assert (combined.amount, combined.payout_amount) == (500, 10500)
    market.advance(fourth)
    market.settle()
    assert market.advance(fourth) == "paid"
    assert balances(market, carrier) == (0, 0, 0)
    with market.sessions() as session:
        assert ledger.trial_balance(session) == {"usd": 0}


def test_an_instant_payout_leaves_room_for_its_fee(market) -> None:
    carrier = market.carrier("Fast Freight", method="instant")
    market.pay(carrier, 20000)
    (batch_id,) = batch(market.sessions, DAY1)
    (row,) = market.batches()
    reserve = payout_batching.instant_fee_reserve(20000)
    assert (row.method, row.amount, row.payout_amount) == ("instant", 20000, 20000 - reserve)
    market.advance(batch_id)
    market.settle()
    assert market.advance(batch_id) == "paid"
    left = balances(market, carrier)[2]
    assert 0 < left < reserve  # the reserve less Stripe's fee stays for a later batch


def test_a_batch_not_yet_run_is_not_paid_again_by_the_next_period(market) -> None:
    carrier = market.carrier("Slow Lane")
    market.pay(carrier, 15000)
    assert len(batch(market.sessions, DAY1)) == 1
    # The first batch has not transferred yet (Stripe down, say): its money is spoken for.
    assert batch(market.sessions, DAY2) == []
    market.pay(carrier, 10000)
    assert len(batch(market.sessions, DAY3)) == 1
    first, second = market.batches()
    assert (first.amount, second.amount) == (15000, 10000)
    for row in (first, second):
        market.advance(row.id)
    assert balances(market, carrier)[0] == 0


def test_midway_payouts_batch_dry_run_shows_table_and_json(
    market, committed_database_url: str
) -> None:
    rich = market.carrier("Big Haul")
    poor = market.carrier("Small Haul")
    market.pay(rich, 123456)
    market.pay(poor, 500)
    env = {"DATABASE_URL": committed_database_url}
    table = CliRunner().invoke(cli, ["payouts", "batch", "--dry-run"], env=env)
    assert table.exit_code == 0, table.output
    assert "Big Haul" in table.output and "$1,234.56" in table.output
    assert "Small Haul" not in table.output
    out = CliRunner().invoke(cli, ["payouts", "batch", "--dry-run", "--format", "json"], env=env)
    report = json.loads(out.output)
    assert [(c["carrier_id"], c["currency"], c["payout"]) for c in report["carriers"]] == [
        (rich, "usd", 123456)
    ]
    assert report["totals"] == {"usd": {"carriers": 1, "transfer": 123456, "payout": 123456}}
    assert market.batches() == []  # a dry run writes nothing
    bad = CliRunner().invoke(
        cli, ["payouts", "batch", "--dry-run"], env={**env, "PAYOUT_THRESHOLDS": '{"abc": 1}'}
    )
    assert bad.exit_code == 2 and "PAYOUT_THRESHOLDS" in bad.output


def test_midway_payouts_batch_creates_the_periods_batches_once(
    market, committed_database_url: str, broker, queued
) -> None:
    from jobs import runtime

    carrier = market.carrier("Once Only")
    market.pay(carrier, 30000)
    env = {"DATABASE_URL": committed_database_url}
    runtime.configure(sessions=market.sessions, gateway=market.gateway)
    try:
        args = ["payouts", "batch", "--period", "2026-03-10", "--format", "json"]
        first = json.loads(CliRunner().invoke(cli, args, env=env).output)
        again = json.loads(CliRunner().invoke(cli, args, env=env).output)
    finally:
        runtime.configure()
    assert (first["batches"], first["already_done"]) == (1, False)
    assert (again["batches"], again["already_done"]) == (0, True)
    (row,) = market.batches()
    assert (row.carrier_id, row.period, row.amount) == (carrier, DAY2, 30000)
    assert [m.args for m in queued("payouts")] == [(row.id,)]


def test_a_period_that_has_not_come_is_refused_recorded_and_alerted(
    market, committed_database_url: str, caplog
) -> None:
    import logging

    carrier = market.carrier("Too Early")
    market.pay(carrier, 30000)
    env = {"DATABASE_URL": committed_database_url}
    future = (date.today() + timedelta(days=2)).isoformat()
    with caplog.at_level(logging.WARNING, logger="midway.reconciliation.alerts"):
        dry = CliRunner().invoke(
            cli, ["payouts", "batch", "--dry-run", "--period", future], env=env
        )
        real = CliRunner().invoke(cli, ["payouts", "batch", "--period", future], env=env)
    for result in (dry, real):
        assert result.exit_code == 2 and f"period {future} has not ended" in result.output
    assert market.batches() == []
    with market.sessions() as session:
        (refused,) = payout_batching.needing_attention(session, since=DAY1)
    assert (refused.what, refused.period) == ("period", future)
    assert "has not ended" in refused.reason
    alerts = [json.loads(r.getMessage()) for r in caplog.records]
    assert [(a["event"], a["period"]) for a in alerts] == [("payouts.batching_failed", future)]


def test_dry_run_agrees_with_a_real_run_including_a_period_already_done(
    market, committed_database_url: str, broker
) -> None:
    from jobs import runtime

    carrier = market.carrier("Same Answer")
    market.pay(carrier, 30000)
    env = {"DATABASE_URL": committed_database_url}
    args = ["payouts", "batch", "--period", "2026-03-10", "--format", "json"]
    runtime.configure(sessions=market.sessions, gateway=market.gateway)
    try:
        dry = json.loads(CliRunner().invoke(cli, [*args, "--dry-run"], env=env).output)
        real = json.loads(CliRunner().invoke(cli, args, env=env).output)
        dry_after = json.loads(CliRunner().invoke(cli, [*args, "--dry-run"], env=env).output)
        again = json.loads(CliRunner().invoke(cli, args, env=env).output)
    finally:
        runtime.configure()
    assert (dry["batches"], dry["already_done"], dry["carriers"]) == (
        real["batches"],
        real["already_done"],
        real["carriers"],
    )
    assert (
        (dry_after["batches"], dry_after["already_done"], dry_after["carriers"])
        == (
            again["batches"],
            again["already_done"],
            again["carriers"],
        )
        == (0, True, [])
    )


def test_a_failed_batch_alerts_once_and_shows_for_finance(market, caplog) -> None:
    import logging

    from jobs import payouts as payout_jobs
    from jobs import runtime

    carrier = market.carrier("Closed Account")
    account = market.accounts[carrier]
    market.control(f"accounts/{account}/payout_failure", {"failure_code": "account_closed"})
    market.pay(carrier, 12000)
    (first,) = batch(market.sessions, DAY1)
    market.advance(first)
    market.settle()
    assert market.advance(first) == "failed"
    runtime.configure(sessions=market.sessions, gateway=market.gateway)
    try:
        with caplog.at_level(logging.WARNING, logger="midway.reconciliation.alerts"):
            assert payout_jobs.alert_payout_failures() == 1
            assert payout_jobs.alert_payout_failures() == 0  # once per batch
    finally:
        runtime.configure()
    (line,) = [json.loads(r.getMessage()) for r in caplog.records]
    assert (line["batch_id"], line["carrier"], line["amount"]) == (first, "Closed Account", 12000)
    assert "account_closed" in line["reason"]
    with market.sessions() as session:
        (shown,) = payout_batching.needing_attention(session, since=DAY1)
    assert (shown.batch_id, shown.stripe_account) == (first, account)
