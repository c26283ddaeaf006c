import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from advisor.sqlite_checkpoints import checkpoint_off_the_request_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
application = get_wsgi_application()
# The URLconf, its views and what they import (the openai client and pydantic among them) load now
# rather than on the first request, and then leave the garbage collector's view: they live as long
# as the process. Without this a full collection walked their ~160,000 objects in 120-160 ms here,
# stalling every request queued on the worker: most of /api/recommend's p99
# (benchmarks/bench_recommend_http.py).
get_resolver().url_patterns
gc.freeze()
checkpoint_off_the_request_path()
