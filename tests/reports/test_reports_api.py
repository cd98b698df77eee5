"""/api/reconciliation/runs for finance keys: list, by day, by id, and enqueueing a run."""

from __future__ import annotations

import csv
import io

from report_helpers import Browserless


def bearer(tokens, role="finance"):
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_list_by_day_and_by_id(report_day, app, tokens):
    client = app.test_client()
    listing = client.get("/api/reconciliation/runs", headers=bearer(tokens))
    assert listing.status_code == 200
    rows = listing.json["data"]
    assert [(r["date"], r["status"]) for r in rows] == [
        (report_day.day, "discrepancies"),
        (report_day.clean_day, "clean"),
    ]
    first = rows[0]
    assert first["counts"]["discrepancies"] == 4
    assert first["net_difference"] == {"jpy": -50, "usd": -82_00}
    day = client.get(f"/api/reconciliation/runs/{report_day.day}", headers=bearer(tokens, "admin"))
    assert day.status_code == 200 and day.json["run_id"] == report_day.outcome.run_id
    assert {d["kind"] for d in day.json["discrepancies"]} >= {"missing_in_ledger"}
    by_id = client.get(f"/api/reconciliation/runs/{first['id']}", headers=bearer(tokens))
    assert by_id.json["discrepancies"] == day.json["discrepancies"]
    filtered = client.get("/api/reconciliation/runs?status=clean&limit=1", headers=bearer(tokens))
    assert [r["date"] for r in filtered.json["data"]] == [report_day.clean_day]
    for path, status in (
        ("/api/reconciliation/runs/2001-01-01", 404),
        ("/api/reconciliation/runs/2026-02-30", 404),
        ("/api/reconciliation/runs/999999", 404),
        (f"/api/reconciliation/runs/{report_day.day}?account=acct_nobody", 404),
        ("/api/reconciliation/runs?since=yesterday", 422),
        ("/api/reconciliation/runs?limit=0", 422),
    ):
        assert client.get(path, headers=bearer(tokens)).status_code == status, path


def test_enqueue_a_run(report_day, app, tokens, queued):
    client = app.test_client()
    headers = {**bearer(tokens), "Idempotency-Key": "rerun-1"}
    body = {"date": report_day.day, "account": "platform"}
    first = client.post("/api/reconciliation/runs", json=body, headers=headers)
    assert first.status_code == 202 and first.json["status"] == "queued"
    replay = client.post("/api/reconciliation/runs", json=body, headers=headers)
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    messages = queued("reconciliation")
    assert [(m.actor_name, m.args) for m in messages] == [
        ("reconcile_day", (report_day.day, "platform", "UTC"))
    ]
    for bad, field in (
        ({"date": "2999-01-01"}, "date"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": report_day.day, "account": "acct_nobody"}, "account"),
        ({"account": "platform"}, "date"),
    ):
        refused = client.post("/api/reconciliation/runs", json=bad, headers=bearer(tokens))
        assert refused.status_code == 422 and refused.json["error"]["field"] == field, bad
    assert len(queued("reconciliation")) == 1


def test_rerun_button_enqueues_and_is_on_the_trail(report_day, browserless, queued):
    client: Browserless = browserless("finance")
    client.get(f"/reports/{report_day.day}")
    done = client.post(f"/reports/{report_day.day}/rerun", {"account": "platform"})
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="pending-rerun"' in page and 'http-equiv="refresh"' in page
    assert "rerun requested" in page
    assert [m.args for m in queued("reconciliation")] == [(report_day.day, "platform", "UTC")]


def test_downloads_carry_major_and_minor_units(report_day, browserless, app, tokens):
    client = browserless("finance")
    csv_response = client.get(f"/reports/{report_day.day}/download.csv")
    assert csv_response.headers["Content-Disposition"] == (
        f'attachment; filename="midway-reconciliation-{report_day.day}-platform.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True))))
    fee = next(r for r in rows if r["kind"] == "fee_mismatch")
    assert (
        fee["currency"] == "jpy" and fee["difference"] == "50" and fee["difference_minor"] == "50"
    )
    ghost = next(r for r in rows if r["kind"] == "missing_in_stripe")
    assert ghost["ledger_amount"] == "42.00" and ghost["ledger_amount_minor"] == "4200"
    xlsx = client.get(f"/reports/{report_day.day}/download.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    as_json = client.get(f"/reports/{report_day.day}/download.json").json
    api = app.test_client().get(
        f"/api/reconciliation/runs/{report_day.day}", headers=bearer(tokens)
    )
    assert as_json["discrepancies"] == api.json["discrepancies"]
