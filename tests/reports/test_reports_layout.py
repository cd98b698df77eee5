"""Page details finance reads: chart labels inside the chart's frame, "1 discrepancy" in the
singular, and "not reconciled yet" only once the scheduler should have run yesterday."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from recon_plants import DAY, base_day, plant_missing_in_ledger, reconcile
from report_helpers import Browserless
from web_helpers import make_test_app

from web import charts

CHAR_PX = 6  # a tick label character at 10 px, as a browser renders it (about)


def test_chart_labels_stay_inside_the_frame_even_for_wide_money_figures() -> None:
    bars = [
        charts.Bar(f"2026-03-{day:02d}", value)
        for day, value in enumerate([123_456_789, -98_765_432, 0, 5, -1] * 6, start=1)
    ]
    svg = str(charts.bar_chart(bars, title="net", fmt=lambda v: f"-${abs(v) / 100:,.2f}"))
    texts = re.findall(r'<text x="(\d+)" y="\d+" text-anchor="(\w+)"[^>]*>([^<]*)</text>', svg)
    assert texts
    for x, anchor, label in texts:
        width = len(label) * CHAR_PX
        left = int(x) - (width if anchor == "end" else width // 2)
        right = int(x) + (0 if anchor == "end" else width // 2)
        assert 0 <= left and right <= charts.WIDTH, (label, x, anchor)


def test_one_discrepancy_is_singular(world, browserless) -> None:  # type: ignore[no-untyped-def]
    base = base_day(world)
    plant_missing_in_ledger(world, base)
    assert len(reconcile(world).result.discrepancies) == 1
    page = browserless("finance").get(f"/reports/{DAY}").get_data(as_text=True)
    assert re.search(r'id="discrepancy-count">1 discrepancy<', page)


def _local_noon_zone() -> str:
    """An Etc/GMT zone where it is about noon now, so RECON_AT 02:00 has passed and 23:00
    has not (Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3)."""
    offset = 12 - dt.datetime.now(dt.UTC).hour
    offset = max(min(offset, 12), -12)
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


@pytest.mark.parametrize(("recon_at", "due"), [("02:00", True), ("23:00", False)])
def test_not_reconciled_yet_only_once_the_nightly_run_is_due(  # type: ignore[no-untyped-def]
    sessions, gateway, tokens, recon_at: str, due: bool
) -> None:
    from web.context import state

    with make_test_app(sessions, gateway).app_context():
        defaults = state().settings
    settings = dataclasses.replace(defaults, recon_at=recon_at, recon_timezone=_local_noon_zone())
    app = make_test_app(sessions, gateway, SETTINGS=settings)
    client = Browserless(app.test_client())
    client.sign_in(tokens["finance"])
    page = client.get("/reports").get_data(as_text=True)
    assert ('id="not-reconciled"' in page) is due
    assert ('id="reconciled-tonight"' in page) is not due


def test_the_list_says_which_accounts_the_nightly_run_covered(  # type: ignore[no-untyped-def]
    sessions, browserless
) -> None:
    from models import ScheduledRun
    from models.db import transaction

    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    detail = {"covered": ["platform", "acct_1", "acct_2"], "found_only_at_stripe": ["acct_2"]}
    with transaction(sessions) as session:
        session.add(
            ScheduledRun(
                job="nightly_reconciliation", period=yesterday, status="done", detail=detail
            )
        )
    page = browserless("finance").get("/reports").get_data(as_text=True)
    assert "The nightly run covered 3 accounts, of which 1 only Stripe knew of" in page
    assert "<code>acct_2</code>" in page
