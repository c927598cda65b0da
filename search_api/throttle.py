"""Failed sign-ins, slowed without a lock anyone could trigger.

Guessing is limited per (user name, client address): after a few wrong passwords from one
address that name is refused from that address for the rest of the window, while its owner
signing in from their own desk is not affected (a hard account lock would let anyone lock the
administrator out). Guessing one name from many addresses meets a backoff on the name: after
the same few failures, each further try waits twice as long as the one before, up to a short
cap (a minute by default). A higher limit per address stops spraying many names. The keys are the
typed name, never whether the account exists, so a real account and an unknown one answer
alike. Counts live in this process, or in Redis so that every API process shares them.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from archive.settings import Settings

log = logging.getLogger(__name__)


class TooManyAttemptsError(Exception):
    """Too many failed sign-ins for this name from this address, or from this address at all."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"登录失败次数过多，请 {math.ceil(self.retry_after / 60)} 分钟后再试")


@dataclass(frozen=True)
class Recent:
    """The failures of a key within the window."""

    count: int = 0
    oldest_expires_in: float = 0.0  # seconds until the oldest of them stops counting
    newest_age: float = 0.0  # seconds since the newest


class AttemptStore(Protocol):
    """Timestamps of failures per key, forgotten after a window."""

    def count(self, key: str, window: float) -> Recent:
        """The failures of ``key`` within the window."""
        ...

    def add(self, key: str, window: float) -> int:
        """Count one failure now; the failures within the window after it."""
        ...

    def clear(self, key: str) -> None:
        """Forget the key's failures (a successful sign-in)."""
        ...


class MemoryAttempts:
    """Failures in this process only (the embedded default: one server process)."""

    MAX_KEYS = 200_000  # a spray of names or addresses cannot grow memory without bound

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, window: float, now: float) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            if len(self._failures) >= self.MAX_KEYS:
                self._expire(window, now)
            q = self._failures[key] = deque()
        while q and q[0] <= now - window:
            q.popleft()
        return q

    def _expire(self, window: float, now: float) -> None:
        stale = [k for k, q in self._failures.items() if not q or q[-1] <= now - window]
        for k in stale:
            del self._failures[k]
        if len(self._failures) >= self.MAX_KEYS:  # all recent: drop the oldest half
            for k in sorted(self._failures, key=lambda k: self._failures[k][-1])[: self.MAX_KEYS // 2]:
                del self._failures[k]

    def count(self, key: str, window: float) -> Recent:
        now = time.monotonic()
        with self._lock:
            q = self._failures.get(key)
            while q and q[0] <= now - window:
                q.popleft()
            return Recent(len(q), q[0] + window - now, now - q[-1]) if q else Recent()

    def add(self, key: str, window: float) -> int:
        now = time.monotonic()
        with self._lock:
            q = self._recent(key, window, now)
            q.append(now)
            return len(q)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class RedisAttempts:
    """Failures shared by every API process through Redis (a sorted set of times per key).

    If Redis cannot be reached the count falls back to this process, with a warning, rather
    than refusing every sign-in.
    """

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix
        self._fallback = MemoryAttempts()

    def _key(self, key: str) -> str:
        return f"{self._prefix}:signin:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}"

    def count(self, key: str, window: float) -> Recent:
        import redis

        now = time.time()
        try:
            pipe = self._redis.pipeline()
            pipe.zremrangebyscore(self._key(key), "-inf", now - window)
            pipe.zcard(self._key(key))
            pipe.zrange(self._key(key), 0, 0, withscores=True)
            pipe.zrange(self._key(key), -1, -1, withscores=True)
            _, n, oldest, newest = pipe.execute()
        except redis.RedisError as exc:
            log.warning("sign-in counts: Redis unavailable (%s); counting in this process", exc)
            return self._fallback.count(key, window)
        if not n or not oldest or not newest:
            return Recent()
        return Recent(
            int(n), max(0.0, float(oldest[0][1]) + window - now), max(0.0, now - float(newest[0][1]))
        )

    def add(self, key: str, window: float) -> int:
        import redis

        now = time.time()
        try:
            pipe = self._redis.pipeline()
            pipe.zadd(self._key(key), {f"{now}:{uuid.uuid4().hex[:8]}": now})
            pipe.zremrangebyscore(self._key(key), "-inf", now - window)
            pipe.zcard(self._key(key))
            pipe.expire(self._key(key), int(window) + 1)
            return int(pipe.execute()[2])
        except redis.RedisError as exc:
            log.warning("sign-in counts: Redis unavailable (%s); counting in this process", exc)
            return self._fallback.add(key, window)

    def clear(self, key: str) -> None:
        import redis

        try:
            self._redis.delete(self._key(key))
        except redis.RedisError:
            self._fallback.clear(key)


class SignInThrottle:
    """The limits of ``Settings.signin`` over an attempt store."""

    def __init__(
        self,
        store: AttemptStore,
        *,
        per_name_address: int,
        per_address: int,
        window_minutes: float,
        backoff_max_s: float = 60.0,
    ) -> None:
        self.store = store
        self.per_name_address, self.per_address = per_name_address, per_address
        self.window, self.backoff_max = window_minutes * 60.0, backoff_max_s

    @staticmethod
    def _pair(username: str, ip: str) -> str:
        return f"pair\x00{username.strip().casefold()[:64]}\x00{ip}"

    @staticmethod
    def _name(username: str) -> str:
        return f"name\x00{username.strip().casefold()[:64]}"

    @staticmethod
    def _address(ip: str) -> str:
        return f"addr\x00{ip}"

    def backoff(self, failures: int) -> float:
        """Seconds a name must rest after its last failure, from any address."""
        over = failures - self.per_name_address
        return 0.0 if over < 0 else min(self.backoff_max, 2.0**over)

    def check(self, username: str, ip: str) -> None:
        """TooManyAttemptsError while this name from this address, or this address, is held back,
        or while the name rests after its last failure."""
        for key, limit in (
            (self._pair(username, ip), self.per_name_address),
            (self._address(ip), self.per_address),
        ):
            recent = self.store.count(key, self.window)
            if recent.count >= limit:
                raise TooManyAttemptsError(math.ceil(recent.oldest_expires_in))
        name = self.store.count(self._name(username), self.window)
        rest = self.backoff(name.count) - name.newest_age
        if rest > 0:
            raise TooManyAttemptsError(math.ceil(rest))

    def failed(self, username: str, ip: str) -> bool:
        """Count one wrong password; True when this failure reached a limit (worth an audit event)."""
        pair = self.store.add(self._pair(username, ip), self.window)
        address = self.store.add(self._address(ip), self.window)
        name = self.store.add(self._name(username), self.window)
        return self.per_name_address in (pair, name) or address == self.per_address

    def succeeded(self, username: str, ip: str) -> None:
        """A right password clears this name's failures (from this address, and its backoff)."""
        self.store.clear(self._pair(username, ip))
        self.store.clear(self._name(username))


def throttle_for(settings: Settings) -> SignInThrottle:
    """The throttle the settings pick (counts in this process, or shared through Redis)."""
    conf = settings.signin
    store: AttemptStore = (
        RedisAttempts(settings.queue.redis_url, settings.queue.name)
        if conf.store == "redis"
        else MemoryAttempts()
    )
    return SignInThrottle(
        store,
        per_name_address=conf.failures_per_name_address,
        per_address=conf.failures_per_address,
        window_minutes=conf.window_minutes,
        backoff_max_s=conf.backoff_max_s,
    )
