"""GET /api/evaluations/<id>/hybrid (CONTRACT.md): the cascade replayed over an evaluation."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from advisor.evaluations.api import own_evaluation
from advisor.web.api import errors_response, signed_in

from .cascade import validate_threshold
from .evaluation_replay import ReplayRejected, evaluation_pair_check, evaluation_replay_source
from .replay import MIN_VOTED_ITEMS, NotEnoughVotes, hybrid_replay, replay_as_json, scored_items


def _threshold_param(raw: str | None) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return validate_threshold(float(raw))
    except ValueError:
        raise ReplayRejected({"threshold": ["Must be a number between 0 and 1."]}) from None


@csrf_exempt
@require_GET
@signed_in
def evaluation_hybrid_api(request, evaluation_id):
    evaluation = own_evaluation(request.api_user, evaluation_id)
    if evaluation is None:
        return JsonResponse({"errors": {"id": ["No such evaluation."]}}, status=404)
    try:
        slm, llm = evaluation_pair_check(evaluation, slm=request.GET.get("slm"), llm=request.GET.get("llm"))
        threshold = _threshold_param(request.GET.get("threshold"))
        source = evaluation_replay_source(evaluation, slm=slm, llm=llm)
        replay = hybrid_replay(items=source.items, threshold=threshold)
    except ReplayRejected as exc:
        return errors_response(exc.errors, status=exc.status)
    except NotEnoughVotes as exc:
        # 409: the request is fine, the evaluation is not ready for it yet (votes are missing).
        voted = len(scored_items(source.items))
        return JsonResponse({"errors": {"votes": [str(exc)]}, "items_voted": voted, "items_needed": MIN_VOTED_ITEMS}, status=409)
    body = {"slm": slm, "llm": llm, "votes_apply": source.votes_apply, **replay_as_json(replay)}
    return JsonResponse(body)
