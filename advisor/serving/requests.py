"""A chat completion request, checked: every problem names the parameter, as OpenAI's errors do."""

from dataclasses import dataclass

ROLES = ("system", "user", "assistant", "developer")
MAX_TOP_LOGPROBS = 20  # OpenAI's limit


class BadRequest(ValueError):
    def __init__(self, message: str, param: str):
        self.param = param
        super().__init__(message)


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict]  # [{"role", "content": str}], content flattened to text
    max_tokens: int
    temperature: float
    stream: bool
    include_usage: bool
    logprobs: bool
    top_logprobs: int

    @property
    def prompt(self) -> str:
        """The last user message (what a decision log keeps when the owner asks for text)."""
        return next((m["content"] for m in reversed(self.messages) if m["role"] == "user"), "")


def _text(content, index: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
                                         for part in content):
        return "".join(part["text"] for part in content)
    raise BadRequest(f"messages[{index}].content must be a string or a list of text parts.", f"messages[{index}].content")


def _number(body: dict, name: str, default, kind, low, high):
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int) or not low <= value <= high:
        raise BadRequest(f"{name} must be {'a number' if kind is float else 'an integer'} from {low} to {high}.", name)
    return kind(value)


def chat_request_parse(body, *, default_max_tokens: int, max_tokens_limit: int) -> ChatRequest:
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.", "body")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("model is required: a model's id from /v1/models.", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list of {role, content}.", "messages")
    checked = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise BadRequest(f"messages[{index}].role must be one of {', '.join(ROLES)}.", f"messages[{index}].role")
        role = "system" if message["role"] == "developer" else message["role"]
        checked.append({"role": role, "content": _text(message.get("content"), index)})
    if "max_completion_tokens" in body and body["max_completion_tokens"] is not None:
        max_tokens = _number(body, "max_completion_tokens", default_max_tokens, int, 1, max_tokens_limit)
    else:
        max_tokens = _number(body, "max_tokens", default_max_tokens, int, 1, max_tokens_limit)
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise BadRequest("stream_options must be an object.", "stream_options")
    for name in ("stream", "logprobs"):
        if not isinstance(body.get(name, False) or False, bool):
            raise BadRequest(f"{name} must be true or false.", name)
    logprobs = bool(body.get("logprobs"))
    top_logprobs = _number(body, "top_logprobs", 0, int, 0, MAX_TOP_LOGPROBS)
    if top_logprobs and not logprobs:
        raise BadRequest("top_logprobs needs logprobs: true.", "top_logprobs")
    n = body.get("n", 1)
    if n not in (1, None):
        raise BadRequest("n must be 1: one answer per request.", "n")
    return ChatRequest(
        model=model, messages=checked, max_tokens=max_tokens,
        temperature=_number(body, "temperature", 0.0, float, 0, 2),
        stream=bool(body.get("stream")), include_usage=bool(stream_options.get("include_usage")),
        logprobs=logprobs, top_logprobs=top_logprobs,
    )
