"""Making, checking and revoking API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from .models import ApiToken

# Marks the secret as this site's token (secret scanners and people recognise it), then 256 random bits.
SECRET_START = "slm_"
PREFIX_CHARS = 12
NAME_MAX_CHARS = 100
# last_used_at is a hint for the owner, not an audit log: writing it on every call would add a
# write to every read, so it is refreshed at most this often.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenRejected(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, owner, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret: the only time the secret exists outside the caller's hands."""
    name = name.strip()
    if not name:
        raise TokenRejected({"name": ["Give the token a name, e.g. the script that will use it."]})
    if len(name) > NAME_MAX_CHARS:
        raise TokenRejected({"name": [f"At most {NAME_MAX_CHARS} characters."]})
    if ApiToken.objects.active().filter(owner=owner, name=name).exists():
        raise TokenRejected({"name": [f"You already have a token named “{name}”: pick another name, or revoke that one."]})
    secret = SECRET_START + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(owner=owner, name=name, prefix=secret[:PREFIX_CHARS], key_hash=token_hash(secret))
    return token, secret


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def tokens_of(owner):
    return ApiToken.objects.filter(owner=owner)


def _usable(secret: str):
    return ApiToken.objects.active().filter(key_hash=token_hash(secret), owner__is_active=True).select_related("owner")


def _stale(token: ApiToken, now) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY


def token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token with this secret (its owner loaded), or None for an unknown or revoked one."""
    token = _usable(secret).first()
    now = timezone.now()
    if token is not None and _stale(token, now):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


async def token_aauthenticate(*, secret: str) -> ApiToken | None:
    """token_authenticate for async views (the gateway, the event streams): no thread held."""
    token = await _usable(secret).afirst()
    now = timezone.now()
    if token is not None and _stale(token, now):
        await ApiToken.objects.filter(pk=token.pk).aupdate(last_used_at=now)
    return token


def token_json(token: ApiToken) -> dict:
    return {"id": str(token.id), "name": token.name, "prefix": token.prefix, "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked": token.revoked, "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}
