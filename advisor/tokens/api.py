"""`POST/GET /api/tokens`, `DELETE /api/tokens/<id>` (CONTRACT.md, "API tokens")."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from advisor.web.api import errors_response, is_uuid, signed_in
from advisor.web.json_input import BadInput, check_types, read_json_object

from .services import TokenRejected, token_create, token_json, token_revoke, tokens_of


@csrf_exempt
@signed_in
def tokens_api(request):
    if request.method == "GET":
        return JsonResponse({"tokens": [token_json(token) for token in tokens_of(request.api_user)]})
    if request.method != "POST":
        return JsonResponse({"errors": {"method": ["Use GET or POST."]}}, status=405, headers={"Allow": "GET, POST"})
    if request.api_token is not None:
        # A leaked token must not be able to mint itself a successor that outlives its revocation.
        return errors_response({"auth": ["A token cannot make tokens: sign in, or use HTTP Basic."]}, status=403)
    try:
        data = read_json_object(request)
    except BadInput as exc:
        return errors_response(exc.errors)
    if errors := check_types(data, {"name": str}, required=("name",)):
        return errors_response(errors)
    try:
        token, secret = token_create(owner=request.api_user, name=data["name"])
    except TokenRejected as exc:
        return errors_response(exc.errors)
    response = JsonResponse({"id": str(token.id), "name": token.name, "token": secret, "prefix": token.prefix}, status=201)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@signed_in
def token_api(request, token_id):
    if request.method != "DELETE":
        return JsonResponse({"errors": {"method": ["Use DELETE."]}}, status=405, headers={"Allow": "DELETE"})
    token = tokens_of(request.api_user).filter(pk=token_id).first() if is_uuid(token_id) else None
    if token is None:
        return errors_response({"id": ["No such token."]}, status=404)
    token_revoke(token=token)
    token.refresh_from_db()
    return JsonResponse(token_json(token))
