"""Reconciliation: prove that Stripe's balance and our ledger agree for one day and one account.

The pure core (frames, window, matcher, classify, explain, itemized_report, raw_pages,
money_format) takes DataFrames and returns DataFrames/dataclasses: no I/O, no clock, no
database, no network. Fetching, loading, persisting and the CLI live at the edges.
"""
