"""What a provider's API key variable and base URL may be, and scrubbing secrets out of upstream
text. The catalogue validates with these when an entry is saved; the OpenAI-compatible runner checks
again before each call (an entry may predate the rule, or be written around the admin)."""

import ipaddress
import re
import socket
from urllib.parse import urlparse

from django.conf import settings

from advisor.settings_env import settings_env_names

# Names like OPENAI_API_KEY, HF_TOKEN, ANTHROPIC_KEY: anything else (ADVISOR_DATA_DIR, PATH, …) would
# send that variable's value to a server as a key.
KEY_NAME = re.compile(r"^[A-Z][A-Z0-9_]*_(KEY|TOKEN|API_KEY|APIKEY|SECRET)$")
# Variables an API key variable may never name, even when PROVIDER_API_KEY_ENV_ALLOWED lists them:
# their value (Django's secret key, a database or broker password) would go to a server as a key, and
# an upstream that echoes headers would show it to a user. Besides these prefixes: every variable the
# settings read, and every Django setting's name.
RESERVED_PREFIXES = ("DJANGO_", "DATABASE_", "CELERY_", "ADVISOR_", "POSTGRES", "PG", "REDIS_", "RABBITMQ_", "AMQP_")
METADATA_HOSTS = {"metadata.google.internal", "metadata", "metadata.goog"}
METADATA_NETWORKS = [ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
                     ipaddress.ip_network("fd00:ec2::254/128")]


def api_key_env_problem(name: str) -> str | None:
    """Why `name` may not name an API key variable, or None."""
    if not name:
        return None
    if name.upper().startswith(RESERVED_PREFIXES) or name in settings_env_names() or (name.isupper() and hasattr(settings, name)):
        return (f"{name!r} names one of this installation's own variables or settings, not an API key: its value would be sent to the "
                "provider's server. Use the variable that holds the provider's key (e.g. OPENAI_API_KEY).")
    if name in settings.PROVIDER_API_KEY_ENV_ALLOWED or KEY_NAME.match(name):
        return None
    return (f"{name!r} does not look like an API key variable: use a name ending in _API_KEY, _KEY or _TOKEN "
            "(e.g. OPENAI_API_KEY), or add it to PROVIDER_API_KEY_ENV_ALLOWED.")


def _metadata_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in METADATA_NETWORKS)


def base_url_problem(url: str, *, resolve: bool = False) -> str | None:
    """Why `url` may not be a provider's base URL, or None. With `resolve`, also the addresses its
    host name resolves to (the runner does this; a name can point at a metadata address)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return "The base URL must be an http:// or https:// URL."
    if settings.PROVIDER_ALLOW_LINK_LOCAL_URLS:
        return None
    refused = ("The base URL points at a link-local or cloud metadata address, which is refused "
               "(set PROVIDER_ALLOW_LINK_LOCAL_URLS=1 if that really is an LLM server).")
    host = parsed.hostname.lower().rstrip(".")
    if host in METADATA_HOSTS or _metadata_address(host):
        return refused
    if resolve:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, parsed.port or 443, proto=socket.IPPROTO_TCP)}
        except (OSError, UnicodeError):
            return None  # the connection attempt reports an unknown host in its own words
        if any(_metadata_address(a) for a in addresses):
            return refused
    return None


_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}")
_KEYLIKE = re.compile(r"\b(sk|pk|rk|hf|gsk|xai|key)[-_][A-Za-z0-9_-]{8,}")
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")
_AUTH_HEADER = re.compile(r"(?i)(authorization|api[-_ ]?key|x-api-key)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+")


def scrub(text: str, *, secrets: list[str] = ()) -> str:
    """`text` with keys (the given values, bearer tokens, sk-… strings, key headers) and URLs replaced,
    for showing or storing what an upstream server said."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[key]")
    text = _URL.sub("[url]", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}[key]", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} [key]", text)
    return _KEYLIKE.sub("[key]", text)
