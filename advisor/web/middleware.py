"""Site-wide response rules: every /api/ error is JSON, and dynamic answers are never kept by shared caches."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpResponse, JsonResponse
from whitenoise.middleware import WhiteNoiseMiddleware
from django.shortcuts import render
from django.utils.cache import patch_cache_control

API_PREFIX = "/api/"
# Headers a replaced error answer keeps: they tell the client what to do next.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
REASONS = {
    400: "The request is malformed.",
    401: "Sign in, or send an API token (Authorization: Bearer) or HTTP Basic credentials.",
    403: "Not allowed.",
    404: "No such API endpoint or object.",
    405: "This endpoint does not take that method.",
    413: "The body is too large.",
    429: "Too many requests; try again later.",
}


class ResponseRule:
    """A middleware that only looks at the response (`rule(request, response)`), in sync and async
    chains alike: under ASGI a sync-only middleware would run every request of the chain, async
    views included, through one shared thread."""

    sync_capable = async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return self.rule(request, self.get_response(request))

    async def _acall(self, request):
        return self.rule(request, await self.get_response(request))

    def rule(self, request, response):
        raise NotImplementedError


class ApiErrorsAsJson(ResponseRule):
    """An /api/ client always gets JSON, also for the errors Django answers itself (unknown URL,
    wrong method, CSRF failure, an unexpected exception): `{"errors": {"request": ["..."]}}`."""

    def rule(self, request, response):
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        reason = REASONS.get(response.status_code, "The server failed to answer; the error is logged." if response.status_code >= 500 else "The request was refused.")
        replaced = JsonResponse({"errors": {"request": [reason]}}, status=response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                replaced[header] = response[header]
        return replaced


class PrivateCacheControl(ResponseRule):
    """`Cache-Control: private` on every page and API answer (static files are served before this):
    pages show a user's trials, votes and name, and a shared proxy must never hand them to someone else."""

    def rule(self, request, response):
        patch_cache_control(response, private=True)
        return response


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """What django-axes answers once sign-ins from a user name and address have failed too often."""
    message = "Too many failed sign-ins: wait a few minutes, then try again."
    if request.path.startswith(API_PREFIX):
        response = JsonResponse({"errors": {"auth": [message]}}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    from django.conf import settings

    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


class StaticFiles(WhiteNoiseMiddleware):
    """WhiteNoise, which is sync-only, made usable in an async chain: a static file is served from a
    thread, anything else goes straight on (so the gateway's streams hold no thread)."""

    sync_capable = async_capable = True

    def __init__(self, get_response=None, *args, **kwargs):
        super().__init__(get_response, *args, **kwargs)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request):
        static_file = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        return await self.get_response(request)
