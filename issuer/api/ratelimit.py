"""A fixed-window rate limit per client address, for the public lookup. In memory for the
embedded default (one process); with ``REDIS_URL`` the windows live in Redis, shared by
every app process behind the load balancer."""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from issuer.core.errors import IssuerError


class TooManyRequests(IssuerError):
    kind = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "rate_limited",
            f"too many lookups; try again in {retry_after} s",
            f"查询过于频繁，请{retry_after}秒后再试",
            errors={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class Limiter(Protocol):
    def hit(self, bucket: str) -> None: ...


class MemoryLimiter:
    def __init__(self, limit: int, window: int, clock: Any = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str) -> None:
        now = self.clock()
        slot = int(now // self.window)
        with self._lock:
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] == slot}
            count = self._counts.get((bucket, slot), 0) + 1
            self._counts[(bucket, slot)] = count
        if count > self.limit:
            raise TooManyRequests(max(1, int((slot + 1) * self.window - now)))


class RedisLimiter:
    def __init__(self, url: str, limit: int, window: int) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.limit, self.window = limit, window

    def hit(self, bucket: str) -> None:
        now = time.time()
        slot = int(now // self.window)
        key = f"issuer:ratelimit:{bucket}:{slot}"
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, self.window * 2)
        count, _ = pipe.execute()
        if int(count) > self.limit:
            raise TooManyRequests(max(1, int((slot + 1) * self.window - now)))


def make_limiter(config: Any) -> Limiter:
    limit, window = int(config["LOOKUP_RATE_LIMIT"]), int(config["LOOKUP_RATE_WINDOW"])
    if config.get("REDIS_URL"):
        return RedisLimiter(config["REDIS_URL"], limit, window)
    return MemoryLimiter(limit, window)
