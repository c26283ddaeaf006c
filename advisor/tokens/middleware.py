"""`Authorization: Bearer <token>` signs a request in as the token's owner, on every path.

Placed after Django's AuthenticationMiddleware: a valid token replaces the session's user and sets
`request.api_token`; every other request gets `request.api_token = None`. An unknown or revoked
token is refused here with 401, so no view can forget to.

A token call skips the CSRF check: CSRF exists because a browser adds cookies to another site's
requests on its own, and it never adds an Authorization header (a page could only set one through
a CORS preflight, which this site never grants).
"""

from asgiref.sync import iscoroutinefunction
from django.http import JsonResponse
from django.utils.decorators import sync_and_async_middleware

from .services import token_aauthenticate, token_authenticate

GATEWAY_PREFIX = "/v1/"
REALM = "SLM or LLM advisor API"


def bearer_secret(request) -> str | None:
    scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else None


def refused(request) -> JsonResponse:
    message = "The API token is unknown or revoked."
    if request.path.startswith(GATEWAY_PREFIX):  # OpenAI's shape, which its clients read
        body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
    else:
        body = {"errors": {"auth": [message]}}
    response = JsonResponse(body, status=401)
    response["WWW-Authenticate"] = f'Bearer realm="{REALM}", error="invalid_token"'
    return response


def _sign_in(request, token) -> None:
    owner = token.owner

    async def auser():
        return owner

    request.user, request.auser, request.api_token = owner, auser, token
    request._dont_enforce_csrf_checks = True


@sync_and_async_middleware
def bearer_token_authentication(get_response):
    if iscoroutinefunction(get_response):
        async def middleware(request):
            request.api_token = None
            if (secret := bearer_secret(request)) is not None:
                if (token := await token_aauthenticate(secret=secret)) is None:
                    return refused(request)
                _sign_in(request, token)
            return await get_response(request)
    else:
        def middleware(request):
            request.api_token = None
            if (secret := bearer_secret(request)) is not None:
                if (token := token_authenticate(secret=secret)) is None:
                    return refused(request)
                _sign_in(request, token)
            return get_response(request)

    return middleware
