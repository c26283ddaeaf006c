"""Which of the two Django handlers answers a request (advisor/asgi.py puts them together).

`/v1/…` (the OpenAI-compatible gateway) and every path ending in `/events` (Server-Sent Events)
go to Django's ASGI handler: async views, whose long-lived connections hold no thread. The rest
go to the site's WSGI application on its thread pool.
"""

GATEWAY_PREFIX = "/v1/"
EVENTS_SUFFIX = "/events"


def is_async_path(path: str) -> bool:
    return path.startswith(GATEWAY_PREFIX) or path.endswith(EVENTS_SUFFIX)


async def _lifespan(receive, send) -> None:
    # Nothing to start or stop, but answering lets the server know rather than guess from an error.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def path_router(*, async_views, site):
    """An ASGI application that sends the async paths to `async_views` and other HTTP requests to `site`."""

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "http" and not is_async_path(scope["path"]):
            await site(scope, receive, send)
        else:
            await async_views(scope, receive, send)

    return application
