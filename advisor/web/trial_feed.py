"""One look at the database per change of a trial, shared by all of a web process's viewers of it.

Under ASGI a feed task per watched trial waits for its runs' saves (Redis pub/sub, or a poll of
LIVE_POLL_MS), fetches the rows once and wakes every viewer; a viewer then only works out what its
browser lacks. Fifty viewers of ten trials cost ten fetches per change, not fifty. Under WSGI (the
test and development servers step each stream on an event loop of its own) a viewer fetches alone.
"""

import asyncio
import time

from django.db.models import Max

from advisor.live import LiveWait, live_channel
from advisor.trials.models import FINISHED, TrialRun

FIELDS = ("pk", "status", "progress", "ttft_ms", "error", "output", "updated_at", "model_slug")
# With Redis, a feed also looks at the database this often without a notice: the saves that do
# not publish (a hybrid column's phases) still show within it.
UNNOTIFIED_S = 1

_feeds: dict[tuple[int, str], "SharedFeed"] = {}


async def last_saved(trial_id):
    """When the trial's runs were last saved: one indexed aggregate, for a feed that polls."""
    return (await TrialRun.objects.filter(trial_id=trial_id).aaggregate(latest=Max("updated_at")))["latest"]


async def run_rows(trial_id) -> list[dict]:
    return [row async for row in TrialRun.objects.filter(trial_id=trial_id).values(*FIELDS)]


def ended(runs: list[dict]) -> bool:
    return all(run["status"] in FINISHED for run in runs)


class _Feed:
    rows: list[dict] | None = None
    version = 0

    def __init__(self, trial_id, run_pks):
        self.trial_id, self.channels = trial_id, [live_channel("run", pk) for pk in run_pks]
        self.newest = None

    async def _refresh(self) -> bool:
        latest = await last_saved(self.trial_id)
        if self.rows is not None and latest == self.newest:
            return False
        self.newest, self.rows, self.version = latest, await run_rows(self.trial_id), self.version + 1
        return True


class PrivateFeed(_Feed):
    """A viewer's own feed (under WSGI): it looks at the database itself, polling."""

    async def next(self, seen: int, timeout: float) -> bool:
        """Whether the rows moved past version `seen` within `timeout` s."""
        deadline = time.monotonic() + timeout
        async with LiveWait(self.channels, push=False) as wait:
            while True:
                if self.version > seen or await self._refresh():
                    return True
                if time.monotonic() >= deadline:
                    return False
                await wait(UNNOTIFIED_S)

    def leave(self) -> None:
        pass

    alive = True


class SharedFeed(_Feed):
    def __init__(self, trial_id, run_pks):
        super().__init__(trial_id, run_pks)
        self.viewers = 0
        self.changed = asyncio.Condition()
        self.task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        try:
            async with LiveWait(self.channels) as wait:
                while self.viewers:
                    if await self._refresh():
                        async with self.changed:
                            self.changed.notify_all()
                    if ended(self.rows):
                        return
                    await wait(UNNOTIFIED_S)
        finally:
            _feeds.pop(self.key, None)

    async def next(self, seen: int, timeout: float) -> bool:
        try:
            async with self.changed:
                await asyncio.wait_for(self.changed.wait_for(lambda: self.version > seen or self.task.done()), timeout)
        except TimeoutError:
            return False
        return self.version > seen

    def leave(self) -> None:
        self.viewers -= 1

    @property
    def alive(self) -> bool:
        """False once its task stopped before the trial ended (a database error): the viewer's
        stream ends, and the browser's reconnect starts a new feed."""
        return not self.task.done() or (self.rows is not None and ended(self.rows))


def feed_for(trial_id, run_pks, *, shared: bool) -> _Feed:
    """The feed a viewer of `trial_id` reads: the process's shared one (under ASGI), or its own."""
    if not shared:
        return PrivateFeed(trial_id, run_pks)
    key = (id(asyncio.get_running_loop()), str(trial_id))
    feed = _feeds.get(key)
    if feed is None or feed.task.done():
        feed = _feeds[key] = SharedFeed(trial_id, run_pks)
        feed.key = key
    feed.viewers += 1
    return feed
