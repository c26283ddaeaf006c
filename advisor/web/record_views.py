"""The decision record's pages: the owner's page, its exports, its share link. Thin.

Every view here reads one recommendation through `sharing`: the owner's address 404s for anyone
else (a 403 would confirm it exists); a share link reads the same record, read-only.
"""

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .advice import answers_query, try_models
from .api import AuthProblem, api_user, auth_error_response
from .record import decision_record
from .record_export import record_markdown
from .sharing import recommendation_owned, recommendation_share, recommendation_shared, recommendation_unshare


def _owned(request, rec_id):
    saved = recommendation_owned(request, rec_id)
    if saved is None:
        raise Http404("No such recommendation of yours.")
    return saved


def _shared(token):
    saved = recommendation_shared(token)
    if saved is None:
        raise Http404("This share link does not exist or was revoked.")
    return saved


def _result_for(saved, user) -> dict:
    from advisor.hybrid.recommendation import saved_result_for

    return saved_result_for(saved, user)


def _context(saved, result: dict, *, read_only: bool, token: str | None = None) -> dict:
    return {"saved": saved, "result": result, "answers": saved.answers, "record": decision_record(saved, result=result),
            "answers_query": answers_query(saved.answers), "try_models": try_models(result, recommendation=saved),
            "read_only": read_only, "token": token}


def _read_only(response):
    # The token is the address: never sent on to another site, never indexed.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _markdown_response(saved, record) -> HttpResponse:
    response = HttpResponse(record_markdown(record), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="recommendation-{saved.id}.md"'
    return response


def _owner_page(request, rec_id, template: str, *, read_only: bool):
    saved = _owned(request, rec_id)
    return render(request, template, _context(saved, _result_for(saved, request.user), read_only=read_only))


def _shared_page(token, request, template: str):
    saved = _shared(token)
    return _read_only(render(request, template, _context(saved, saved.result, read_only=True, token=token)))


@never_cache
@require_GET
def recommendation(request, rec_id):
    return _owner_page(request, rec_id, "web/recommendation.html", read_only=False)


@never_cache
@require_GET
def recommendation_print(request, rec_id):
    return _owner_page(request, rec_id, "web/recommendation_print.html", read_only=True)


@never_cache
@require_GET
def recommendation_md(request, rec_id):
    saved = _owned(request, rec_id)
    return _markdown_response(saved, decision_record(saved, result=_result_for(saved, request.user)))


def _json_response(saved, record) -> JsonResponse:
    response = JsonResponse(record.as_json())
    response["Content-Disposition"] = f'attachment; filename="recommendation-{saved.id}.json"'
    return response


@never_cache
@require_GET
def recommendation_json(request, rec_id):
    saved = _owned(request, rec_id)
    return _json_response(saved, decision_record(saved, result=_result_for(saved, request.user)))


@require_POST
def recommendation_share_view(request, rec_id):
    """share=1 makes (or keeps) the read-only link; share=0 revokes it."""
    saved = _owned(request, rec_id)
    if request.POST.get("share") == "1":
        recommendation_share(saved=saved)
    else:
        recommendation_unshare(saved=saved)
    return redirect(f"{saved.get_absolute_url()}#share")


@never_cache
@require_GET
def shared_recommendation(request, token):
    return _shared_page(token, request, "web/recommendation.html")


@never_cache
@require_GET
def shared_recommendation_print(request, token):
    return _shared_page(token, request, "web/recommendation_print.html")


@never_cache
@require_GET
def shared_recommendation_md(request, token):
    saved = _shared(token)
    return _read_only(_markdown_response(saved, decision_record(saved)))


@never_cache
@require_GET
def shared_recommendation_json(request, token):
    saved = _shared(token)
    return _read_only(_json_response(saved, decision_record(saved)))


@never_cache
@require_GET
def recommendation_api(request, rec_id):
    """GET /api/recommendations/<id>: for its owner (session, HTTP Basic or token), or anyone
    passing its share link's token as `?token=`."""
    token = request.GET.get("token")
    saved = recommendation_shared(token) if token else None
    if saved is not None and str(saved.pk) != str(rec_id):
        saved = None
    if saved is None:
        try:
            request.api_user = api_user(request)
        except AuthProblem as exc:
            return auth_error_response(exc)
        saved = recommendation_owned(request, rec_id)
    if saved is None:
        return JsonResponse({"errors": {"id": ["No such recommendation (yours, or shared with this token)."]}}, status=404)
    return JsonResponse(decision_record(saved, result=_result_for(saved, getattr(request, "api_user", None))).as_json())
