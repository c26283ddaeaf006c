"""Who may read a recommendation: its owner, or anyone holding its share link.

A recommendation holds a team's budget, privacy class and hardware, so its own address is private:
the signed-in owner's, or, for one asked anonymously, the browser session's that asked it (adopted
by the account that session signs in to). A share link is a separate, unguessable token the owner
creates and can revoke; it reads the record and its exports, never anything else.
"""

import secrets

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .models import Recommendation

SESSION_KEY = "recommendations"
SESSION_LIMIT = 50  # the anonymous session's latest recommendations it remembers


def _valid_id(value) -> str | None:
    from .api import is_uuid

    return str(value) if value and is_uuid(str(value)) else None


def session_remember(request, saved: Recommendation) -> None:
    """An anonymous visitor's recommendation is theirs for this browser session."""
    if saved.created_by_id is None:
        remembered = [rec_id for rec_id in request.session.get(SESSION_KEY, []) if rec_id != str(saved.pk)]
        request.session[SESSION_KEY] = [str(saved.pk), *remembered][:SESSION_LIMIT]


def recommendation_owned(request, rec_id) -> Recommendation | None:
    """The recommendation if the caller owns it (signed in as its owner, or the anonymous session that asked it)."""
    rec_id = _valid_id(rec_id)
    if rec_id is None:
        return None
    saved = Recommendation.objects.select_related("created_by").filter(pk=rec_id).first()
    if saved is None:
        return None
    user = getattr(request, "api_user", None) or request.user
    if saved.created_by_id is not None:
        return saved if user.is_authenticated and saved.created_by_id == user.pk else None
    return saved if rec_id in request.session.get(SESSION_KEY, []) else None


def recommendation_of_user(user, rec_id) -> Recommendation | None:
    """The user's own recommendation with this id (for links that attach a trial, an evaluation or a suite to it)."""
    rec_id = _valid_id(rec_id)
    if rec_id is None or user is None or not user.is_authenticated:
        return None
    return Recommendation.objects.filter(pk=rec_id, created_by=user).first()


def recommendation_shared(token: str) -> Recommendation | None:
    if not token or len(token) > 64:
        return None
    return Recommendation.objects.select_related("created_by").filter(share_token=token).first()


def recommendation_share(*, saved: Recommendation) -> str:
    """The share link's token, made on first use (the same link until it is revoked)."""
    if not saved.share_token:
        token = secrets.token_urlsafe(24)
        Recommendation.objects.filter(pk=saved.pk, share_token__isnull=True).update(share_token=token)
        saved.refresh_from_db(fields=["share_token"])
    return saved.share_token


def recommendation_unshare(*, saved: Recommendation) -> None:
    """Revoke the share link: its address stops working; a new share makes a new one."""
    Recommendation.objects.filter(pk=saved.pk).update(share_token=None)
    saved.share_token = None


@receiver(user_logged_in, dispatch_uid="adopt_session_recommendations")
def adopt_session_recommendations(sender, request, user, **kwargs):
    """What a visitor asked before signing in becomes their account's (the session is the proof)."""
    if request is None or not hasattr(request, "session"):
        return
    remembered = [rec_id for rec_id in request.session.get(SESSION_KEY, []) if _valid_id(rec_id)]
    if remembered:
        Recommendation.objects.filter(pk__in=remembered, created_by__isnull=True).update(created_by=user)
        request.session[SESSION_KEY] = []
