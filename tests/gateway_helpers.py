"""Shared set-up of the gateway tests: catalogue entries for the models behind a policy, API tokens, calls."""

import json

from asgiref.sync import async_to_sync
from django.test import AsyncClient

from advisor.catalogue.models import LanguageModel
from advisor.hybrid.services import hybrid_policy_set
from advisor.tokens.services import token_create

from .conftest import openai_model


def slm_entry(base_url: str, slug: str = "slm-served") -> LanguageModel:
    """A small model on our own machine behind an OpenAI-compatible server: priced by the machine's time."""
    model = openai_model(slug=slug, base_url=base_url)
    LanguageModel.objects.filter(pk=model.pk).update(params_b=0.135, open_weights=True)
    model.refresh_from_db()
    return model


def llm_entry(base_url: str, slug: str = "llm-hosted") -> LanguageModel:
    return openai_model(slug=slug, base_url=base_url, hosted=True, input_price=2.5, output_price=10.0)


def policy(owner, slm, llm, *, threshold: float, name: str = "support", **settings):
    made = hybrid_policy_set(owner=owner, name=name, slm=slm, llm=llm, threshold=threshold)
    if settings:
        type(made).objects.filter(pk=made.pk).update(**settings)
        made.refresh_from_db()
    return made


def bearer(user, name: str = "ci") -> str:
    return token_create(owner=user, name=name)[1]


class Answered:
    """A gateway answer, its stream (if any) read to the end on the event loop that made it, as an ASGI server does."""

    def __init__(self, response, body: bytes):
        self.response, self.status_code, self.body = response, response.status_code, body

    def __getitem__(self, header: str) -> str:
        return self.response[header]

    def __contains__(self, header: str) -> bool:
        return header in self.response

    def json(self):
        return json.loads(self.body)

    def events(self) -> list:
        """The JSON events of a streamed answer, `[DONE]` as the string."""
        events = []
        for block in self.body.decode().split("\n\n"):
            if block.startswith("data: "):
                data = block[len("data: "):]
                events.append(data if data == "[DONE]" else json.loads(data))
        return events


def chat(client, secret: str, model: str, *, content: str = "Name a colour.", max_tokens: int = 8, **extra) -> Answered:
    body = {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": max_tokens, **extra}
    return post_json("/v1/chat/completions", body, secret=secret)


def post_json(path: str, body, *, secret: str | None) -> Answered:
    async def call():
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        data = body if isinstance(body, str) else json.dumps(body)
        response = await AsyncClient().post(path, data=data, content_type="application/json", headers=headers)
        content = b"".join([chunk async for chunk in response.streaming_content]) if response.streaming else response.content
        return Answered(response, content)

    return async_to_sync(call)()
