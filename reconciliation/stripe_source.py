"""Where Stripe's side of a run comes from: the API (through the local cache), the cache
alone, a report run made at Stripe, or an itemized report CSV finance downloaded.

API: balance transactions are listed newest first with `created[gte]`/`created[lt]`,
`limit=100` and `starting_after` pagination, as raw JSON pages parsed column-wise (no SDK
object per row), with the payouts of the same range for their status; then upserted into
the cache. A run re-fetches its own window plus the margins around it — Stripe can revise a
fee or a payout's status after the fact, and one day is cheap — but never other days.
The frame is then read back from the cache, margins included, so `timing` can be told from
`missing`.

Reports: `balance_change_from_activity.itemized.3` for the platform, the
`connected_account_…` variant for a carrier. A report covers exactly the day asked for
(a row outside it is an error), so it carries no margin and no payout status.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from models.db import transaction
from reconciliation import stripe_cache
from reconciliation.errors import ReportRunFailed, StripeFetchFailed
from reconciliation.itemized_report import parse_itemized_report
from reconciliation.progress import NoProgress, Progress
from reconciliation.raw_pages import frame_from_pages
from reconciliation.slices import Slice
from reconciliation.stripe_http import StripeHTTP
from reconciliation.window import DayWindow

PLATFORM = "platform"
PAGE_SIZE = 100
ITEMIZED = "balance_change_from_activity.itemized.3"
CONNECTED_ITEMIZED = "connected_account_balance_change_from_activity.itemized.3"


@dataclass(frozen=True)
class LoadRequest:
    """What a source is asked for: one account's day, the margin around it, and `now`."""

    window: DayWindow
    account: str
    margin_s: int
    now: int
    progress: Progress = field(default_factory=NoProgress)

    @property
    def start(self) -> int:
        return self.window.start - self.margin_s

    @property
    def end(self) -> int:
        return self.window.end + self.margin_s


class StripeSource(Protocol):
    kind: str  # api / cache / report / file, stored on the run
    detail: str | None  # file name, report run id, …

    @property
    def covers_margins(self) -> bool:
        """Whether `load` reads the margins around the day too (an itemized report does not)."""
        ...

    @property
    def http(self) -> StripeHTTP | None:
        """The client to look up a posting's claimed balance transaction at Stripe, if any."""
        ...

    def load(self, sessions: sessionmaker[Session], request: LoadRequest) -> pd.DataFrame:
        """The STRIPE frame for the request (may write the cache, never a run)."""
        ...


# --- API ------------------------------------------------------------------------------------


def list_pages(
    http: StripeHTTP, path: str, params: dict[str, Any], account: str, progress: Progress
) -> Iterator[dict[str, Any]]:
    """Every page of a Stripe list (newest first), following `starting_after`."""
    cursor: str | None = None
    while True:
        page = http.get_json(
            path, {**params, "limit": PAGE_SIZE, "starting_after": cursor}, account=account
        )
        data = page.get("data")
        if page.get("object") != "list" or not isinstance(data, list):
            raise StripeFetchFailed(f"Stripe's answer to {path} is not a list")
        progress.advance(len(data))
        yield page
        if not page.get("has_more") or not data:
            return
        cursor = str(data[-1]["id"])


def fetch_balance_transactions(
    http: StripeHTTP, account: str, start: int, end: int, progress: Progress | None = None
) -> pd.DataFrame:
    """The STRIPE frame of `account`'s balance transactions created in [start, end), with
    each payout's status from the payouts listed over the same range."""
    progress = progress or NoProgress()
    created = {"created": {"gte": int(start), "lt": int(end)}}
    pages = list(list_pages(http, "/v1/balance_transactions", created, account, progress))
    frame = frame_from_pages(pages, account)
    if frame["type"].isin(["payout"]).any():
        statuses: dict[str, str] = {}
        for page in list_pages(http, "/v1/payouts", created, account, NoProgress()):
            statuses.update({p["id"]: p["status"] for p in page["data"]})
        known = frame["source"].map(statuses)
        is_payout = frame["type"] == "payout"
        frame["source_status"] = frame["source_status"].mask(is_payout & known.notna(), known)
    return frame


