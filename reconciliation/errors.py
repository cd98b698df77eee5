"""Errors of the reconciliation package: a root error and leaves named after the condition.

Every error about the data handed in derives from `InvalidInput` (a ValueError), so an edge
can catch that one class, print the message (which names the row and the column) and persist
nothing.
"""

from __future__ import annotations

from models import errors as money_errors


class ReconciliationError(Exception):
    """Root of every error the reconciliation package raises on purpose."""


class InvalidInput(ReconciliationError, ValueError):
    """Data handed to the core is not what its contract says."""


class InvalidTimeZone(InvalidInput):
    """The time zone name is not an IANA zone this machine knows."""


class InvalidAmount(InvalidInput, money_errors.InvalidAmount):
    """An amount is not a decimal number, or has more decimals than its currency allows (the
    money error, as data handed to reconciliation)."""


class UnknownCurrency(InvalidInput, money_errors.UnknownCurrency):
    """A currency is not a lowercase ISO 4217 code that Stripe uses."""


# --- DataFrame contracts -------------------------------------------------------------------


class FrameContractError(InvalidInput):
    """An input DataFrame does not follow its column contract."""


class MissingColumn(FrameContractError):
    """A required column is absent (or was renamed)."""


class WrongColumnType(FrameContractError):
    """A column has the wrong dtype (e.g. float money, or text where an int belongs)."""


class NullValue(FrameContractError):
    """A column that must always be filled has a missing value."""


class DuplicateBalanceTransaction(FrameContractError):
    """The Stripe frame lists the same balance transaction twice."""


# --- Stripe report CSVs --------------------------------------------------------------------


class InvalidReport(InvalidInput):
    """A Stripe report CSV cannot be read as the report type it claims to be."""


class MissingReportColumn(InvalidReport):
    """A required report column is absent or renamed."""


class InvalidReportAmount(InvalidReport, InvalidAmount):
    """A report amount cell is not a decimal, or has more decimals than its currency."""


class UnknownReportCurrency(InvalidReport, UnknownCurrency):
    """A report currency cell is not a known ISO 4217 code."""


class InvalidTimestamp(InvalidReport):
    """A report timestamp cell is not `YYYY-MM-DD HH:MM:SS`."""


class MissingValue(InvalidReport):
    """A required report cell is empty."""


class RowOutsideWindow(InvalidReport):
    """A report row falls outside the [start, end) window that was asked for."""


# --- Raw API pages -------------------------------------------------------------------------


class InvalidPage(InvalidInput):
    """A raw API page is not a Stripe list of balance transactions."""


# --- Runs (the I/O edges) ------------------------------------------------------------------


class UnknownAccount(InvalidInput):
    """The account is neither "platform" nor a carrier's connected account we know."""


class FutureDay(InvalidInput):
    """The day asked for has not begun yet in the run's time zone."""


class StripeFetchFailed(ReconciliationError):
    """Stripe could not be read (unreachable, refused, or an answer we cannot use)."""


class ReportRunFailed(StripeFetchFailed):
    """A Stripe report run failed or did not finish in time."""


class RunNotFound(ReconciliationError):
    """No reconciliation run has that id."""


class NotAtStripe(StripeFetchFailed):
    """Stripe answered 404: the object asked for does not exist (on that account)."""
