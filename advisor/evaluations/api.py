"""The evaluations' JSON API (CONTRACT.md): thin views that validate, call a service and answer JSON."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from advisor.web.api import errors_response, is_uuid, signed_in
from advisor.web.json_input import BadInput, check_types, read_json_object
from advisor.web.sharing import recommendation_of_user

from advisor.trials.reply_length import max_tokens_default

from .exports import evaluation_csv
from .models import Evaluation, Suite
from .report import evaluation_figures
from .services import (
    EvaluationRejected, EvaluationRequest, evaluation_cancel, evaluation_retry, evaluation_start, suite_create, vote_record,
)
from .suite_input import item_from

SUITE_TYPES = {"name": str, "description": str, "items": list}
EVALUATION_TYPES = {"suite": str, "models": list, "repeats": int, "max_tokens": int, "temperature": float, "judge": str,
                    "judge_max_tokens": int, "requests_per_day": int, "recommendation": str,
                    "judge_anyway": bool}
VOTE_TYPES = {"item": int, "winner": str}


def _not_found(what: str) -> JsonResponse:
    return JsonResponse({"errors": {"id": [f"No such {what}."]}}, status=404)


def own_evaluation(user, evaluation_id) -> Evaluation | None:
    if not is_uuid(str(evaluation_id)):
        return None
    return Evaluation.objects.select_related("suite", "recommendation").filter(pk=evaluation_id, owner=user).first()


@csrf_exempt
@require_POST
@signed_in
def suites_api(request):
    try:
        data = read_json_object(request)
    except BadInput as exc:
        return errors_response(exc.errors)
    errors = check_types(data, SUITE_TYPES, required=("name", "items"))
    if errors:
        return errors_response(errors)
    items, problems = [], []
    for index, raw in enumerate(data["items"]):
        item, found = item_from(raw, f"items[{index}]")
        problems += found
        if item:
            items.append(item)
    if problems:
        return errors_response({"items": problems})
    try:
        suite = suite_create(owner=request.api_user, name=data["name"], items=items, description=data.get("description") or "")
    except EvaluationRejected as exc:
        return errors_response(exc.errors, status=exc.status)
    return JsonResponse({"id": str(suite.id), "url": suite.get_absolute_url(), "items": len(items)}, status=201)


@csrf_exempt
@require_POST
@signed_in
def evaluations_api(request):
    try:
        data = read_json_object(request)
    except BadInput as exc:
        return errors_response(exc.errors)
    errors = check_types(data, EVALUATION_TYPES, required=("suite", "models"))
    if not errors and not all(isinstance(slug, str) for slug in data["models"]):
        errors["models"] = ["Must be a list of model slugs."]
    if errors:
        return errors_response(errors)
    user = request.api_user
    suite = Suite.objects.visible_to(user).filter(pk=data["suite"]).first() if is_uuid(data["suite"]) else None
    if suite is None:
        return errors_response({"suite": ["No such suite."]})
    recommendation = data.get("recommendation")
    checks = recommendation_of_user(user, recommendation) if recommendation else None
    if recommendation and checks is None:
        return errors_response({"recommendation": ["No such recommendation of yours."]})
    if data.get("requests_per_day") is not None and not 0 <= data["requests_per_day"] <= 10**9:
        return errors_response({"requests_per_day": ["Must be between 0 and 1,000,000,000."]})
    if data.get("judge_max_tokens") is not None and not 1 <= data["judge_max_tokens"] <= 2048:
        return errors_response({"judge_max_tokens": ["Must be between 1 and 2048."]})
    def given(name, default):
        return default if data.get(name) is None else data[name]

    evaluation_request = EvaluationRequest(
        suite=suite, models=data["models"], repeats=given("repeats", 1), max_tokens=given("max_tokens", max_tokens_default(checks)),
        temperature=given("temperature", 0.0), judge=data.get("judge") or None, judge_max_tokens=data.get("judge_max_tokens"),
        requests_per_day=data.get("requests_per_day"), recommendation_id=recommendation or None,
        judge_anyway=bool(data.get("judge_anyway")),
    )
    try:
        evaluation = evaluation_start(owner=user, request=evaluation_request)
    except EvaluationRejected as exc:
        return errors_response(exc.errors, status=exc.status)
    return JsonResponse({"id": str(evaluation.id), "url": evaluation.get_absolute_url(),
                         "total": evaluation.runs.count(), "worst_case_cost_usd": evaluation.worst_case_cost_usd}, status=201)


@csrf_exempt
@require_GET
@signed_in
def evaluation_api(request, evaluation_id):
    evaluation = own_evaluation(request.api_user, evaluation_id)
    if evaluation is None:
        return _not_found("evaluation")
    return JsonResponse(evaluation_figures(evaluation))


@csrf_exempt
@require_GET
@signed_in
def evaluation_csv_api(request, evaluation_id):
    evaluation = own_evaluation(request.api_user, evaluation_id)
    if evaluation is None:
        return _not_found("evaluation")
    return csv_response(evaluation)


def csv_response(evaluation: Evaluation) -> HttpResponse:
    response = HttpResponse(evaluation_csv(evaluation), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="evaluation-{evaluation.id}.csv"'
    return response


@csrf_exempt
@require_POST
@signed_in
def evaluation_votes_api(request, evaluation_id):
    evaluation = own_evaluation(request.api_user, evaluation_id)
    if evaluation is None:
        return _not_found("evaluation")
    try:
        data = read_json_object(request)
    except BadInput as exc:
        return errors_response(exc.errors)
    errors = check_types(data, VOTE_TYPES, required=("item", "winner"))
    if errors:
        return errors_response(errors)
    item = evaluation.suite.items.filter(position=data["item"]).first()
    if item is None:
        return errors_response({"item": [f"No item {data['item']} in this evaluation's suite."]})
    if not evaluation.pair:
        return errors_response({"winner": ["This evaluation has one model: nothing to vote between."]})
    try:
        vote_record(evaluation=evaluation, item=item, voter=request.api_user, winner=data["winner"])
    except EvaluationRejected as exc:
        return errors_response(exc.errors, status=exc.status)
    votes = next(row["votes"] for row in evaluation_figures(evaluation)["items"] if row["index"] == item.position)
    return JsonResponse({"item": item.position, "votes": votes})


@csrf_exempt
@require_POST
@signed_in
def evaluation_cancel_api(request, evaluation_id):
    evaluation = own_evaluation(request.api_user, evaluation_id)
    if evaluation is None:
        return _not_found("evaluation")
    evaluation_cancel(evaluation=evaluation)
    evaluation.refresh_from_db()
    return JsonResponse({"id": str(evaluation.id), "status": evaluation.status})


@csrf_exempt
@require_POST
@signed_in
def evaluation_retry_api(request, evaluation_id):
    """Queue the evaluation's failed runs again (only those) → 202."""
    evaluation = own_evaluation(request.api_user, evaluation_id)
    if evaluation is None:
        return _not_found("evaluation")
    try:
        retried = evaluation_retry(evaluation=evaluation)
    except EvaluationRejected as exc:
        return errors_response(exc.errors, status=exc.status)
    return JsonResponse({"id": str(evaluation.id), "status": evaluation.status, "retried": retried,
                         "url": evaluation.get_absolute_url()}, status=202)
