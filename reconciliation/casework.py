"""Working discrepancies to closure: acknowledge, resolve with a note, reopen, accept and book.

Every action is one row of the append-only `discrepancy_actions` audit trail (who, when, from
which status to which, the note, the posting booked) written in the same transaction as the
status change it records. The status and note live on the discrepancy, so a re-run of the day
carries them forward by fingerprint (runs.carry_forward); the trail of a finding reads across
runs by (day, account, fingerprint).

Concurrency with a re-run: an action takes the same advisory lock as `runs.finish_run` on the
day and account, then re-reads the run. Either the action commits first (and the re-run's
carry-forward sees it), or the re-run does, and the action is refused with RunSuperseded,
naming the current run, rather than lost on a run nobody reads any more.

"Accept and book" (Stripe activity our system did not initiate) writes an adjusting posting
through a `Booker` the caller passes in (payments/adjustments.py: this package does not
import payments), then resolves the discrepancy with the note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Discrepancy, DiscrepancyAction, ReconciliationRun
from models.reconciliation import CURRENT_RUN_STATUSES, DISCREPANCY_TRANSITIONS, DiscrepancyStatus
from reconciliation import runs
from reconciliation.errors import InvalidInput, ReconciliationError
from reconciliation.runs import lock_day

# Findings that are Stripe activity with no posting at all: the only ones finance can accept
# by booking what Stripe shows.
BOOKABLE_KINDS = frozenset({"missing_in_ledger", "unexpected_type"})
MAX_NOTE = 2000


class CaseworkError(ReconciliationError):
    """Root of the refusals of this module; the message is for the person who asked."""


class DiscrepancyNotFound(CaseworkError):
    """No discrepancy has that id."""


class NoteRequired(CaseworkError, InvalidInput):
    """Resolving (or accepting) needs a note that says why."""


class InvalidNote(CaseworkError, InvalidInput):
    """The note is too long or holds control characters."""


class TransitionRefused(CaseworkError):
    """The discrepancy's status does not allow that action (e.g. acknowledging a resolved one)."""


class RunSuperseded(CaseworkError):
    """The day was re-run: work the current run's discrepancy instead."""

    def __init__(self, message: str, current_run_id: int | None) -> None:
        super().__init__(message)
        self.current_run_id = current_run_id


class NotBookable(CaseworkError):
    """Only Stripe activity missing from the ledger, with one balance transaction, is booked."""


@dataclass(frozen=True)
class Actor:
    """Who acts: the name and non-secret prefix of the API key they signed in with."""

    name: str
    prefix: str | None = None
    api_key_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.prefix})" if self.prefix else self.name


# (session, balance transaction id, Stripe account, note, actor label) -> posting id
Booker = Callable[[Session, str, str, str, str], int]


def clean_note(note: str | None, *, required: bool) -> str | None:
    """The note stripped; NoteRequired / InvalidNote when it cannot be used."""
    stripped = (note or "").strip()
    if not stripped:
        if required:
            raise NoteRequired("a note is required: say why this is settled")
        return None
    if len(stripped) > MAX_NOTE:
        raise InvalidNote(f"the note is {len(stripped)} characters; at most {MAX_NOTE}")
    if any(ord(c) < 32 and c not in "\n\r\t" or ord(c) == 127 for c in stripped):
        raise InvalidNote("the note holds control characters")
    return stripped


def is_bookable(discrepancy: Discrepancy) -> bool:
    txn = discrepancy.stripe_balance_transaction
    return (
        discrepancy.kind in BOOKABLE_KINDS
        and txn is not None
        and "," not in txn
        and discrepancy.status in DISCREPANCY_TRANSITIONS["accept_and_book"][0]
    )


def _locked(session: Session, discrepancy_id: int) -> tuple[Discrepancy, ReconciliationRun]:
    """The discrepancy (row-locked) and its run, read after taking the day's lock."""
    found = session.get(Discrepancy, discrepancy_id)
    if found is None:
        raise DiscrepancyNotFound(f"no discrepancy {discrepancy_id}")
    run = session.get(ReconciliationRun, found.run_id)
    assert run is not None
    lock_day(session, run.day, run.account)
    discrepancy = session.get(
        Discrepancy, discrepancy_id, with_for_update=True, populate_existing=True
    )
    run = session.get(ReconciliationRun, found.run_id, populate_existing=True)
    assert discrepancy is not None and run is not None
    if run.superseded_by_id is not None:
        current = session.scalar(
            select(Discrepancy.id)
            .join(ReconciliationRun, ReconciliationRun.id == Discrepancy.run_id)
            .where(
                ReconciliationRun.day == run.day,
                ReconciliationRun.account == run.account,
                ReconciliationRun.superseded_by_id.is_(None),
                ReconciliationRun.status.in_(CURRENT_RUN_STATUSES),
                Discrepancy.fingerprint == discrepancy.fingerprint,
            )
        )
        raise RunSuperseded(
            f"{run.day} ({run.account}) was re-run after this page was loaded; "
            + (
                f"work discrepancy {current} of the current run instead"
                if current is not None
                else "the current run no longer reports this discrepancy"
            ),
            current,
        )
    return discrepancy, run


