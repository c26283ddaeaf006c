"""One model's part of a gateway request, through the runner interface (async), timed and priced."""

import asyncio
import time
from dataclasses import dataclass, field

from advisor.catalogue.models import LanguageModel
from advisor.trials.execution import target_for
from advisor.trials.pricing import run_cost
from advisor.trials.runners import GenerationRequest, RunError, Token, Usage
from advisor.trials.runners.openai_compatible import astream


@dataclass
class Answer:
    model: LanguageModel
    text: str = ""
    tokens: list[str] = field(default_factory=list)
    ttft_ms: int | None = None
    total_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    confidence: dict | None = None
    cost_usd: float = 0.0
    cost_basis: str = ""
    error: str | None = None
    finished: bool = False

    @property
    def answered(self) -> bool:
        return self.finished and self.error is None


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _estimated_tokens(text: str) -> int:
    # Servers that report no usage: about four characters a token (an estimate, said so in the cost basis).
    return max(1, len(text) // 4) if text else 0


class Call:
    """Streams one model; `answer` fills in as it goes and is priced when it ends, even when it fails
    (a failed call still took the machine's time or the provider's tokens)."""

    def __init__(self, model: LanguageModel, request: GenerationRequest):
        self.model, self.request = model, request
        self.answer = Answer(model)

    async def tokens(self):
        answer = self.answer
        begun = time.monotonic()
        usage = None
        try:
            async for event in astream(target_for(self.model), self.request, max_retries=0):
                if isinstance(event, Token):
                    if answer.ttft_ms is None:
                        answer.ttft_ms = _ms(time.monotonic() - begun)
                    answer.tokens.append(event.text)
                    answer.text += event.text
                    yield event.text
                elif isinstance(event, Usage):
                    usage = event
        except RunError as exc:
            answer.error = str(exc)
            raise
        except (asyncio.CancelledError, TimeoutError):
            answer.error = "timed out"
            raise
        finally:
            answer.total_ms = _ms(time.monotonic() - begun)
            self._price(usage)
            answer.finished = True

    def _price(self, usage: Usage | None) -> None:
        answer = self.answer
        estimated = usage is None or usage.input_tokens is None or usage.output_tokens is None
        prompt_text = "".join(message["content"] for message in self.request.messages())
        answer.input_tokens = usage.input_tokens if usage and usage.input_tokens is not None else _estimated_tokens(prompt_text)
        answer.output_tokens = usage.output_tokens if usage and usage.output_tokens is not None else _estimated_tokens(answer.text)
        answer.confidence = usage.confidence if usage else None
        # Arithmetic on the catalogue row (its provider loaded with it) and the machine probed once per
        # process (at admission): no database, so no hop to a thread.
        cost, basis = run_cost(self.model, answer.input_tokens, answer.output_tokens, (answer.total_ms or 0) / 1000)
        answer.cost_usd = cost or 0.0
        answer.cost_basis = basis + ("; token counts estimated (the server reported none)" if estimated and self.model.hosted else "")

    async def whole(self, timeout_s: float) -> Answer:
        """The whole answer, or `answer.error` set when the model failed or ran past `timeout_s`."""
        try:
            async with asyncio.timeout(timeout_s):
                async for _ in self.tokens():
                    pass
        except RunError:
            pass
        except TimeoutError:
            self.answer.error = f"no complete answer within {timeout_s:g} s"
        return self.answer
