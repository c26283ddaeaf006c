"""Push, not poll (issue 23, item 3): a trial's columns as Server-Sent Events, fed by the workers'
saves through Redis pub/sub where Redis is the broker; reconnects resume; the polls that remain
answer 304 when nothing changed."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient
from django.utils import timezone

from advisor.live import LiveWait, live_channel, live_publish
from advisor.trials import lifecycle
from advisor.trials.models import Status, Trial, TrialRun
from advisor.web.trial_stream import TrialStream, stamp_ms

from .conftest import openai_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_trial(user, bundled_model):
    served = openai_model(slug="served", base_url="http://127.0.0.1:9/v1")
    trial = Trial.objects.create(owner=user, prompt="Stream <this>")
    runs = [TrialRun.objects.create(trial=trial, position=position, model=model, model_slug=model.slug, model_name=model.name,
                                    status=Status.RUNNING, output="Once", started_at=timezone.now(), worker_host=lifecycle.HOSTNAME,
                                    worker_pid=1, ttft_ms=50)
            for position, model in enumerate([bundled_model, served])]
    return trial, runs


def parse(chunks: list[str]) -> list[dict]:
    events = []
    for block in "".join(chunks).split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            if name in ("id", "event"):
                fields[name] = value
            elif name == "data":
                fields["data"] = fields.get("data", "") + ("\n" if "data" in fields else "") + value
        if "event" in fields:
            events.append(fields)
    return events


async def read_events(response, until: str, changes=()) -> list[dict]:
    """The stream's events up to the one named `until`; each of `changes` is applied (in a thread)
    after the previous event arrived."""
    chunks, pending = [], list(changes)
    async for chunk in response.streaming_content:
        chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
        events = parse(chunks)
        if events and events[-1]["event"] == until:
            return events
        if pending and (chunks[-1].startswith((": watching", "id:", "event:"))):
            await sync_to_async(pending.pop(0))()
    raise AssertionError(f"the stream ended before {until!r}: {chunks}")


def save(run: TrialRun, **fields):
    lifecycle.run_save_progress(run, **fields)


def test_a_columns_new_text_comes_alone_escaped_then_the_whole_column_the_vote_and_the_end(client, user, live_trial):
    trial, (local, served) = live_trial
    client.force_login(user)
    page = client.get(trial.get_absolute_url()).content.decode()
    since = max(stamp_ms(r.updated_at) for r in TrialRun.objects.filter(trial=trial))
    assert f'sse-connect="/trials/{trial.id}/events?since={since}"' in page and 'sse-swap="out-0"' in page
    assert "hx-trigger" not in page.split('id="live-trial"')[1], "nothing on the trial polls"

    async def scenario():
        stream = AsyncClient()
        await stream.aforce_login(user)
        response = await stream.get(f"/trials/{trial.id}/events?since={since}")
        assert response["Content-Type"] == "text/event-stream" and "no-cache" in response["Cache-Control"]

        def more_text():
            local.output = "Once <upon>"
            save(local, output=local.output)

        def finish():
            for run in (local, served):
                lifecycle.run_finish(run, output=run.output, total_ms=900)

        return await read_events(response, "ended", [more_text, finish])

    events = async_to_sync(scenario)()
    names = [e["event"] for e in events]
    assert names[0] == "out-0" and events[0]["data"] == " &lt;upon&gt;", "only the new text, escaped"
    assert {"run-0", "run-1"} <= set(names) and names[-2:] == ["after", "ended"]
    whole = next(e for e in events if e["event"] == "run-0")["data"]
    assert 'data-testid="run-metrics"' in whole and "sse-swap" not in whole, "a finished column no longer listens"
    assert 'data-testid="vote-form"' in next(e for e in events if e["event"] == "after")["data"]
    assert all(int(e["id"]) >= since for e in events)


def test_a_reconnect_resumes_from_its_last_event_id_with_whole_columns(user, live_trial):
    trial, (local, served) = live_trial
    before = max(stamp_ms(r.updated_at) for r in TrialRun.objects.filter(trial=trial))
    local.output = "Once more"
    save(local, output=local.output)

    async def reconnect(last_id: int):
        stream = AsyncClient()
        await stream.aforce_login(user)
        response = await stream.get(f"/trials/{trial.id}/events?since=0", headers={"Last-Event-ID": str(last_id)})

        def finish():
            for run in (local, served):
                lifecycle.run_finish(run, output=run.output)

        return await read_events(response, "ended", [finish, lambda: None])

    events = async_to_sync(reconnect)(before)
    # What changed since the id comes whole (the missed text with it), not as a piece to append.
    first = events[0]
    assert first["event"] == "run-0" and "Once more" in first["data"]
    assert not any(e["event"].startswith("out-") for e in events)


def test_the_stream_is_as_private_as_the_trial(client, live_trial, django_user_model):
    trial, _ = live_trial
    other = django_user_model.objects.create_user(username="eve", password="pw-for-tests")

    async def get():
        stream = AsyncClient()
        await stream.aforce_login(other)
        anonymous = await AsyncClient().get(f"/trials/{trial.id}/events")
        return (await stream.get(f"/trials/{trial.id}/events")).status_code, anonymous.status_code

    assert async_to_sync(get)() == (404, 404)


def test_blind_columns_stream_without_names(user, bundled_model):
    served = openai_model(slug="gpt-secret", base_url="http://127.0.0.1:9/v1")
    trial = Trial.objects.create(owner=user, prompt="Which?", blind=True)
    runs = [TrialRun.objects.create(trial=trial, position=p, model=m, model_slug=m.slug, model_name=m.name, status=Status.RUNNING,
                                    started_at=timezone.now(), worker_host=lifecycle.HOSTNAME, worker_pid=1)
            for p, m in enumerate([bundled_model, served])]

    async def scenario():
        stream = AsyncClient()
        await stream.aforce_login(user)
        response = await stream.get(f"/trials/{trial.id}/events?since=0")
        return await read_events(response, "ended", [lambda: [lifecycle.run_finish(r, output="an answer") for r in runs]])

    text = str(async_to_sync(scenario)())
    for leak in ("gpt-secret", "smollm2", "SmolLM2"):
        assert leak not in text


def test_stream_changes_send_text_pieces_and_whole_columns_only_when_their_state_changed():
    now = timezone.now()
    row = {"pk": 1, "status": "running", "progress": "", "ttft_ms": 10, "error": "", "output": "ab", "updated_at": now, "model_slug": "m"}
    stream = TrialStream(columns={1: 0}, since=stamp_ms(now))
    assert stream.changes([row]) == ([], []), "the page has this save already"
    assert stream.changes([row | {"output": "abcd"}]) == ([], [(0, "cd")])
    assert stream.changes([row | {"output": "abcd", "status": "done"}]) == ([1], [])
    fresh = TrialStream(columns={1: 0}, since=stamp_ms(now) - 1)
    assert fresh.changes([row]) == ([1], []), "saved after the page's stamp: whole"


@pytest.mark.services
def test_a_workers_save_publishes_on_redis_and_wakes_the_stream(settings, live_trial):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/12"
    _, (local, _) = live_trial
    channel = live_channel("run", local.pk)

    async def scenario():
        async with LiveWait([channel]) as wait:
            quiet = await wait(0.2)
            await sync_to_async(save)(local, output="Once upon")  # lifecycle publishes after the row is saved
            woken = await wait(30)
            await asyncio.to_thread(live_publish, live_channel("run", local.pk + 1000))  # another run's channel
            other = await wait(0.2)
        return quiet, woken, other

    assert async_to_sync(scenario)() == (False, True, False)


def test_without_redis_nothing_is_published_and_a_stream_polls(settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    live_publish("advisor:live:run:1")  # no client, no error

    async def scenario():
        async with LiveWait(["advisor:live:run:1"]) as wait:
            return await wait(30)

    assert async_to_sync(scenario)() is False


def test_an_evaluations_live_view_sends_counts_under_2_kb_then_the_report_once(client, user, settings):
    from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus, Suite, SuiteItem

    settings.EVAL_POLL_MS = 10
    suite = Suite.objects.create(owner=user, name="Big")
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=["slm", "llm"], status="running")
    items = SuiteItem.objects.bulk_create([SuiteItem(suite=suite, position=p, prompt=f"Prompt {p} " * 20) for p in range(200)])
    EvaluationRun.objects.bulk_create([
        EvaluationRun(evaluation=evaluation, item=item, model_slug=slug, model_name=slug.upper(), queue="api",
                      status=RunStatus.DONE if item.position < 50 else RunStatus.QUEUED, output="An answer " * 40)
        for item in items for slug in ("slm", "llm")])
    client.force_login(user)
    page = client.get(evaluation.get_absolute_url()).content.decode()
    assert f'sse-connect="/evaluations/{evaluation.id}/events"' in page and "hx-trigger" not in page

    def one_more_done():
        run = EvaluationRun.objects.filter(evaluation=evaluation, status=RunStatus.QUEUED).first()
        EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="x")

    def end():
        EvaluationRun.objects.filter(evaluation=evaluation, status=RunStatus.QUEUED).update(status=RunStatus.DONE)
        Evaluation.objects.filter(pk=evaluation.pk).update(status="done")

    async def scenario():
        stream = AsyncClient()
        await stream.aforce_login(user)
        response = await stream.get(f"/evaluations/{evaluation.id}/events")
        return await read_events(response, "ended", [one_more_done, end, lambda: None])

    events = async_to_sync(scenario)()
    progress = [e for e in events if e["event"] == "progress"]
    assert len(progress) >= 2 and "100 / 400" in progress[0]["data"] and "101 / 400" in progress[1]["data"]
    assert all(len(e["data"].encode()) < 2048 for e in progress), [len(e["data"]) for e in progress]
    report = next(e for e in events if e["event"] == "report")
    assert 'data-testid="item-table"' in report["data"] and "sse-connect" not in report["data"]
    assert [e["event"] for e in events][-2:] == ["report", "ended"]
    assert AsyncClient and async_to_sync(AsyncClient().get)(f"/evaluations/{evaluation.id}/events").status_code == 404


def test_under_wsgi_a_stream_is_stepped_on_its_own_thread(client, user, live_trial):
    """runserver and the test server serve WSGI: the stream still flows, event by event."""
    trial, (local, served) = live_trial
    client.force_login(user)
    response = client.get(f"/trials/{trial.id}/events?since=0")
    chunks = []
    for chunk in response.streaming_content:
        chunks.append(chunk.decode())
        if chunks[-1].startswith(": watching"):
            for run in (local, served):
                lifecycle.run_finish(run, output=run.output + " end")
        if parse(chunks) and parse(chunks)[-1]["event"] == "ended":
            break
    names = [e["event"] for e in parse(chunks)]
    assert names[:2] == ["run-0", "run-1"] and {"after", "ended"} <= set(names), chunks
    assert sum('data-testid="run-metrics"' in e["data"] for e in parse(chunks)) >= 2