@dataclass
class ApiSource:
    """Fetch the window (plus margins, up to now) into the cache, then read the cache."""

    http: StripeHTTP
    kind: str = "api"
    detail: str | None = None
    fetched: int = 0
    covers_margins: bool = True

    def load(self, sessions: sessionmaker[Session], request: LoadRequest) -> pd.DataFrame:
        self.refresh(sessions, request)
        return CacheSource().load(sessions, request)

    def refresh(self, sessions: sessionmaker[Session], request: LoadRequest) -> int:
        """Fetch the window and its margins (up to now) into the cache; return the count."""
        request.progress.stage("fetching from Stripe")
        end = min(request.end, request.now + 1)
        fetched = fetch_balance_transactions(
            self.http, request.account, request.start, end, request.progress
        )
        with transaction(sessions) as session:
            self.fetched = stripe_cache.store(session, fetched)
        hours = request.margin_s / 3600
        # More than the run's Stripe rows: the margins either side are fetched too.
        self.detail = (
            f"{self.fetched} rows fetched from {self.http.api_base} for the day and "
            f"{hours:g} h either side"
        )
        return self.fetched


@dataclass
class CacheSource:
    """Only what is already local (fetched earlier, or loaded in bulk)."""

    kind: str = "cache"
    detail: str | None = None
    currency: str | None = None  # one partition of a large day
    part: Slice | None = None  # one hash slice of that currency
    covers_margins: bool = True
    http: StripeHTTP | None = None

    def load(self, sessions: sessionmaker[Session], request: LoadRequest) -> pd.DataFrame:
        request.progress.stage("reading Stripe rows")
        with sessions() as session:
            frame = stripe_cache.load(
                session,
                request.account,
                request.start,
                request.end,
                currency=self.currency,
                part=self.part,
            )
        request.progress.advance(len(frame))
        return frame


# --- Reports -------------------------------------------------------------------------------


@dataclass
class ReportFileSource:
    """An itemized report CSV on disk (e.g. downloaded from the Dashboard by finance)."""

    path: Path
    http: StripeHTTP | None = None  # to look up claimed ids outside the report, if reachable
    kind: str = "file"
    detail: str | None = None
    covers_margins: bool = False

    def __post_init__(self) -> None:
        self.detail = str(self.path)

    def load(self, sessions: sessionmaker[Session], request: LoadRequest) -> pd.DataFrame:
        request.progress.stage("parsing report")
        with open(self.path, encoding="utf-8-sig", newline="") as handle:
            frame = parse_itemized_report(handle, request.window, account=request.account)
        request.progress.advance(len(frame))
        return frame[frame["account"] == request.account].reset_index(drop=True)


@dataclass
class ReportRunSource:
    """A report run made at Stripe for the day; its CSV downloaded and parsed."""

    http: StripeHTTP
    poll_s: float = 0.2
    timeout_s: float = 300.0
    kind: str = "report"
    detail: str | None = None
    covers_margins: bool = False

    def load(self, sessions: sessionmaker[Session], request: LoadRequest) -> pd.DataFrame:
        request.progress.stage("running Stripe report")
        body = self.fetch(request.window, request.account)
        request.progress.stage("parsing report")
        frame = parse_itemized_report(body, request.window, account=request.account)
        request.progress.advance(len(frame))
        return frame[frame["account"] == request.account].reset_index(drop=True)

    def fetch(self, window: DayWindow, account: str) -> str:
        """The CSV text of an itemized report over the window; ReportRunFailed if Stripe's
        report data does not cover the whole window yet."""
        report_type = ITEMIZED if account == PLATFORM else CONNECTED_ITEMIZED
        available = self.http.get_json(f"/v1/reporting/report_types/{report_type}")
        data_end = int(available.get("data_available_end") or 0)
        if data_end < window.end:
            raise ReportRunFailed(
                f"Stripe's {report_type} data is available only up to unix {data_end}, before "
                f"the end of {window.date}: the report would be incomplete; run it later or "
                f"use --source api"
            )
        parameters: dict[str, Any] = {"interval_start": window.start, "interval_end": window.end}
        if account != PLATFORM:
            parameters["connected_account"] = account
        run = self.http.post_json(
            "/v1/reporting/report_runs",
            {"report_type": report_type, "parameters": parameters},
            # Same interval over the same data horizon: the same report, so a retry reuses it;
            # once Stripe's data has moved on, a re-run asks for a new one.
            idempotency_key=f"report_run:{account}:{window.start}:{window.end}:{data_end}",
        )
        self.detail = f"report run {run['id']}"
        deadline = time.monotonic() + self.timeout_s
        while run.get("status") == "pending":
            if time.monotonic() > deadline:
                raise ReportRunFailed(
                    f"report run {run['id']} still pending after {self.timeout_s}s"
                )
            time.sleep(self.poll_s)
            run = self.http.get_json(f"/v1/reporting/report_runs/{run['id']}")
        if run.get("status") != "succeeded" or not isinstance(run.get("result"), dict):
            raise ReportRunFailed(f"report run {run['id']} {run.get('status')}: {run.get('error')}")
        return self.http.get(str(run["result"]["url"])).decode("utf-8-sig")
