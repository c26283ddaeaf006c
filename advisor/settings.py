"""Settings, read from environment variables with embedded defaults.

With nothing set, everything lives in the data folder (``var/``): a SQLite database and
Celery's filesystem transport, so one machine runs the whole product with no services.
"""

import os
import secrets
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
    "advisor.catalogue",
    "advisor.trials",
    "advisor.machines",
    "advisor.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "advisor.urls"
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
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_db.sqlite3")}

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
# The database row holds every result; no result backend is needed.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "api"
# Local-model runs have their own queue so GPU machines can take only those (-Q local).
CELERY_WORKER_CONCURRENCY = int(os.environ.get("CELERY_WORKER_CONCURRENCY", "2"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Trials -------------------------------------------------------------------------
TRIAL_MAX_PROMPT_CHARS = int(os.environ.get("TRIAL_MAX_PROMPT_CHARS", "8000"))
TRIAL_MAX_TOKENS = int(os.environ.get("TRIAL_MAX_TOKENS", "1024"))
TRIAL_MAX_MODELS = int(os.environ.get("TRIAL_MAX_MODELS", "4"))
TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER = int(os.environ.get("TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER", "6"))
TRIAL_DAILY_SPEND_CAP_USD = float(os.environ.get("TRIAL_DAILY_SPEND_CAP_USD", "5"))
TRIAL_SOFT_TIME_LIMIT_S = int(os.environ.get("TRIAL_SOFT_TIME_LIMIT_S", "300"))
TRIAL_HARD_TIME_LIMIT_S = TRIAL_SOFT_TIME_LIMIT_S + 30
# A run still "running" with no saved progress for this long lost its worker.
TRIAL_STALE_AFTER_S = int(os.environ.get("TRIAL_STALE_AFTER_S", str(TRIAL_HARD_TIME_LIMIT_S + 60)))
# A run no worker has picked up after this long is failed (and its message expires unrun).
TRIAL_QUEUE_EXPIRE_S = int(os.environ.get("TRIAL_QUEUE_EXPIRE_S", "1800"))
# How often streamed output is written to the database, at most.
TRIAL_SAVE_EVERY_S = float(os.environ.get("TRIAL_SAVE_EVERY_S", "0.1"))
# Local models each worker process loads when it starts (comma-separated catalogue weights; empty: none).
TRIAL_PRELOAD_MODELS = env_list("TRIAL_PRELOAD_MODELS", "bundled:smollm2-135m-instruct")
# Benchmarks only: a file to which workers append when each token was generated.
TRIAL_TOKEN_TRACE = os.environ.get("TRIAL_TOKEN_TRACE", "")
# How often a trial page asks for a running column (ms).
TRIAL_POLL_MS = int(os.environ.get("TRIAL_POLL_MS", "100"))
# What an hour of this machine costs, to price local runs (labelled as such on the page).
LOCAL_HARDWARE_USD_PER_HOUR = float(os.environ.get("LOCAL_HARDWARE_USD_PER_HOUR", "0.10"))
OPENAI_TIMEOUT_S = float(os.environ.get("OPENAI_TIMEOUT_S", "60"))
OPENAI_MAX_RETRIES = int(os.environ.get("OPENAI_MAX_RETRIES", "2"))
# Threads per local run; 0: automatic (every core for a run alone, an equal share when several
# local runs are in progress at once; see advisor/trials/runners/cores.py).
LOCAL_RUN_THREADS = int(os.environ.get("LOCAL_RUN_THREADS", os.environ.get("TORCH_THREADS", "0")))
PREPARED_MODELS_DIR = DATA_DIR / "models"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
