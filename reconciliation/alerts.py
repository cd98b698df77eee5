"""Telling people what a run found: a structured log line, and a Slack-compatible POST
({"text": …}) when ALERT_WEBHOOK_URL is set, once per new or changed finding — a re-run of an
unchanged day, or of findings finance already resolved, sends nothing. A failing alert
endpoint is logged and never fails the run."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from typing import Any

from models.money import format_minor
from models.reconciliation import DiscrepancyStatus, RunStatus

log = logging.getLogger("midway.reconciliation.alerts")

TIMEOUT_S = 5.0


def changes(
    report: dict[str, Any], previous: set[str] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """(findings new or changed since the run this one superseded and not resolved,
    fingerprints of that run's findings that are gone). `previous` None: the day's first run."""
    before = previous or set()
    new = [
        item
        for item in report["discrepancies"]
        if item["fingerprint"] not in before and item["status"] != DiscrepancyStatus.RESOLVED
    ]
    current = {item["fingerprint"] for item in report["discrepancies"]}
    return new, sorted(before - current)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word.replace('ancy', 'ancie')}s"


def summary(report: dict[str, Any], new: list[dict[str, Any]], gone: list[str]) -> str:
    """One short paragraph: day, account, what is new or what changed, net differences, run."""
    outstanding = sum(
        1 for item in report["discrepancies"] if item["status"] != DiscrepancyStatus.RESOLVED
    )
    if new:
        kinds = Counter(item["kind"] for item in new)
        by_kind = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        news = "new discrepancy" if len(new) == 1 else "new discrepancies"
        what = f"{len(new)} {news} — {by_kind}."
        if outstanding > len(new):
            what += f" {_plural(outstanding, 'discrepancy')} open in all."
    elif report["status"] == RunStatus.RESOLVED:
        count = report["counts"]["discrepancies"]
        every = "its discrepancy" if count == 1 else f"all {count} discrepancies"
        what = f"{every} resolved or accepted by finance; nothing is open."
    elif report["status"] == RunStatus.CLEAN:
        what = "now clean: Stripe and the ledger agree."
    else:
        what = (
            f"{_plural(len(gone), 'discrepancy')} no longer found; "
            f"{_plural(outstanding, 'discrepancy')} still open."
        )
    differences = [
        format_minor(int(row["difference_net"]), row["currency"]) + f" {row['currency'].upper()}"
        for row in report["totals"]
        if int(row["difference_net"]) != 0
    ]
    net = f" Net difference (Stripe − ledger): {', '.join(differences)}." if differences else ""
    name = f" {report['account_name']}" if report.get("account_name") else ""
    return (
        f"Reconciliation of {report['date']} ({report['account']}{name}, "
        f"{report['timezone']}): {what}{net} "
        f"Run {report['run_id']}: `midway recon show --run-id {report['run_id']}`."
    )


def announce(
    report: dict[str, Any],
    previous: set[str] | None,
    webhook_url: str | None,
    *,
    timeout_s: float = TIMEOUT_S,
) -> bool:
    """Log and (with a URL) post an alert when the findings changed since the run this one
    superseded: new or changed findings, or findings gone (a day now resolved or clean). A
    re-run that changes nothing, and a first run that is clean, say nothing. Returns whether
    the webhook accepted an alert; never raises because of the webhook."""
    new, gone = changes(report, previous)
    if not new and not gone:
        return False
    kinds = Counter(item["kind"] for item in new)
    log.warning(
        json.dumps(
            {
                "event": "reconciliation.discrepancies" if new else "reconciliation.changed",
                "run_id": report["run_id"],
                "date": report["date"],
                "timezone": report["timezone"],
                "account": report["account"],
                "status": report["status"],
                "discrepancies": report["counts"]["discrepancies"],
                "new": len(new),
                "gone": len(gone),
                "by_kind": dict(sorted(kinds.items())),
                "difference_net": {
                    row["currency"]: int(row["difference_net"]) for row in report["totals"]
                },
            },
            sort_keys=True,
        )
    )
    if not webhook_url:
        return False
    return post_webhook(webhook_url, {"text": summary(report, new, gone)}, timeout_s=timeout_s)


def payout_batching_failed(item: dict[str, Any], webhook_url: str | None) -> bool:
    """Alert that a payout batch failed at Stripe, or a batching period was refused
    (`item`: payments.payout_batching.Attention as a dict). Never raises for the webhook."""
    log.warning(json.dumps({"event": "payouts.batching_failed", **item}, sort_keys=True))
    if item["what"] == "batch":
        amount = format_minor(int(item["amount"]), item["currency"])
        text = (
            f"Payout batch {item['batch_id']} of {item['period']} failed: {amount} "
            f"{item['currency'].upper()} to carrier {item['carrier']} ({item['stripe_account']})"
            f" — {item['reason']}. The money stays on the carrier's connected balance and goes "
            f"out with the next batch once the cause is fixed; see /reports."
        )
    else:
        text = f"Payout batching for {item['period']} was refused: {item['reason']}."
    if not webhook_url:
        return False
    return post_webhook(webhook_url, {"text": text})


def post_webhook(url: str, payload: dict[str, Any], *, timeout_s: float = TIMEOUT_S) -> bool:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            response.read()
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("reconciliation alert to %s failed: %s", _host(url), error)
        return False


def _host(url: str) -> str:
    """The webhook's host only: Slack URLs carry their secret in the path."""
    return urllib.parse.urlparse(url).netloc or "(invalid URL)"
