"""Reading a day and working its discrepancies to closure: filters, sorting, formatting,
the required note, accept-and-book (and the re-run that matches it), the audit trail, and
what survives a re-run."""

from __future__ import annotations

from collections import Counter

import pytest
from report_helpers import reconcile
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from models import Discrepancy, DiscrepancyAction, LedgerLine, Posting
from models.db import transaction

PLANTED = {"missing_in_ledger", "missing_in_stripe", "unexpected_type", "fee_mismatch"}


def by_kind(sessions, run_id: int, kind: str) -> Discrepancy:
    with sessions() as session:
        return session.scalars(
            select(Discrepancy).where(Discrepancy.run_id == run_id, Discrepancy.kind == kind)
        ).one()


def test_the_planted_day_is_what_the_pages_show(report_day, browserless):
    assert Counter(d.kind for d in report_day.outcome.result.discrepancies) == Counter(PLANTED)
    client = browserless("finance")
    listing = client.get("/reports").get_data(as_text=True)
    assert f'data-day="{report_day.day}" data-account="platform"' in listing
    assert f'data-day="{report_day.clean_day}" data-account="platform"' in listing
    assert "badge discrepancies" in listing and "badge clean" in listing
    assert "<svg" in listing and "Discrepancies per day, last 30 days" in listing
    assert "0-1 days" in listing and ">30 days" not in listing.split("0-1 days")[0]
    page = client.get(f"/reports/{report_day.day}").get_data(as_text=True)
    # Each currency in its own decimals, with thousands separators.
    totals = {t.currency: t for t in report_day.outcome.result.totals}
    # usd: the 1,234.56 charge less our 10.00 refund, the Dashboard's 5.00 and the 20.00 dispute
    assert totals["usd"].stripe_amount == 1_199_56
    assert "$1,199.56" in page
    assert "¥15,000" in page  # jpy: no decimals
    assert "KWD 12.345" in page  # kwd: three decimals
    for kind in PLANTED:
        assert f'data-kind="{kind}"' in page
    assert "https://dashboard.stripe.com/test/search?query=txn_" in page
    assert "https://dashboard.stripe.com/test/refunds/re_" in page


def test_filters_and_sorting(report_day, browserless):
    client = browserless("finance")
    base = f"/reports/{report_day.day}?account=platform"
    page = client.get(f"{base}&kind=missing_in_stripe").get_data(as_text=True)
    assert page.count("data-kind=") == 1 and 'data-kind="missing_in_stripe"' in page
    page = client.get(f"{base}&currency=jpy").get_data(as_text=True)
    assert page.count("data-kind=") == 1 and 'data-kind="fee_mismatch"' in page
    page = client.get(f"{base}&status=resolved").get_data(as_text=True)
    assert "No discrepancy matches these filters." in page
    page = client.get(f"{base}&sort=kind").get_data(as_text=True)
    kinds = [k for k in page.split('data-kind="')[1:]]
    shown = [k.split('"')[0] for k in kinds]
    assert shown == sorted(shown)
    page = client.get(f"{base}&sort=kind&dir=desc").get_data(as_text=True)
    shown_desc = [k.split('"')[0] for k in page.split('data-kind="')[1:]]
    assert shown_desc == sorted(shown, reverse=True)
    # Unknown filter values are ignored, not errors.
    assert client.get(f"{base}&kind=nonsense&sort=drop_table").status_code == 200


