"""An evaluation's live view as Server-Sent Events: `progress` (its counts, under 2 KB) whenever a
run finishes, and the whole report once, when the evaluation ends (`report`, then `ended`)."""

import asyncio
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from advisor.web.streams import event_stream_response
from advisor.web.trial_stream import sse_event

from .models import Evaluation
from .progress import progress_counts_async

KEEPALIVE_S = 15


@require_GET
async def evaluation_events(request, evaluation_id):
    user = await request.auser()
    evaluation = await Evaluation.objects.filter(pk=evaluation_id, owner_id=user.pk).afirst() if user.is_authenticated else None
    if evaluation is None:
        raise Http404("No such evaluation.")
    return event_stream_response(request, _evaluation_events(request, evaluation))


def _report(request, evaluation_id) -> str:
    from .views import _report_context

    evaluation = Evaluation.objects.select_related("suite", "recommendation").get(pk=evaluation_id)
    return render_to_string("evaluations/report.html#live", _report_context(evaluation), request=request)


async def _evaluation_events(request, evaluation):
    deadline = time.monotonic() + settings.LIVE_STREAM_MAX_S
    yield "retry: 1000\n\n"
    sent, quiet_since = None, time.monotonic()
    while True:
        evaluation = await Evaluation.objects.aget(pk=evaluation.pk)
        if evaluation.finished:
            html = await sync_to_async(_report)(request, evaluation.pk)
            yield sse_event("report", html)
            yield sse_event("ended", "")
            return
        counts = await progress_counts_async(evaluation)
        if (evaluation.status, counts) != sent:
            sent, quiet_since = (evaluation.status, counts), time.monotonic()
            html = render_to_string("evaluations/report.html#progress", {"evaluation": evaluation, **counts})
            yield sse_event("progress", html)
        elif time.monotonic() - quiet_since >= KEEPALIVE_S:
            quiet_since = time.monotonic()
            yield ": keepalive\n\n"
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(settings.EVAL_POLL_MS / 1000)