def _transition(
    session: Session,
    discrepancy_id: int,
    action: str,
    actor: Actor,
    note: str | None,
    *,
    booker: Booker | None = None,
) -> DiscrepancyAction:
    allowed, target = DISCREPANCY_TRANSITIONS[action]
    discrepancy, run = _locked(session, discrepancy_id)
    before = discrepancy.status
    if before not in allowed:
        raise TransitionRefused(
            f"discrepancy {discrepancy.id} is {before}; {action.replace('_', ' ')} applies to"
            f" {' or '.join(sorted(allowed))} discrepancies"
        )
    posting_id = None
    if action == "accept_and_book":
        if not is_bookable(discrepancy) or booker is None:
            raise NotBookable(
                f"a {discrepancy.kind} discrepancy cannot be accepted by booking it: only Stripe"
                " activity missing from the ledger (missing_in_ledger, unexpected_type) with a"
                " single balance transaction can"
            )
        assert note is not None and discrepancy.stripe_balance_transaction is not None
        posting_id = booker(
            session, discrepancy.stripe_balance_transaction, run.account, note, actor.label
        )
    discrepancy.status = target
    if target == DiscrepancyStatus.RESOLVED:
        discrepancy.resolution_note = note
    elif target == DiscrepancyStatus.OPEN:
        discrepancy.resolution_note = None
    entry = DiscrepancyAction(
        day=run.day,
        account=run.account,
        run_id=run.id,
        discrepancy_id=discrepancy.id,
        fingerprint=discrepancy.fingerprint,
        action=action,
        from_status=before,
        to_status=target,
        note=note,
        posting_id=posting_id,
        api_key_id=actor.api_key_id,
        actor=actor.label[:255],
    )
    session.add(entry)
    runs.refresh_status(session, run)  # the day is `resolved` once nothing is open
    return entry


def acknowledge(
    session: Session, discrepancy_id: int, actor: Actor, note: str | None = None
) -> DiscrepancyAction:
    """open → acknowledged: someone is on it (an optional note says what they are checking)."""
    return _transition(
        session, discrepancy_id, "acknowledge", actor, clean_note(note, required=False)
    )


def resolve(session: Session, discrepancy_id: int, actor: Actor, note: str) -> DiscrepancyAction:
    """open/acknowledged → resolved, with a required note that says why."""
    return _transition(session, discrepancy_id, "resolve", actor, clean_note(note, required=True))


def reopen(
    session: Session, discrepancy_id: int, actor: Actor, note: str | None = None
) -> DiscrepancyAction:
    """acknowledged/resolved → open (the resolution note is cleared; the trail keeps it)."""
    return _transition(session, discrepancy_id, "reopen", actor, clean_note(note, required=False))


def accept_and_book(
    session: Session, discrepancy_id: int, actor: Actor, note: str, booker: Booker
) -> DiscrepancyAction:
    """Book the Stripe activity as an adjusting posting carrying the note, and resolve."""
    return _transition(
        session,
        discrepancy_id,
        "accept_and_book",
        actor,
        clean_note(note, required=True),
        booker=booker,
    )


def request_rerun(
    session: Session, day: dt.date, account: str, actor: Actor, run_id: int | None = None
) -> DiscrepancyAction:
    """Record that someone asked for the day to be reconciled again (the caller enqueues)."""
    entry = DiscrepancyAction(
        day=day,
        account=account,
        run_id=run_id,
        action="rerun_requested",
        api_key_id=actor.api_key_id,
        actor=actor.label[:255],
    )
    session.add(entry)
    session.flush()
    return entry


def history(
    session: Session, day: dt.date, account: str, fingerprint: str
) -> list[DiscrepancyAction]:
    """Every action on this finding, across re-runs of its day, oldest first."""
    return list(
        session.scalars(
            select(DiscrepancyAction)
            .where(
                DiscrepancyAction.day == day,
                DiscrepancyAction.account == account,
                DiscrepancyAction.fingerprint == fingerprint,
            )
            .order_by(DiscrepancyAction.at, DiscrepancyAction.id)
        )
    )


def day_actions(session: Session, day: dt.date, account: str) -> list[DiscrepancyAction]:
    """The day's whole trail (every discrepancy and re-run request), newest first."""
    return list(
        session.scalars(
            select(DiscrepancyAction)
            .where(DiscrepancyAction.day == day, DiscrepancyAction.account == account)
            .order_by(DiscrepancyAction.at.desc(), DiscrepancyAction.id.desc())
        )
    )


def last_actions(session: Session, day: dt.date, account: str) -> dict[str, DiscrepancyAction]:
    """The latest action per fingerprint of the day (who did what last, for the table)."""
    latest: dict[str, DiscrepancyAction] = {}
    for entry in reversed(day_actions(session, day, account)):
        if entry.fingerprint is not None:
            latest[entry.fingerprint] = entry
    return latest
