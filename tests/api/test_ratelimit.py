"""The lookup rate limit, in memory and shared through Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from issuer.api.ratelimit import MemoryLimiter, RedisLimiter, TooManyRequests
from tests.conftest import worker_redis

REDIS_URL = worker_redis(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12"))


def test_memory_windows_reset() -> None:
    now = [1000.0]
    limiter = MemoryLimiter(2, 60, clock=lambda: now[0])
    limiter.hit("a")
    limiter.hit("a")
    with pytest.raises(TooManyRequests) as failure:
        limiter.hit("a")
    assert 1 <= failure.value.retry_after <= 60
    limiter.hit("b")
    now[0] += 60
    limiter.hit("a")


def _redis_or_skip() -> RedisLimiter:
    import redis

    limiter = RedisLimiter(REDIS_URL, 3, 60)
    try:
        limiter.redis.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    return limiter


def test_processes_share_the_window_through_redis() -> None:
    first, second = _redis_or_skip(), RedisLimiter(REDIS_URL, 3, 60)
    bucket = f"test-{uuid.uuid4()}"
    first.hit(bucket)
    second.hit(bucket)
    first.hit(bucket)
    with pytest.raises(TooManyRequests):
        second.hit(bucket)
