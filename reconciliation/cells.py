"""Cells that a spreadsheet will not run: OWASP's CSV-injection rule for exported text.

A cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (https://owasp.org/www-community/attacks/CSV_Injection).
Finance notes and Stripe descriptions are free text, so every text cell of an export goes
through `neutralise`: such a cell gets a leading apostrophe, which spreadsheets show as text.
A plain number we formatted ourselves ("-12.34") is left as it is: it is data, not a formula.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def is_risky(text: str) -> bool:
    """Whether a spreadsheet would treat `text` as a formula."""
    return text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text)


def neutralise(value: object) -> object:
    """The value, with risky text prefixed by an apostrophe; anything else unchanged."""
    if isinstance(value, str) and is_risky(value):
        return "'" + value
    return value