def test_unknown_days_accounts_and_ids_are_404_pages(report_day, browserless):
    client = browserless("finance")
    for path in (
        "/reports/2026-13-45",
        "/reports/not-a-day",
        "/reports/2001-01-01",
        f"/reports/{report_day.day}?account=acct_nobody",
        f"/reports/{report_day.day}/download.pdf",
        "/reports/discrepancies/987654321",
        "/reports/a/b/c",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        body = response.get_data(as_text=True)
        assert "text/html" in response.content_type, path
        assert "Traceback" not in body and "<h1>" in body, path


def test_resolve_needs_a_note_and_survives_a_rerun(report_day, browserless, sessions, world):
    client = browserless("finance")
    ghost = by_kind(sessions, report_day.outcome.run_id, "missing_in_stripe")
    path = f"/reports/discrepancies/{ghost.id}"
    client.get(path)
    refused = client.post(f"{path}/resolve", {"note": "   "})
    assert refused.status_code == 422
    assert "a note is required" in refused.get_data(as_text=True)
    assert client.post(f"{path}/acknowledge", {"note": "looking"}).status_code == 303
    done = client.post(f"{path}/resolve", {"note": "Booked twice by hand; reversed in JE-77"})
    assert done.status_code == 303
    again = client.post(f"{path}/acknowledge")
    assert again.status_code == 409 and "is resolved" in again.get_data(as_text=True)

    rerun = reconcile(world, report_day.day)
    carried = by_kind(sessions, rerun.run_id, "missing_in_stripe")
    assert carried.id != ghost.id and carried.carried_from_id == ghost.id
    assert carried.status == "resolved"
    assert carried.resolution_note == "Booked twice by hand; reversed in JE-77"
    # The trail reads across runs; the old run's discrepancy can no longer be worked.
    page = client.get(f"/reports/discrepancies/{carried.id}").get_data(as_text=True)
    assert page.count("finance person (mwk_") >= 2 and "acknowledge" in page
    stale = client.post(f"{path}/reopen")
    assert stale.status_code == 409 and f"work discrepancy {carried.id}" in stale.get_data(
        as_text=True
    )
    assert client.post(f"/reports/discrepancies/{carried.id}/reopen").status_code == 303
    assert by_kind(sessions, rerun.run_id, "missing_in_stripe").status == "open"


@pytest.mark.parametrize(
    ("kind", "posting_kind"), [("missing_in_ledger", "refund"), ("unexpected_type", "adjustment")]
)
def test_accept_and_book_posts_the_adjustment_and_a_rerun_matches_it(
    report_day, browserless, sessions, world, kind, posting_kind
):
    client = browserless("admin")
    found = by_kind(sessions, report_day.outcome.run_id, kind)
    txn = found.stripe_balance_transaction
    path = f"/reports/discrepancies/{found.id}"
    page = client.get(path).get_data(as_text=True)
    assert "Accept and book" in page
    assert client.post(f"{path}/accept", {"note": ""}).status_code == 422
    assert (
        client.post(f"{path}/accept", {"note": "Customer refund agreed by phone"}).status_code
        == 303
    )
    with sessions() as session:
        posting = session.scalars(
            select(Posting).where(Posting.stripe_balance_transaction == txn)
        ).one()
        assert posting.kind == posting_kind and posting.dedupe_key == f"adjustment:{txn}"
        assert "Customer refund agreed by phone" in (posting.description or "")
        stripe_row = world.stripe_txn(txn)
        lines = session.scalars(select(LedgerLine).where(LedgerLine.posting_id == posting.id)).all()
        signed = {
            (line.memo or ""): (line.amount if line.side == "debit" else -line.amount)
            for line in lines
        }
        assert signed["net"] == stripe_row.net
        assert signed.get("fee", 0) == stripe_row.fee
        action = session.scalars(
            select(DiscrepancyAction).where(DiscrepancyAction.posting_id == posting.id)
        ).one()
        assert action.action == "accept_and_book" and action.to_status == "resolved"
    # Accepting twice does not book twice.
    assert client.post(f"{path}/accept", {"note": "again"}).status_code == 409
    rerun = reconcile(world, report_day.day)
    kinds = Counter(d.kind for d in rerun.result.discrepancies)
    assert kinds == Counter(PLANTED - {kind})
    assert all(d.stripe_balance_transaction != txn for d in rerun.result.discrepancies)


def test_only_activity_missing_from_the_ledger_can_be_booked(report_day, browserless, sessions):
    client = browserless("finance")
    fee = by_kind(sessions, report_day.outcome.run_id, "fee_mismatch")
    path = f"/reports/discrepancies/{fee.id}"
    assert "Accept and book" not in client.get(path).get_data(as_text=True)
    refused = client.post(f"{path}/accept", {"note": "try"})
    assert refused.status_code == 409 and "cannot be accepted by booking" in refused.get_data(
        as_text=True
    )


def test_the_audit_trail_cannot_be_edited(report_day, browserless, sessions):
    client = browserless("finance")
    ghost = by_kind(sessions, report_day.outcome.run_id, "missing_in_stripe")
    client.get(f"/reports/discrepancies/{ghost.id}")
    client.post(f"/reports/discrepancies/{ghost.id}/acknowledge")
    for statement in (
        "UPDATE discrepancy_actions SET actor = 'someone else'",
        "DELETE FROM discrepancy_actions",
        "TRUNCATE discrepancy_actions",
    ):
        with pytest.raises(DBAPIError, match="audit trail"):
            with transaction(sessions) as session:
                session.execute(text(statement))
    with sessions() as session:
        actors = session.scalars(select(DiscrepancyAction.actor)).all()
        assert len(actors) == 1 and actors[0].startswith("finance person (mwk_")
        triggers = session.scalars(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'discrepancy_actions_%' ORDER BY 1"
            )
        ).all()
    assert triggers == ["discrepancy_actions_append_only", "discrepancy_actions_no_truncate"]
