"""Settings, read from environment variables with embedded defaults.

With nothing set, everything lives in the data folder (``var/``): a SQLite database and
Celery's filesystem transport, so one machine runs the whole product with no services.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ADVISOR_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    # Generated once and kept beside the data, so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "advisor.catalogue",
    "advisor.runs",
    "advisor.trials",
    "advisor.machines",
    "advisor.hybrid",
    "advisor.evaluations",
    "advisor.gateway",
    "advisor.tokens",
    "advisor.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "advisor.web.middleware.StaticFiles",
    "csp.middleware.CSPMiddleware",
    "advisor.web.middleware.PrivateCacheControl",
    "advisor.web.middleware.ApiErrorsAsJson",
    "advisor.web.middleware.QueryTextChecked",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the session's user: a valid `Authorization: Bearer` token replaces it (advisor/tokens/middleware.py).
    "advisor.tokens.middleware.bearer_token_authentication",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into its answer (advisor.web.middleware.lockout_response).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "advisor.urls"
# Threads per web process for the site's sync views (advisor/asgi.py hands them to the WSGI application).
WEB_THREADS = int(os.environ.get("WEB_THREADS", "8"))
WSGI_APPLICATION = "advisor.wsgi.application"
ASGI_APPLICATION = "advisor.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

SQLITE_PATH = DATA_DIR / "db.sqlite3"
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{SQLITE_PATH}", conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A worker writes streamed output while pages read: without WAL and IMMEDIATE
    # transactions SQLite answers "database is locked".
    # Connections are kept (like PostgreSQL's): closing the last connection to a WAL database
    # checkpoints it and deletes the WAL, and the next write recreates it — 30 ms of every
    # /api/recommend request went there (benchmarks/bench_recommend_http.py). Django opens one
    # per thread and health-checks it before reuse.
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("SQLITE_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_db.sqlite3")}
# How often the web server's processes checkpoint the write-ahead log (advisor/sqlite_checkpoints.py).
SQLITE_CHECKPOINT_INTERVAL_S = float(os.environ.get("SQLITE_CHECKPOINT_INTERVAL_S", "1"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/trials/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing folder before collectstatic has run

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) -----------------------------------------------
# No inline script or style anywhere: JavaScript lives in static/js, styles in static/css. A
# script that an answer smuggled into the page (model output is untrusted) cannot run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# --- HTTPS --------------------------------------------------------------------------------
# Off by default (the embedded set-up serves plain HTTP on localhost). DJANGO_HTTPS=1 turns on
# all of them, so that `manage.py check --deploy` is clean; each can also be set on its own.
HTTPS = env_bool("DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", HTTPS)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", HTTPS)
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto (only then; a client could send it).
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A load balancer's health check may come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^api/health$"]

# --- Sign-in throttling (django-axes) ----------------------------------------------------
# Counts failed sign-ins on the login page and failed HTTP Basic credentials on the API alike
# (both go through authenticate()); after AXES_FAILURE_LIMIT failures for a user name from one
# address, both refuse it for AXES_COOLOFF_TIME.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "advisor.web.middleware.lockout_response"
AXES_VERBOSE = False
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# --- Celery -------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Otherwise the broadcast (control) files land in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        # The default (1 s) shows as queue time on every run; listing a folder 10 times a second is cheap.
        "polling_interval": 0.1,
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # How long Redis waits before redelivering a dead worker's unacknowledged message (Redis's own
    # default is an hour, which left a message a killed worker had taken "queued" for half an hour).
    # Longer than the longest task (an evaluation task: EVAL_CHAIN_S plus one run's hard limit), or a
    # task still going is delivered a second time (and dropped: a run is claimed once).
    # kombu looks for such messages every 10 s but scans only on every 10th look; scan on each, so
    # redelivery comes within 10 s of the timeout.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_BROKER_VISIBILITY_TIMEOUT_S", "450")),
                                       "unacked_restore_throttle": 1}
# The database row holds every result; no result backend is needed.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "api"
# Every task's queue when it is sent without one. Runs are sent to their runtime's queue instead
# (advisor/runs/registry.py): local-model runs to "local", so GPU machines can take only those (-Q local).
CELERY_TASK_ROUTES = {"trials.*": {"queue": "api"}, "evaluations.*": {"queue": "api"}}
CELERY_WORKER_CONCURRENCY = int(os.environ.get("CELERY_WORKER_CONCURRENCY", "2"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Trials -------------------------------------------------------------------------
TRIAL_MAX_PROMPT_CHARS = int(os.environ.get("TRIAL_MAX_PROMPT_CHARS", "8000"))
TRIAL_MAX_TOKENS = int(os.environ.get("TRIAL_MAX_TOKENS", "1024"))
TRIAL_MAX_MODELS = int(os.environ.get("TRIAL_MAX_MODELS", "4"))
# A user's runs going at once: half of scripts/run's API slots (CELERY_API_THREADS, 32), so that
# two users' bursts still fit, instead of 6, which refused most of a load test's starts.
TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER = int(os.environ.get("TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER", "16"))
TRIAL_DAILY_SPEND_CAP_USD = float(os.environ.get("TRIAL_DAILY_SPEND_CAP_USD", "5"))
TRIAL_SOFT_TIME_LIMIT_S = int(os.environ.get("TRIAL_SOFT_TIME_LIMIT_S", "300"))
TRIAL_HARD_TIME_LIMIT_S = TRIAL_SOFT_TIME_LIMIT_S + 30
# A run still "running" with no saved progress for this long lost its worker.
TRIAL_STALE_AFTER_S = int(os.environ.get("TRIAL_STALE_AFTER_S", str(TRIAL_HARD_TIME_LIMIT_S + 60)))
# A run no worker has picked up after this long is failed (and its message expires unrun).
TRIAL_QUEUE_EXPIRE_S = int(os.environ.get("TRIAL_QUEUE_EXPIRE_S", "1800"))
# How often each worker reports that it is alive (advisor/machines/heartbeat.py), and how often it
# sweeps runs whose worker is gone (web requests never do).
WORKER_HEARTBEAT_S = float(os.environ.get("WORKER_HEARTBEAT_S", "10"))
TRIAL_SWEEP_EVERY_S = float(os.environ.get("TRIAL_SWEEP_EVERY_S", "30"))
# The most output bytes a model call may receive per token of its max tokens, whatever the server
# sends (a server that ignores max_tokens or never ends its stream is cut there; advisor/runs/ledger.py).
RUN_OUTPUT_BYTES_PER_TOKEN = int(os.environ.get("RUN_OUTPUT_BYTES_PER_TOKEN", "64"))
# How often a running call's row says it is alive (advisor/runs/core.py), so a live one never looks dead.
RUN_HEARTBEAT_S = float(os.environ.get("RUN_HEARTBEAT_S", "15"))
# How often streamed output is written to the database, at most.
TRIAL_SAVE_EVERY_S = float(os.environ.get("TRIAL_SAVE_EVERY_S", "0.1"))
# Local models each worker process loads when it starts (comma-separated catalogue weights; empty: none).
TRIAL_PRELOAD_MODELS = env_list("TRIAL_PRELOAD_MODELS", "bundled:smollm2-135m-instruct")
# Benchmarks only: a file to which workers append when each token was generated.
TRIAL_TOKEN_TRACE = os.environ.get("TRIAL_TOKEN_TRACE", "")
# Live pages (a trial's columns, an evaluation's progress) are pushed as Server-Sent Events
# (advisor/web/streams.py). With Redis as the broker a stream wakes when a worker saves; without,
# it looks at the database this often (ms).
LIVE_POLL_MS = int(os.environ.get("LIVE_POLL_MS", "100"))
# A stream ends after this long (the browser reconnects and resumes): no connection lives forever.
LIVE_STREAM_MAX_S = float(os.environ.get("LIVE_STREAM_MAX_S", "300"))
# Longest a web process keeps the catalogue as the advisor sees it (advisor/web/spec_cache.py);
# edits through Django clear it at once on this machine.
CATALOGUE_SPECS_TTL_S = float(os.environ.get("CATALOGUE_SPECS_TTL_S", "30"))
# --- Evaluations ----------------------------------------------------------------------
# Runs of one model executing at once in one evaluation: an API's rate limit, a local model's cores.
EVAL_MAX_CONCURRENCY_PER_MODEL = int(os.environ.get("EVAL_MAX_CONCURRENCY_PER_MODEL", "2"))
EVAL_MAX_CONCURRENCY_PER_LOCAL_MODEL = int(os.environ.get("EVAL_MAX_CONCURRENCY_PER_LOCAL_MODEL", "1"))
EVAL_MAX_ITEMS = int(os.environ.get("EVAL_MAX_ITEMS", "500"))
# A suite is edited as rows of six fields each (evaluations/forms.py): room for the largest suite.
DATA_UPLOAD_MAX_NUMBER_FIELDS = max(1000, 6 * EVAL_MAX_ITEMS + 50)
EVAL_MAX_RUNS = int(os.environ.get("EVAL_MAX_RUNS", "2000"))
EVAL_MAX_IN_FLIGHT_PER_USER = int(os.environ.get("EVAL_MAX_IN_FLIGHT_PER_USER", "2"))
# The most an evaluation may cost on paid models if every run used all its max tokens.
EVAL_SPEND_CAP_USD = float(os.environ.get("EVAL_SPEND_CAP_USD", "5"))
# A worker task goes on to its model's next waiting run without a broker round trip, for this long.
EVAL_CHAIN_S = float(os.environ.get("EVAL_CHAIN_S", "60"))
# The periodic sweep re-sends an evaluation's run (or judge call) still queued after this long: its
# message may have gone with a dead worker. A duplicate is harmless (a run is claimed once).
EVAL_RESEND_QUEUED_AFTER_S = float(os.environ.get("EVAL_RESEND_QUEUED_AFTER_S", "300"))
EVAL_JUDGE_MAX_TOKENS = int(os.environ.get("EVAL_JUDGE_MAX_TOKENS", "300"))
# How often an evaluation's live stream counts its runs (ms).
EVAL_POLL_MS = int(os.environ.get("EVAL_POLL_MS", "1000"))
# Provider entries: variables allowed as API key variables beyond *_API_KEY/*_KEY/*_TOKEN names
# (comma-separated), and whether a base URL may point at a link-local/cloud metadata address.
PROVIDER_API_KEY_ENV_ALLOWED = env_list("PROVIDER_API_KEY_ENV_ALLOWED", "")
PROVIDER_ALLOW_LINK_LOCAL_URLS = os.environ.get("PROVIDER_ALLOW_LINK_LOCAL_URLS", "") == "1"
# The gateway's time limit for an upstream call; trials' and evaluations' runs use TRIAL_SOFT_TIME_LIMIT_S.
OPENAI_TIMEOUT_S = float(os.environ.get("OPENAI_TIMEOUT_S", "60"))
OPENAI_MAX_RETRIES = int(os.environ.get("OPENAI_MAX_RETRIES", "2"))
# Threads per local run; 0: automatic (every core for a run alone, an equal share when several
# local runs are in progress at once; see advisor/trials/runners/cores.py).
LOCAL_RUN_THREADS = int(os.environ.get("LOCAL_RUN_THREADS", os.environ.get("TORCH_THREADS", "0")))
PREPARED_MODELS_DIR = DATA_DIR / "models"

# The gateway (/v1/, docs/gateway.md): per API token, requests a minute and spend a day (UTC) before
# a 429; the longest a policy's small model may take over its draft before the large model answers
# instead; the largest max_tokens a request may ask for.
GATEWAY_REQUESTS_PER_MINUTE = int(os.environ.get("GATEWAY_REQUESTS_PER_MINUTE", "60"))
GATEWAY_DAILY_BUDGET_USD = float(os.environ.get("GATEWAY_DAILY_BUDGET_USD", "5"))
GATEWAY_SLM_TIMEOUT_S = float(os.environ.get("GATEWAY_SLM_TIMEOUT_S", "30"))
GATEWAY_MAX_TOKENS = int(os.environ.get("GATEWAY_MAX_TOKENS", "1024"))
# Shadow calls (a policy's shadow sampling) one web process makes at once; the others wait their turn.
GATEWAY_SHADOW_CONCURRENCY = int(os.environ.get("GATEWAY_SHADOW_CONCURRENCY", "2"))
# The model-serving process (python -m advisor.serving, started by scripts/run): requests generating
# at once, and the largest max_tokens it accepts.
SERVING_PARALLEL = int(os.environ.get("SERVING_PARALLEL", "1"))
SERVING_MAX_TOKENS = int(os.environ.get("SERVING_MAX_TOKENS", "2048"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in at INFO; failures and lockouts are warnings and still show.
    "loggers": {"axes": {"level": "WARNING"}},
}
