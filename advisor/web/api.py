"""The JSON API (CONTRACT.md): thin views that validate, call a service and answer JSON."""

import base64
import functools
import uuid

from django.contrib.auth import authenticate
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition, require_GET, require_POST

from advisor.trials.reply_length import DEFAULT_MAX_TOKENS
from advisor.trials.models import Trial
from advisor.trials.services import TrialRejected, TrialRequest, trial_start

from .advice import recommendation_create
from .forms import TrialForm, advisor_answers_clean
from .json_input import BadInput, check_types, read_json_object
from .json_output import json_response
from .trial_access import can_view_trial
from .trial_etag import trial_etag
from .trial_presenter import present_trial

RECOMMEND_TYPES = {
    "task": str, "quality": str, "latency": str, "requests_per_day": int, "input_tokens": int, "output_tokens": int,
    "budget_usd_month": float, "hardware": dict, "privacy": str, "offline": bool, "fine_tuning": bool, "complex_share": float,
    "assumptions": dict, "residency": str,
}
RECOMMEND_REQUIRED = ("task", "quality", "latency", "requests_per_day", "input_tokens", "output_tokens", "budget_usd_month", "hardware", "privacy")
HARDWARE_TYPES = {"target": str, "ram_gb": float, "gpu_vram_gb": float, "this_machine": bool, "device": str, "count": int}
ASSUMPTION_TYPES = {"amortization_months": int, "usd_per_kwh": float, "gpu_hour_usd": float, "machine_usd": float,
                    "machine_watts": float, "max_parallel_requests": int}
TRIAL_TYPES = {"prompt": str, "system": str, "models": list, "max_tokens": int, "temperature": float, "blind": bool}
TRIAL_DEFAULTS = {"max_tokens": DEFAULT_MAX_TOKENS, "temperature": 0.0}


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def errors_response(errors: dict, status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=status)


class AuthProblem(Exception):
    def __init__(self, status: int, errors: dict):
        self.status, self.errors = status, errors
        super().__init__(errors)


# Both schemes the API takes; Bearer (an API token) is the cheap one.
WWW_AUTHENTICATE = 'Basic realm="SLM or LLM advisor API", charset="UTF-8", Bearer realm="SLM or LLM advisor API"'
NOT_SIGNED_IN = "Sign in, or send an API token (Authorization: Bearer) or HTTP Basic credentials."


