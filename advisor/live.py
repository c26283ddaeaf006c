"""Telling the web processes that a row changed, so live pages push instead of poll.

Where Redis is the broker, a worker's progress save publishes on the row's channel and each open
event stream (advisor/web/streams.py) waits on it. Elsewhere (the embedded filesystem broker, or
RabbitMQ) nothing is published and a stream looks at the database every LIVE_POLL_MS instead.
"""

import asyncio
import logging

from django.conf import settings

log = logging.getLogger(__name__)

PREFIX = "advisor:live:"
_client = None


def live_channel(kind: str, pk) -> str:
    return f"{PREFIX}{kind}:{pk}"


def _redis_url() -> str | None:
    url = settings.CELERY_BROKER_URL
    return url if url.startswith(("redis://", "rediss://")) else None


def live_publish(channel: str) -> None:
    """Says that `channel`'s row changed. Never raises: a lost notice costs a stream one wait."""
    global _client
    if (url := _redis_url()) is None:
        return
    try:
        if _client is None:
            import redis

            _client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        _client.publish(channel, b"1")
    except Exception:  # noqa: BLE001  (the run matters more than its viewers)
        log.warning("Could not publish a change on %s", channel, exc_info=True)


class LiveWait:
    """An async stream's way to wait for its rows' next change: a Redis subscription where Redis
    is the broker, a timer otherwise. Use as `async with LiveWait(channels) as wait: await wait(s)`."""

    def __init__(self, channels: list[str], *, push: bool = True):
        self.channels, self.push = channels, push
        self.client = self.pubsub = None

    async def __aenter__(self):
        if self.push and (url := _redis_url()) is not None:
            import redis.asyncio

            self.client = redis.asyncio.Redis.from_url(url)
            self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            await self.pubsub.subscribe(*self.channels)
        return self.wait

    async def __aexit__(self, *exc):
        if self.pubsub is not None:
            await self.pubsub.aclose()
            await self.client.aclose()

    async def wait(self, timeout: float) -> bool:
        """Until a row may have changed: a notice (at most `timeout` s), or LIVE_POLL_MS without
        Redis. Whether a notice came."""
        if self.pubsub is None:
            await asyncio.sleep(settings.LIVE_POLL_MS / 1000)
            return False
        if await self.pubsub.get_message(timeout=timeout) is None:
            return False
        # Coalesce a burst (several columns saving at once) into one look at the database.
        while await self.pubsub.get_message(timeout=0) is not None:
            pass
        return True
