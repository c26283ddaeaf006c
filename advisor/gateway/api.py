"""The gateway's and the policies' endpoints on django-ninja, with one exception handler, token and
session auth classes, and an OpenAPI page at /api/docs. Errors under /v1/ are in OpenAI's shape;
under /api/ in the contract's `{"errors": {"field": [...]}}`."""

import json
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import Field

from advisor import openai_wire as wire
from advisor.serving.requests import BadRequest, chat_request_parse
from advisor.web.api import AuthProblem, api_user

from . import policies
from .chat import chat_answer, openai_error
from .routing import servable_models

log = logging.getLogger(__name__)
GATEWAY_PREFIX = "/v1/"


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <API token>`: advisor.tokens' middleware has checked the secret and set
    `request.api_token` (an unknown or revoked one was refused there)."""

    def authenticate(self, request, token):
        return getattr(request, "api_token", None)


class SiteAuth:
    """Whatever the rest of the JSON API accepts (advisor.web.api.api_user): an API token, HTTP Basic,
    or the session with its CSRF token for changes."""

    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_name = "sessionid"

    def __call__(self, request):
        user = api_user(request)  # raises AuthProblem, answered by the exception handler
        if user is not None:
            request.api_user = user
        return user


api = NinjaAPI(title="SLM or LLM? — gateway and policies", version="1", docs_url="/api/docs",
               openapi_url="/api/openapi.json", urls_namespace="ninja")


def _field(location) -> str:
    parts = [str(part) for part in location if part not in ("body", "payload")]
    return ".".join(parts) or "body"


def api_error(request, exc):
    """The one exception handler: every error of these endpoints, in the shape its path promises."""
    gateway = request.path.startswith(GATEWAY_PREFIX)
    if isinstance(exc, AuthProblem):
        status, message, errors = exc.status, "; ".join(m for ms in exc.errors.values() for m in ms), exc.errors
    elif isinstance(exc, AuthenticationError):
        status, message = 401, "Send an API token: Authorization: Bearer <token> (make one on the API tokens page)."
        errors = {"auth": [message]}
    elif isinstance(exc, ValidationError):
        status = 400
        errors = {}
        for error in exc.errors:
            errors.setdefault(_field(error.get("loc", ())), []).append(error.get("msg", "Invalid."))
        message = "; ".join(f"{field}: {', '.join(ms)}" for field, ms in errors.items())
    elif isinstance(exc, HttpError):
        status, message = exc.status_code, str(exc)
        errors = {"request": [message]}
    else:
        log.exception("Unexpected error in %s", request.path)
        status, message = 500, "The server failed; the error is logged."
        errors = {"request": [message]}
    if gateway:
        kind = {401: "authentication_error", 403: "permission_error"}.get(status, "invalid_request_error" if status < 500 else "server_error")
        response = JsonResponse(wire.error_body(message, type=kind, code="invalid_api_key" if status == 401 else None), status=status)
    else:
        response = JsonResponse({"errors": errors}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="SLM or LLM advisor API"'
    return response


# Ninja's own handlers answer its errors in its shape: this one replaces them all.
for kind in (Exception, AuthProblem, AuthenticationError, ValidationError, HttpError):
    api.add_exception_handler(kind, api_error)


@api.get("/v1/models", auth=ApiTokenAuth(), tags=["gateway"], summary="The models and policies this token can call")
async def models_list(request):
    def listed():
        from advisor.hybrid.models import HybridPolicy

        data = [{"id": model.slug, "object": "model", "created": 0, "owned_by": model.provider.slug} for model in servable_models()]
        seen = set()
        for policy in HybridPolicy.objects.filter(owner=request.user).order_by("family", "-version"):
            if policy.family not in seen:
                seen.add(policy.family)
                data.append({"id": f"policy/{policy.name or policy.family}", "object": "model",
                             "created": int(policy.created_at.timestamp()), "owned_by": request.user.get_username()})
        return data

    return {"object": "list", "data": await sync_to_async(listed)()}


@api.post("/v1/chat/completions", auth=ApiTokenAuth(), tags=["gateway"],
          summary="OpenAI's chat completions: a catalogue model's slug, or policy/<id or name>",
          openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}})
async def chat_completions(request):
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return openai_error("The body is not valid JSON.", 400, type="invalid_request_error", param="body")
    try:
        chat = chat_request_parse(body, default_max_tokens=min(256, settings.GATEWAY_MAX_TOKENS), max_tokens_limit=settings.GATEWAY_MAX_TOKENS)
    except BadRequest as exc:
        return openai_error(str(exc), 400, type="invalid_request_error", param=exc.param)
    return await chat_answer(request, chat=chat)


class TargetIn(Schema):
    kind: str = Field(description="llm_share, quality or monthly_budget")
    value: float
    requests_per_day: int | None = None


class PolicyIn(Schema):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$",
                      description="How callers name it: policy/<name> (letters, digits, . _ -)")
    slm: str | None = None
    llm: str | None = None
    threshold: float | None = Field(default=None, ge=0, le=1)
    evaluation: str | None = Field(default=None, description="Calibrate from this evaluation's votes (with a target)")
    target: TargetIn | None = None
    log_text: bool = False
    shadow_share: float = Field(default=0.0, ge=0, le=1)


class PolicyOut(Schema):
    id: str
    name: str
    version: int


class PolicySettingsIn(Schema):
    log_text: bool | None = None
    shadow_share: float | None = Field(default=None, ge=0, le=1)


class RecalibrateIn(Schema):
    target: TargetIn | None = None


def _rejected(exc: policies.PolicyRejected):
    return JsonResponse({"errors": exc.errors}, status=exc.status)


@api.post("/api/policies", auth=SiteAuth(), response={201: PolicyOut}, tags=["policies"],
          summary="Save a policy: a threshold by hand, or calibrated from an evaluation's votes")
def policy_create(request, payload: PolicyIn):
    try:
        policy = policies.policy_from_request(owner=request.api_user, **payload.dict())
    except policies.PolicyRejected as exc:
        return _rejected(exc)
    return 201, policies.policy_json(policy)


@api.get("/api/policies", auth=SiteAuth(), tags=["policies"], summary="Your policies, latest version of each")
def policy_list(request):
    return {"policies": [policies.policy_json(policy, full=True) for policy in policies.policies_latest(owner=request.api_user)]}


@api.patch("/api/policies/{policy_id}", auth=SiteAuth(), tags=["policies"], summary="Turn text logging or shadow sampling on or off")
def policy_settings(request, policy_id: str, payload: PolicySettingsIn):
    try:
        policy = policies.policy_settings_change(owner=request.api_user, ref=policy_id, **payload.dict(exclude_none=True))
    except policies.PolicyRejected as exc:
        return _rejected(exc)
    return policies.policy_json(policy, full=True)


@api.post("/api/policies/{policy_id}/recalibrate", auth=SiteAuth(), response={201: PolicyOut}, tags=["policies"],
          summary="A new version calibrated on the votes of the policy's live traffic (shadow sampling)")
def policy_recalibrate(request, policy_id: str, payload: RecalibrateIn):
    try:
        policy = policies.policy_recalibrate_request(owner=request.api_user, ref=policy_id,
                                                     target=payload.target.dict() if payload.target else None)
    except policies.PolicyRejected as exc:
        return _rejected(exc)
    return 201, policies.policy_json(policy)
