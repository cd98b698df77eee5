"""Rate limit and circuit breaker for Stripe calls, shared by every process through Redis.

Rate (paced, GCRA-style): Stripe limits requests continuously, not per calendar second
(https://docs.stripe.com/rate-limits), so bursts at the top of a second draw 429s. All callers
share one schedule in Redis: one script call reserves the next free slot (slots `1 / rate`
apart, on Redis's clock) and the caller sleeps until it. No polling, no give-up: a slot further
away than `max_wait_s` is not taken, and the call becomes a delayed retry at about the time the
schedule frees up (counted as a deferral).

The schedule spreads calls; the guarantee is a log of sends in Redis. Threads wake late on a
busy machine, and a thread can also stall after it was let through and before its request is
on the wire, so a log stamped when calls are let through would put late sends in the wrong
second. So (`before_send`) a call is logged as pending when it is let through, which counts
against every window until the request has gone out; then its entry is re-stamped on Redis's
clock, after the send (the HTTP client's hook, payments/gateway/pacing.py). A call is let
through only while fewer than `rate` entries are pending or stamped within the last
1 s + JITTER_MARGIN_S: any `rate + 1` sends then span more than that, however late threads
wake or stall. A client that cannot see the moment its request is written (reconciliation's
StripeHTTP) reports it when the answer is back: later than the send, so never undercounted.

Lanes: money-moving jobs (charges, refunds, payouts) use the `money` lane. Reconciliation page
fetches, webhook re-fetches and the event poller use the `background` lane, which takes slots
from the same schedule but also keeps its own, slower schedule (`BACKGROUND_SHARE` of the
limit), so however busy it is, money-moving jobs keep at least the rest of the budget.

Breaker: STRIPE_BREAKER_FAILURES transient failures within BREAKER_WINDOW_S open the circuit
for STRIPE_BREAKER_COOLDOWN_S; while open, calls are not made and jobs retry after the
cooldown. After it, calls go through again (half-open) and one success closes it. The breaker
check rides in the same script call as the slot reservation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import redis

from payments.errors import CircuitOpen, RateDeferred, StripeUnavailable

BREAKER_WINDOW_S = 30
# A wait up to this long is slept through in the job; longer becomes a delayed retry.
MAX_WAIT_S = 10.0
# Stripe counts requests when they arrive, a little after we send them, and the way there does
# not take equally long for every request: the schedule and the log fit `rate` sends into
# 1 s + JITTER_MARGIN_S. (Stamps are taken after the send, which adds its own slack.)
JITTER_MARGIN_S = 0.02
WINDOW_US = int((1 + JITTER_MARGIN_S) * 1_000_000)
# A pending send counts against every window for up to this long: its request goes out (or
# fails to connect) well within it, and a process killed in between frees its place after it.
PENDING_HOLD_US = 10_000_000
# When the log is full of pending sends, look again after this long.
PENDING_POLL_US = 2_000
LOG_TTL_MS = (WINDOW_US + PENDING_HOLD_US) // 1000 + 1000
# The background lane (reconciliation, webhook re-fetches, event poller) may use at most this
# share of the limit; money-moving jobs always keep the rest.
BACKGROUND_SHARE = 0.2

FAILURES_KEY = "midway:stripe:breaker:failures"
OPEN_KEY = "midway:stripe:breaker:open"
SCHEDULE_KEY = "midway:stripe:rate:next"
BACKGROUND_SCHEDULE_KEY = "midway:stripe:rate:next:background"
WAITS_KEY = "midway:stripe:rate:waits"
DEFERRALS_KEY = "midway:stripe:rate:deferrals"
SENT_KEY = "midway:stripe:rate:sent"

Lane = Literal["money", "background"]

# KEYS: shared schedule, lane schedule (may equal the shared one), breaker open, failures,
#       waits counter, deferrals counter
# ARGV: shared interval (µs), lane interval (µs), max wait (µs)
# Returns {status, value, failures}: status 0 = slot reserved, value = µs to sleep;
# 1 = circuit open, value = ms left; 2 = deferred, value = µs until the schedule frees up.
_RESERVE = """
local open_ms = redis.call('PTTL', KEYS[3])
if open_ms > 0 then return {1, open_ms, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local lane_interval = tonumber(ARGV[2])
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
if KEYS[2] ~= KEYS[1] then
  slot = math.max(slot, tonumber(redis.call('GET', KEYS[2]) or 0))
end
local wait = slot - now
local failures = tonumber(redis.call('GET', KEYS[4]) or 0)
if wait > tonumber(ARGV[3]) then
  redis.call('INCR', KEYS[6])
  return {2, wait, failures}
end
local keep_ms = math.floor((wait + lane_interval) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', slot + interval), 'PX', keep_ms)
if KEYS[2] ~= KEYS[1] then
  redis.call('SET', KEYS[2], string.format('%d', slot + lane_interval), 'PX', keep_ms)
end
if wait > 0 then redis.call('INCR', KEYS[5]) end
return {0, wait, failures}
"""


# KEYS: the log of sends (sorted set of members scored by µs on Redis's clock)
# ARGV: calls allowed per window, the window (µs), a unique member for this call, how far
#       ahead of now to score it while pending (until _SENT re-stamps it), the log's time to
#       live (ms), how long to wait when the log is full of pending sends (µs)
# Returns 0 when admitted (and logged), else µs to sleep before asking again.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[4])), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > now then return ARGV[6] end
return math.max(oldest + window - now, 1)
"""

# KEYS: the log of sends; ARGV: the call's member, the log's time to live (ms)
# Re-stamps a pending send now, after its request went out (adds it back if it aged out).
_SENT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
"""


@dataclass(frozen=True)
class LimiterCounts:
    """How often callers slept for a slot, and how often a wait became a delayed retry."""

    waits: int
    deferrals: int


def limiter_counts(client: redis.Redis) -> LimiterCounts:
    waits, deferrals = client.mget(WAITS_KEY, DEFERRALS_KEY)
    return LimiterCounts(int(waits or 0), int(deferrals or 0))


class RedisStripeGuard:
    def __init__(
        self,
        client: redis.Redis,
        *,
        rate_per_s: int,
        breaker_failures: int = 5,
        breaker_cooldown_s: float = 10.0,
        max_wait_s: float = MAX_WAIT_S,
        lane: Lane = "money",
    ) -> None:
        self._redis = client
        self._breaker_failures = breaker_failures
        self._breaker_cooldown_ms = int(breaker_cooldown_s * 1000)
        self._max_wait_us = int(max_wait_s * 1_000_000)
        self._interval_us = WINDOW_US // rate_per_s
        share = BACKGROUND_SHARE if lane == "background" else 1.0
        self._lane_interval_us = int(self._interval_us / share)
        lane_key = BACKGROUND_SCHEDULE_KEY if lane == "background" else SCHEDULE_KEY
        self._keys = [SCHEDULE_KEY, lane_key, OPEN_KEY, FAILURES_KEY, WAITS_KEY, DEFERRALS_KEY]
        self._reserve = client.register_script(_RESERVE)
        self._admit = client.register_script(_ADMIT)
        self._sent = client.register_script(_SENT)
        self._rate = rate_per_s
        self._options = (rate_per_s, breaker_failures, breaker_cooldown_s, max_wait_s)
        # Set when the last reservation saw failures on record, so that a success clears them
        # without a Redis command on every call.
        self._failures_seen = False

    def lane(self, lane: Lane) -> RedisStripeGuard:
        """The same budget and breaker, reserving slots in another lane."""
        rate, failures, cooldown, max_wait = self._options
        return RedisStripeGuard(
            self._redis,
            rate_per_s=rate,
            breaker_failures=failures,
            breaker_cooldown_s=cooldown,
            max_wait_s=max_wait,
            lane=lane,
        )

    def circuit_open_for_s(self) -> float:
        """Seconds until the breaker lets calls through again (0 when closed)."""
        ttl_ms = int(self._redis.pttl(OPEN_KEY))
        return ttl_ms / 1000 if ttl_ms > 0 else 0.0

    def before_send(self) -> Callable[[], None]:
        """Wait for a slot and a place in the log, held as pending; returns what to call once
        the request is on the wire (the log then stamps it). Call it once, sent or not."""
        self._wait_for_slot()
        member = os.urandom(8).hex()
        while (wait_us := self._try_log(member)) > 0:
            time.sleep(wait_us / 1_000_000)
        return self._stamp_when_sent(member)

    def send_now(self) -> Callable[[], None]:
        """A place in the log now or never (reads not worth a wait): as before_send, without
        the schedule; StripeUnavailable when the last second already holds the limit."""
        member = os.urandom(8).hex()
        if self._try_log(member) > 0:
            raise StripeUnavailable("the Stripe request limit is reached for this second")
        return self._stamp_when_sent(member)

    def _try_log(self, member: str) -> int:
        """0 when `member` took a place in the log (pending until stamped), else µs to wait
        before asking again."""
        args: list[str | int] = [
            self._rate,
            WINDOW_US,
            member,
            PENDING_HOLD_US,
            LOG_TTL_MS,
            PENDING_POLL_US,
        ]
        return int(self._admit(keys=[SENT_KEY], args=args))

    def _stamp_when_sent(self, member: str) -> Callable[[], None]:
        def sent() -> None:
            self._sent(keys=[SENT_KEY], args=[member, LOG_TTL_MS])

        return sent

    def _wait_for_slot(self) -> None:
        """Reserve the next slot of the schedule and sleep until it."""
        status, value, failures = self._reserve(
            keys=self._keys,
            args=[self._interval_us, self._lane_interval_us, self._max_wait_us],
        )
        self._failures_seen = int(failures) > 0
        if status == 1:
            raise CircuitOpen("Stripe is failing; calls held back", retry_after_s=value / 1000)
        if status == 2:
            # Come back when the booked-ahead schedule has drained to half the bound.
            raise RateDeferred(
                "Stripe request budget booked ahead; retrying when it frees up",
                retry_after_s=(value - self._max_wait_us / 2) / 1_000_000,
            )
        if value > 0:
            time.sleep(value / 1_000_000)

    def record_success(self) -> None:
        if self._failures_seen:
            self._redis.delete(FAILURES_KEY)
            self._failures_seen = False

    def record_failure(self) -> None:
        self._failures_seen = True
        pipe = self._redis.pipeline()
        pipe.incr(FAILURES_KEY)
        pipe.expire(FAILURES_KEY, BREAKER_WINDOW_S)
        failures, _ = pipe.execute()
        if int(failures) >= self._breaker_failures:
            self._redis.set(OPEN_KEY, "1", px=self._breaker_cooldown_ms)
            self._redis.delete(FAILURES_KEY)
