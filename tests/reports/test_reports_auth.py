"""Sign-in, roles and CSRF on every finance page and form (over the app's real HTTP stack
with Flask's client, against the test's PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from report_helpers import ReportDay
from sqlalchemy import select

from models import ApiKey, Discrepancy
from models.db import transaction


def pages(day: ReportDay, discrepancy_id: int) -> list[str]:
    return [
        "/reports",
        f"/reports/{day.day}",
        f"/reports/{day.day}?account=platform&kind=missing_in_ledger",
        f"/reports/{day.day}/download.csv",
        f"/reports/{day.day}/download.xlsx",
        f"/reports/{day.day}/download.json",
        f"/reports/discrepancies/{discrepancy_id}",
    ]


def forms(day: ReportDay, discrepancy_id: int) -> list[tuple[str, dict[str, str]]]:
    base = f"/reports/discrepancies/{discrepancy_id}"
    return [
        (f"/reports/{day.day}/rerun", {"account": "platform"}),
        (f"{base}/acknowledge", {}),
        (f"{base}/resolve", {"note": "checked"}),
        (f"{base}/reopen", {}),
        (f"{base}/accept", {"note": "accepted"}),
        ("/sign-out", {}),
    ]


def first_discrepancy(sessions, kind: str | None = None) -> int:
    with sessions() as session:
        query = select(Discrepancy.id).order_by(Discrepancy.id)
        if kind:
            query = query.where(Discrepancy.kind == kind)
        return int(session.scalars(query).first())


def test_cookie_flags_and_sign_in_for_finance_and_admin(report_day, browserless, tokens):
    for role in ("finance", "admin"):
        client = browserless(None)
        page = client.get("/sign-in")
        assert page.status_code == 200 and "text/html" in page.content_type
        cookie = page.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        before = client.token
        done = client.post(
            "/sign-in", {"api_key": tokens[role], "next": f"/reports/{report_day.day}"}
        )
        assert done.status_code == 303 and done.headers["Location"] == f"/reports/{report_day.day}"
        assert "Secure" in done.headers["Set-Cookie"]
        page = client.get(f"/reports/{report_day.day}")
        assert page.status_code == 200
        assert f"{role} person" in page.get_data(as_text=True)
        assert client.token != before  # the CSRF token rotates at sign-in


def test_every_page_needs_a_session_and_every_form_a_session(report_day, browserless, sessions):
    d = first_discrepancy(sessions)
    anonymous = browserless(None)
    for path in pages(report_day, d):
        response = anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/sign-in?next=/reports"), path
    anonymous.get("/sign-in")  # a token of an anonymous session: still no one signed in
    for path, data in forms(report_day, d)[:-1]:
        response = anonymous.post(path, data)
        assert response.status_code == 401, path
        assert "Sign in" in response.get_data(as_text=True)


def test_backend_and_bad_keys_cannot_sign_in(report_day, browserless, tokens, sessions):
    client = browserless(None)
    client.get("/sign-in")
    refused = client.post("/sign-in", {"api_key": tokens["backend"]})
    assert refused.status_code == 403
    assert "A backend key cannot open the finance reports" in refused.get_data(as_text=True)
    assert client.get("/reports").status_code == 303
    bad = client.post("/sign-in", {"api_key": "mwk_000000000000.nope"})
    assert bad.status_code == 401 and "not valid" in bad.get_data(as_text=True)


def test_every_form_refuses_a_missing_wrong_or_cross_site_token(report_day, browserless, sessions):
    d = first_discrepancy(sessions)
    client = browserless("finance")
    for path, data in forms(report_day, d):
        missing = client.post(path, data, token=False)
        assert missing.status_code == 403, path
        assert "no longer valid" in missing.get_data(as_text=True)
        # Another token for sure (the real one may itself begin with "x").
        wrong_first = "y" if client.token.startswith("x") else "x"
        wrong = client.post(path, {**data, "csrf_token": wrong_first + client.token[1:]})
        assert wrong.status_code == 403, path
        cross = client.post(path, data, headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403, path
        assert "another site" in cross.get_data(as_text=True)
    # Nothing happened: the discrepancy is still open and no action was recorded.
    page = client.get(f"/reports/discrepancies/{d}").get_data(as_text=True)
    assert "No action yet." in page
    # The sign-in form has one too (login CSRF).
    fresh = browserless(None)
    fresh.get("/sign-in")
    assert fresh.post("/sign-in", {"api_key": "x"}, token=False).status_code == 403


def test_a_revoked_key_ends_its_sessions_and_sign_out_works(report_day, browserless, sessions):
    client = browserless("finance")
    assert client.get("/reports").status_code == 200
    with transaction(sessions) as session:
        key = session.scalars(select(ApiKey).where(ApiKey.role == "finance")).one()
        key.revoked_at = datetime.now(UTC)
    assert client.get("/reports").status_code == 303
    other = browserless("admin")
    assert other.post("/sign-out").status_code == 303
    assert other.get("/reports").status_code == 303


@pytest.mark.parametrize("role", ["backend", None])
def test_api_refuses_backend_and_anonymous(report_day, app, tokens, role):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
    expected = 403 if role else 401
    for method, path in (
        ("get", "/api/reconciliation/runs"),
        ("get", f"/api/reconciliation/runs/{report_day.day}"),
        ("get", f"/api/reconciliation/runs/{report_day.outcome.run_id}"),
        ("post", "/api/reconciliation/runs"),
    ):
        kw = {"json": {"date": report_day.day}} if method == "post" else {}
        response = getattr(client, method)(path, headers=headers, **kw)
        assert response.status_code == expected, path
        assert response.is_json
