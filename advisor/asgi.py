"""The web server's application (scripts/run serves it with uvicorn): the gateway (/v1/…) and
event streams (…/events) on Django's ASGI handler, where a waiting connection holds no thread;
everything else on the site's WSGI application through a2wsgi, on WEB_THREADS threads per
process, so its sync views keep a thread each as under gunicorn's threads (advisor/asgi_router.py).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

async_views = get_asgi_application()  # sets Django up, so what follows may import the project

from advisor.asgi_router import path_router  # noqa: E402
from advisor.wsgi import application as wsgi_application  # noqa: E402  (freezes start-up objects; SQLite checkpoints)

application = path_router(async_views=async_views, site=WSGIMiddleware(wsgi_application, workers=settings.WEB_THREADS))
