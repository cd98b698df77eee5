"""Dramatiq actors, one module per flow, and what processes need to enqueue them.

Importing this package sets nothing up: workers load `jobs.worker` (`dramatiq jobs.worker`),
which sets the broker up from the settings and then declares every actor.
"""
