"""Live pages as Server-Sent Events: async views (advisor/asgi.py sends every `…/events` path to
Django's ASGI handler), so a viewer waiting for the next change holds no thread. The ORM is only
touched through its async calls, and templates render in a thread for a moment when a column's
state changes."""

import time

from asgiref.sync import async_to_sync, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, StreamingHttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from advisor.trials.models import Trial

from .trial_access import can_view_trial
from .trial_presenter import present_trial
from .trial_feed import ended, feed_for
from .trial_stream import TrialStream, events_for, render_columns, sse_event

# Sent when nothing changed for this long: proxies close connections that stay silent.
KEEPALIVE_S = 15


def since_of(request) -> int:
    """The newest save the browser has: Last-Event-ID on a reconnect, else the page's `?since=`."""
    value = request.headers.get("Last-Event-ID") or request.GET.get("since") or "0"
    return int(value) if value.isdigit() else 0


def _stepped(events):
    """An async stream served under WSGI (runserver, the test server): one thread per stream,
    which steps it. Django would otherwise collect the whole (endless) stream before sending it."""
    step = markcoroutinefunction(lambda: events.__anext__())
    while True:
        try:
            yield async_to_sync(step)()
        except StopAsyncIteration:
            return


def event_stream_response(request, events) -> StreamingHttpResponse:
    """`events` (an async generator of SSE text) as the answer, under ASGI or (stepped) WSGI."""
    if not isinstance(request, ASGIRequest):
        events = _stepped(events)
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold the events back
    return response


def _viewed_trial(trial_id, user):
    trial = Trial.objects.prefetch_related("runs", "votes").filter(pk=trial_id).first()
    if trial is None or not can_view_trial(user, trial):
        raise Http404("No such trial.")
    return present_trial(trial, user)


@require_GET
async def trial_events(request, trial_id):
    user = await request.auser()
    view = await sync_to_async(_viewed_trial)(trial_id, user)
    stream = TrialStream(columns={rv.run.pk: rv.column for rv in view.runs}, since=since_of(request))
    return event_stream_response(request, _trial_events(request, trial_id, user, stream))


def _render(request, trial_id, user, pks):
    return render_columns(_viewed_trial(trial_id, user), pks, request)


def _render_after(request, trial_id, user) -> str:
    view = _viewed_trial(trial_id, user)
    context = {"trial": view.trial, "view": view, "runs": view.runs, "is_owner": user.pk == view.trial.owner_id, "user": user}
    return render_to_string("web/trial.html#after", context, request=request)


async def _trial_events(request, trial_id, user, stream: TrialStream):
    deadline = time.monotonic() + settings.LIVE_STREAM_MAX_S
    yield "retry: 1000\n\n"
    # Under WSGI each step runs on an event loop of its own, which a shared feed cannot outlive.
    feed = feed_for(trial_id, list(stream.columns), shared=isinstance(request, ASGIRequest))
    try:
        seen, first = 0, True
        while True:
            if not await feed.next(seen, KEEPALIVE_S):
                if not feed.alive:
                    return
                yield ": keepalive\n\n"
                continue
            seen, runs = feed.version, feed.rows
            whole, appended = stream.changes(runs)
            rendered = await sync_to_async(_render)(request, trial_id, user, whole) if whole else []
            for event in events_for(stream, runs, appended, rendered):
                yield event
            if first:
                first = False
                yield ": watching\n\n"  # the browser is up to date from here on
            if ended(runs):
                html = await sync_to_async(_render_after)(request, trial_id, user)
                yield sse_event("after", html, stream.since)
                yield sse_event("ended", "", stream.since)
                return
            if time.monotonic() > deadline:
                return  # the browser reconnects with the last id and resumes
    finally:
        feed.leave()
