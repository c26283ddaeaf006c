"""POST /v1/chat/completions: admit, answer, tell, log. The view in api.py stays thin."""

import asyncio
import contextvars
import logging
import random
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import JsonResponse, StreamingHttpResponse

from advisor import openai_wire as wire
from advisor.serving.requests import ChatRequest
from advisor.trials.runners import GenerationRequest, RunError

from . import shadow
from .answering import Outcome, Unanswered, elapsed_ms, plain_answer, policy_answer, whole_text
from .models import GatewayRequest
from .routing import NotRoutable, Route, gateway_route
from .spend import Refused, billable, billable_worst_usd, spend_reserve, spend_settle, worst_case_usd
from .telling import advisor_headers, advisor_json, log_fields, usage_json

log = logging.getLogger(__name__)
# Shadow calls, which outlive their response: kept referenced until they finish.
_background: set[asyncio.Task] = set()


def openai_error(message: str, status: int, *, type: str, code: str | None = None, param: str | None = None,
                 headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(wire.error_body(message, type=type, code=code, param=param), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _generation_request(chat: ChatRequest) -> GenerationRequest:
    return GenerationRequest(prompt=chat.prompt, max_tokens=chat.max_tokens, temperature=chat.temperature,
                             time_limit_s=settings.OPENAI_TIMEOUT_S, conversation=tuple(chat.messages))


def _admit(*, request, chat: ChatRequest) -> tuple[Route, GatewayRequest]:
    """(what `model` names, the request's reserved row): one hop to a thread for both."""
    route = gateway_route(owner=request.user, name=chat.model)
    policy = route.policy
    models = [policy.slm, policy.llm] if policy else [route.model]
    prompt_text = "".join(message["content"] for message in chat.messages)
    worst = worst_case_usd(models, prompt=prompt_text, max_tokens=chat.max_tokens)
    billable_worst = billable_worst_usd(models, prompt=prompt_text, max_tokens=chat.max_tokens)
    return route, spend_reserve(owner=request.user, token=request.api_token, worst_usd=worst, billable_worst=billable_worst,
                                model_asked=chat.model,
                         policy=policy, policy_family=policy.family if policy else None,
                         threshold=policy.threshold if policy else None, stream=chat.stream)


def in_background(coroutine) -> None:
    # A context of its own: the request's (with its thread for sync code) ends with the response.
    task = asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())
    _background.add(task)
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("A shadow call failed", exc_info=task.exception())


async def chat_answer(request, *, chat: ChatRequest):
    try:
        route, row = await sync_to_async(_admit)(request=request, chat=chat)
    except NotRoutable as exc:
        return openai_error(str(exc), 404, type="invalid_request_error", code="model_not_found", param="model")
    except Refused as exc:
        return openai_error(str(exc), 429, type="rate_limit_error" if exc.code == "rate_limit_exceeded" else "insufficient_quota",
                            code=exc.code, headers={"Retry-After": str(exc.retry_after)})
    started = time.monotonic()
    generation = _generation_request(chat)
    try:
        if route.policy is not None:
            outcome = await policy_answer(route, generation, started=started, shadow_draw=random.random())
        else:
            outcome = await plain_answer(route, generation, started=started)
    except Unanswered as exc:
        await _settle_failed(row.pk, str(exc), started)
        return openai_error(str(exc), 502, type="upstream_error", code="upstream_failed")
    except BaseException:
        await _settle_failed(row.pk, "The gateway failed; the error is logged.", started)
        raise
    if chat.stream:
        response = StreamingHttpResponse(_streamed(outcome, row.pk, chat), content_type="text/event-stream")
        for name, value in advisor_headers(outcome, with_cost=False).items():
            response[name] = value
        response["Cache-Control"] = "no-store"
        response["X-Accel-Buffering"] = "no"  # a proxy in front must not hold the tokens back
        return response
    try:
        text = await whole_text(outcome)
    except Unanswered as exc:
        await _settle_failed(row.pk, str(exc), started, outcome=outcome)
        return openai_error(str(exc), 502, type="upstream_error", code="upstream_failed")
    total = elapsed_ms(outcome)
    body = wire.completion_json(id=wire.completion_id(), model=chat.model, text=text, finish_reason=_finish(outcome, chat),
                                usage=usage_json(outcome))
    body["advisor"] = advisor_json(outcome)
    await _settled(outcome, row.pk, chat, text=text, total_ms=total, ttft_ms=total)
    response = JsonResponse(body)
    for name, value in advisor_headers(outcome, with_cost=True).items():
        response[name] = value
    return response


def _finish(outcome: Outcome, chat: ChatRequest) -> str:
    return "length" if (outcome.answering.output_tokens or 0) >= chat.max_tokens else "stop"


async def _streamed(outcome: Outcome, row_id, chat: ChatRequest):
    id, created = wire.completion_id(), int(time.time())
    yield wire.sse(wire.chunk_json(id=id, model=chat.model, created=created, delta={"role": "assistant", "content": ""}))
    received, ttft_ms, failed = [], None, None
    tokens = outcome.tokens()
    try:
        try:
            async for token in tokens:
                if ttft_ms is None:
                    ttft_ms = elapsed_ms(outcome)
                received.append(token)
                yield wire.sse(wire.chunk_json(id=id, model=chat.model, created=created, delta={"content": token}))
        except RunError as exc:
            # Tokens were sent: no model can take over without stitching answers. OpenAI's error event.
            failed = f"{outcome.answering.model.slug} broke off mid-answer: {exc}"
            yield wire.sse(wire.error_body(failed, type="upstream_error", code="upstream_failed"))
        finally:
            await tokens.aclose()
        if failed is None:
            # The caller has the whole answer at [DONE]; the log is written after it.
            yield wire.sse(wire.chunk_json(id=id, model=chat.model, created=created, delta={}, finish_reason=_finish(outcome, chat)))
            last = wire.chunk_json(id=id, model=chat.model, created=created, usage=usage_json(outcome))
            last["advisor"] = advisor_json(outcome)
            yield wire.sse(last)
            yield wire.DONE
    finally:
        # Shielded: a caller who hung up cancels this generator, and its request must still be settled.
        if failed is not None:
            await asyncio.shield(_settle_failed(row_id, failed, outcome.started, outcome=outcome))
        else:
            await asyncio.shield(_settled(outcome, row_id, chat, text="".join(received), total_ms=elapsed_ms(outcome),
                                          ttft_ms=ttft_ms))


async def _settled(outcome: Outcome, row_id, chat: ChatRequest, *, text: str, total_ms: int, ttft_ms: int | None) -> None:
    policy = outcome.route.policy
    fields = log_fields(outcome, total_ms=total_ms, ttft_ms=ttft_ms, text_kept=bool(policy and policy.log_text),
                        prompt=chat.prompt, answer_text=text)
    await sync_to_async(spend_settle)(row_id, cost_usd=outcome.cost_usd, billable=billable(outcome.answers), **fields)
    if outcome.shadow:
        in_background(_shadowed(outcome, row_id, chat))


async def _shadowed(outcome: Outcome, row_id, chat: ChatRequest) -> None:
    """After the caller has the answer: the LLM answers too, its cost is added to the request's, and
    both answers go to the review queue."""
    answer = await shadow.shadow_answer(outcome, _generation_request(chat))
    if answer.answered:
        await sync_to_async(shadow.shadow_queue, thread_sensitive=False)(policy=outcome.route.policy, prompt=chat.prompt, system=_system(chat),
                                                 draft=outcome.draft, llm=answer)
    await sync_to_async(shadow.shadow_settle, thread_sensitive=False)(row_id, answer=answer)


def _system(chat: ChatRequest) -> str:
    return next((m["content"] for m in chat.messages if m["role"] == "system"), "")


async def _settle_failed(row_id, error: str, started: float, *, outcome: Outcome | None = None) -> None:
    answers = outcome.answers if outcome else []
    await sync_to_async(spend_settle)(row_id, cost_usd=sum(a.cost_usd for a in answers), billable=billable(answers),
                                      status=GatewayRequest.Status.FAILED, error=error[:300],
                                      total_ms=max(0, round((time.monotonic() - started) * 1000)))
