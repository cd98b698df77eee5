"""Telling people a run found discrepancies: a structured log line, and a Slack-compatible
POST ({"text": …}) when ALERT_WEBHOOK_URL is set. A failing alert endpoint is logged and
never fails the run."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from typing import Any

from models.money import format_minor

log = logging.getLogger("midway.reconciliation.alerts")

TIMEOUT_S = 5.0


def summary(report: dict[str, Any]) -> str:
    """One short paragraph: day, account, count by kind, net differences, run id."""
    kinds = Counter(item["kind"] for item in report["discrepancies"])
    by_kind = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    differences = [
        format_minor(int(row["difference_net"]), row["currency"]) + f" {row['currency'].upper()}"
        for row in report["totals"]
        if int(row["difference_net"]) != 0
    ]
    net = f" Net difference (Stripe − ledger): {', '.join(differences)}." if differences else ""
    count = report["counts"]["discrepancies"]
    return (
        f"Reconciliation of {report['date']} ({report['account']}, {report['timezone']}): "
        f"{count} discrepanc{'y' if count == 1 else 'ies'} — {by_kind}.{net} "
        f"Run {report['run_id']}: `midway recon show --run-id {report['run_id']}`."
    )


def alert_if_discrepancies(
    report: dict[str, Any], webhook_url: str | None, *, timeout_s: float = TIMEOUT_S
) -> bool:
    """Log and (with a URL) post an alert when the run has discrepancies. Returns whether
    the webhook accepted it; never raises because of the webhook."""
    if report["status"] != "discrepancies":
        return False
    kinds = Counter(item["kind"] for item in report["discrepancies"])
    log.warning(
        json.dumps(
            {
                "event": "reconciliation.discrepancies",
                "run_id": report["run_id"],
                "date": report["date"],
                "timezone": report["timezone"],
                "account": report["account"],
                "discrepancies": report["counts"]["discrepancies"],
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
    return post_webhook(webhook_url, {"text": summary(report)}, timeout_s=timeout_s)


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
