"""Fault injection: configured through POST /_sim/faults, consulted per request/delivery.

A rule holds rates (0..1) for each fault kind, an optional `path` (prefix, or a glob when it
contains `*`), `method`, `account` (the Stripe-Account; "platform" for none), `event_type`
(glob, for webhook faults) and `next` (apply to the next N matching requests only).
Posting a new configuration replaces the old one; `{}` or zero rates turn faults off.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from .errors import InvalidRequest

API_KINDS = ("error_500", "rate_limit_429", "drop_connection", "commit_then_fail")
WEBHOOK_KINDS = ("webhook_drop", "webhook_duplicate", "webhook_reorder")
NUMERIC_KINDS = ("slow_ms", "webhook_delay_s")
ALL_KEYS = set(API_KINDS + WEBHOOK_KINDS + NUMERIC_KINDS) | {
    "path", "method", "account", "event_type", "next", "commit_then_fail_mode", "seed",
}


@dataclass
class Rule:
    rates: dict[str, float] = field(default_factory=dict)
    slow_ms: float = 0.0
    webhook_delay_s: float = 0.0
    path: str | None = None
    method: str | None = None
    account: str | None = None
    event_type: str | None = None
    remaining: int | None = None
    commit_mode: str = "either"

    def applies_to_api(self) -> bool:
        return self.slow_ms > 0 or any(self.rates.get(k, 0) > 0 for k in API_KINDS)

    def applies_to_webhooks(self) -> bool:
        return self.webhook_delay_s > 0 or any(self.rates.get(k, 0) > 0 for k in WEBHOOK_KINDS)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in self.rates.items() if v}
        for key in ("slow_ms", "webhook_delay_s", "path", "method", "account", "event_type"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.remaining is not None:
            out["next"] = self.remaining
        if self.rates.get("commit_then_fail"):
            out["commit_then_fail_mode"] = self.commit_mode
        return out


@dataclass
class ApiFault:
    slow_ms: float = 0.0
    before: str | None = None  # "500" | "429" | "drop": fail without any effect
    after: str | None = None  # "500" | "drop": perform the effect, then fail


@dataclass
class WebhookFault:
    drop: bool = False
    duplicate: bool = False
    reorder: bool = False
    delay_s: float = 0.0


def _rate(body: dict[str, Any], key: str) -> float:
    value = body.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"{key} must be a number", param=key)
    if key not in NUMERIC_KINDS and not 0 <= value <= 1:
        raise InvalidRequest(f"{key} must be between 0 and 1", param=key)
    if value < 0:
        raise InvalidRequest(f"{key} must not be negative", param=key)
    return float(value)


def parse_rule(body: dict[str, Any]) -> Rule:
    unknown = set(body) - ALL_KEYS
    if unknown:
        raise InvalidRequest(f"Unknown fault keys: {', '.join(sorted(unknown))}")
    rule = Rule(rates={k: _rate(body, k) for k in API_KINDS + WEBHOOK_KINDS})
    rule.slow_ms = _rate(body, "slow_ms")
    rule.webhook_delay_s = _rate(body, "webhook_delay_s")
    rule.path = body.get("path") or None
    rule.method = (body.get("method") or "").upper() or None
    rule.account = body.get("account") or None
    rule.event_type = body.get("event_type") or None
    nxt = body.get("next")
    if nxt is not None:
        if isinstance(nxt, bool) or not isinstance(nxt, int) or nxt < 0:
            raise InvalidRequest("next must be a non-negative integer", param="next")
        rule.remaining = nxt
    mode = body.get("commit_then_fail_mode", "either")
    if mode not in ("either", "500", "drop"):
        raise InvalidRequest("commit_then_fail_mode must be either, 500 or drop")
    rule.commit_mode = mode
    return rule


def _match(pattern: str | None, value: str) -> bool:
    if not pattern:
        return True
    if "*" in pattern or "?" in pattern:
        return fnmatchcase(value, pattern)
    return value.startswith(pattern)


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._rand = random.Random(seed)

    def configure(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Replace the configuration: one rule, or {"rules": [...]} for several."""
        raw_rules = body.get("rules") if "rules" in body else [body]
        if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
            raise InvalidRequest("rules must be a list of objects")
        rules = [parse_rule(r) for r in raw_rules]
        rules = [r for r in rules if r.applies_to_api() or r.applies_to_webhooks()]
        with self._lock:
            if "seed" in body:
                self._rand.seed(body["seed"])
            self._rules = rules
        return self.describe()

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def _take(self, rule: Rule) -> bool:
        if rule.remaining is None:
            return True
        if rule.remaining <= 0:
            return False
        rule.remaining -= 1
        return True

    def _hit(self, rule: Rule, kind: str) -> bool:
        rate = rule.rates.get(kind, 0.0)
        return rate > 0 and (rate >= 1 or self._rand.random() < rate)

    def for_request(self, method: str, path: str, account: str | None) -> ApiFault:
        fault = ApiFault()
        if not self._rules:
            return fault
        with self._lock:
            for rule in self._rules:
                if not rule.applies_to_api():
                    continue
                if rule.method and rule.method != method:
                    continue
                if not _match(rule.path, path):
                    continue
                if rule.account and rule.account != (account or "platform"):
                    continue
                if not self._take(rule):
                    continue
                fault.slow_ms = max(fault.slow_ms, rule.slow_ms)
                if fault.before is None:
                    if self._hit(rule, "drop_connection"):
                        fault.before = "drop"
                    elif self._hit(rule, "error_500"):
                        fault.before = "500"
                    elif self._hit(rule, "rate_limit_429"):
                        fault.before = "429"
                if fault.after is None and self._hit(rule, "commit_then_fail"):
                    mode = rule.commit_mode
                    if mode == "either":
                        mode = self._rand.choice(("500", "drop"))
                    fault.after = mode
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
        return fault

    def for_webhook(self, event_type: str, account: str | None) -> WebhookFault:
        fault = WebhookFault()
        if not self._rules:
            return fault
        with self._lock:
            for rule in self._rules:
                if not rule.applies_to_webhooks():
                    continue
                if not _match(rule.event_type, event_type):
                    continue
                if rule.account and rule.account != (account or "platform"):
                    continue
                if not self._take(rule):
                    continue
                fault.drop = fault.drop or self._hit(rule, "webhook_drop")
                fault.duplicate = fault.duplicate or self._hit(rule, "webhook_duplicate")
                fault.reorder = fault.reorder or self._hit(rule, "webhook_reorder")
                fault.delay_s = max(fault.delay_s, rule.webhook_delay_s)
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
        return fault