def auth_error_response(exc: AuthProblem) -> JsonResponse:
    response = JsonResponse({"errors": exc.errors}, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


def api_user(request):
    """The caller: the owner of an API token, the user of HTTP Basic credentials, or of the session;
    None for an anonymous call.

    A token was checked by advisor.tokens.middleware (an unknown one never gets here). Basic
    credentials cost a password hash (PBKDF2, ~0.25 s of CPU) on every call. Neither needs a CSRF token (a browser never adds them cross-site on its own, and
    they are checked — and throttled by django-axes — on every call). A session call that changes
    something must carry the CSRF token, or another site could make it in the user's name.
    Raises AuthProblem: 401 for bad credentials, 403 for a session call without its token.
    """
    if getattr(request, "api_token", None) is not None:
        return request.user
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Basic "):
        try:
            username, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise AuthProblem(401, {"auth": ["The HTTP Basic credentials are malformed."]}) from None
        if "\x00" in username + password:  # PostgreSQL refuses it in the user lookup and django-axes' log
            raise AuthProblem(401, {"auth": ["The HTTP Basic credentials are malformed."]})
        user = authenticate(request, username=username, password=password)
        if user is None:
            raise AuthProblem(401, {"auth": ["Wrong user name or password."]})
        return user
    if request.user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS") and CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None:
            raise AuthProblem(403, {"csrf": ["A signed-in session must send its CSRF token (X-CSRFToken header); scripts can use an API token instead."]})
        return request.user
    return None


def signed_in(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            user = api_user(request)
        except AuthProblem as exc:
            return auth_error_response(exc)
        if user is None:
            return auth_error_response(AuthProblem(401, {"auth": [NOT_SIGNED_IN]}))
        request.api_user = user
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
def health_api(request):
    """A trivial answer: for load balancers, and the baseline of benchmarks/bench_recommend_http.py."""
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_POST
def recommend_api(request):
    # Anonymous calls are welcome; a signed-in caller's answer is saved in their name, so it is
    # authenticated like any other API call (CSRF token for a session).
    try:
        user = api_user(request)
    except AuthProblem as exc:
        return auth_error_response(exc)
    try:
        data = read_json_object(request)
    except BadInput as exc:
        return errors_response(exc.errors)
    errors = check_types(data, RECOMMEND_TYPES, required=RECOMMEND_REQUIRED)
    hardware = data.get("hardware") if isinstance(data.get("hardware"), dict) else {}
    # A named device stands for the class and its memory; without one, the class and RAM are needed.
    errors |= check_types(hardware, HARDWARE_TYPES, prefix="hardware.", required=() if hardware.get("device") else ("target", "ram_gb"))
    assumptions = data.get("assumptions") if isinstance(data.get("assumptions"), dict) else {}
    errors |= check_types(assumptions, ASSUMPTION_TYPES, prefix="assumptions.")
    if errors:
        return errors_response(errors)
    flat = {name: data.get(name) for name in RECOMMEND_TYPES if name not in ("hardware", "assumptions")}
    flat |= {f"hardware_{name}": hardware.get(name) for name in HARDWARE_TYPES} | {name: assumptions.get(name) for name in ASSUMPTION_TYPES}
    flat["hardware_gpu_vram_gb"] = flat["hardware_gpu_vram_gb"] or 0
    if hardware.get("device"):
        flat["hardware_target"] = flat["hardware_target"] or "server"
        flat["hardware_ram_gb"] = flat["hardware_ram_gb"] or 0
    answers, errors = advisor_answers_clean({name: value for name, value in flat.items() if value is not None})
    if errors:
        return errors_response({_api_field(name): messages for name, messages in errors.items()})
    saved = recommendation_create(answers=answers, user=user)
    extra = {}
    if user is None:
        # No account owns it: its share link is the only way back to it, so the caller gets one.
        from .sharing import recommendation_share

        recommendation_share(saved=saved)
        extra["share_url"] = saved.get_share_url()
    return json_response(saved.result | {"id": str(saved.id), "url": saved.get_absolute_url()} | extra)


def _api_field(form_field: str) -> str:
    """The API's name for a form field: hardware_ram_gb → hardware.ram_gb, usd_per_kwh → assumptions.usd_per_kwh."""
    if form_field.startswith("hardware_"):
        return form_field.replace("hardware_", "hardware.", 1)
    if form_field in ASSUMPTION_TYPES:
        return f"assumptions.{form_field}"
    return form_field


@csrf_exempt
def trials_api(request):
    if request.method != "POST":
        return JsonResponse({"errors": {"method": ["Use POST."]}}, status=405)
    return _trial_create(request)


@signed_in
def _trial_create(request):
    try:
        data = read_json_object(request)
    except BadInput as exc:
        return errors_response(exc.errors)
    errors = check_types(data, TRIAL_TYPES | {"recommendation": str}, required=("prompt", "models"))
    if not errors and not all(isinstance(slug, str) for slug in data["models"]):
        errors["models"] = ["Must be a list of model slugs."]
    if errors:
        return errors_response(errors)
    checks = None
    if data.get("recommendation"):
        from .sharing import recommendation_of_user

        checks = recommendation_of_user(request.api_user, data["recommendation"])
        if checks is None:
            return errors_response({"recommendation": ["No such recommendation of yours."]})
    # The API's defaults; the form then applies the same rules as the page. Unknown slugs are left
    # to trial_start, which names them.
    fields = TRIAL_DEFAULTS | {name: value for name, value in data.items() if name in TRIAL_TYPES and value is not None}
    form = TrialForm(fields, model_choices=[(slug, slug) for slug in data["models"]])
    if not form.is_valid():
        return errors_response(form.errors)
    hybrid = None
    if data.get("hybrid") is not None:
        from advisor.trials.hybrid_run import HybridRejected, hybrid_spec_from_json

        try:
            hybrid = hybrid_spec_from_json(data["hybrid"])
        except HybridRejected as exc:
            return errors_response(exc.errors)
    try:
        trial = trial_start(owner=request.api_user, request=TrialRequest(**form.cleaned_data, hybrid=hybrid))
    except TrialRejected as exc:
        return errors_response(exc.errors, status=exc.status)
    if checks is not None:
        Trial.objects.filter(pk=trial.pk).update(recommendation=checks)
    return JsonResponse({"id": str(trial.id), "url": trial.get_absolute_url()}, status=201)


@csrf_exempt
@require_GET
@signed_in
@condition(etag_func=trial_etag)
def trial_api(request, trial_id):
    trial = Trial.objects.prefetch_related("runs", "votes").filter(pk=trial_id).first() if is_uuid(trial_id) else None
    if trial is None or not can_view_trial(request.api_user, trial):
        return JsonResponse({"errors": {"id": ["No such trial."]}}, status=404)
    return JsonResponse(present_trial(trial, request.api_user).as_json())
