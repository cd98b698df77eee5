"""Signing out ends the session on the server: a copy of the cookie taken before is refused.
Revoking the key ends its sessions too."""

from __future__ import annotations

from datetime import UTC, datetime

from report_helpers import Browserless
from sqlalchemy import update

from models import ApiKey
from models.db import transaction


def copy_cookie(source: Browserless, target: Browserless) -> None:
    cookie = source.client.get_cookie("midway_session")
    assert cookie is not None
    target.client.set_cookie("midway_session", cookie.value)


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, tokens):
    person = Browserless(app.test_client())
    person.sign_in(tokens["finance"])
    thief = Browserless(app.test_client())
    copy_cookie(person, thief)
    assert thief.get("/reports").status_code == 200

    assert person.post("/sign-out").status_code == 303
    assert thief.get("/reports").status_code == 303  # back to the sign-in form
    assert "/sign-in" in thief.get("/reports").headers["Location"]

    person.sign_in(tokens["finance"])  # a new sign-in works again
    assert person.get("/reports").status_code == 200


def test_revoking_the_key_ends_its_sessions(app, tokens, sessions):
    person = Browserless(app.test_client())
    person.sign_in(tokens["finance"])
    with transaction(sessions) as session:
        session.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
    assert person.get("/reports").status_code == 303
