"""ETags for the polls that remain (a column's partial, GET /api/trials/<id>): a client asking
again with If-None-Match gets 304 from one indexed query, without the trial being rendered."""

import hashlib
import uuid

from django.db.models import Count, Max

from advisor.trials.models import Trial


def trial_etag(request, trial_id, **address) -> str | None:
    """Changes whenever anything the caller sees may: a run's save, a vote, sharing, the caller."""
    try:
        uuid.UUID(str(trial_id))
    except ValueError:
        return None
    state = (Trial.objects.filter(pk=trial_id)
             .annotate(saved=Max("runs__updated_at"), voted=Max("votes__created_at"), votes_cast=Count("votes", distinct=True))
             .values_list("shared", "blind", "saved", "voted", "votes_cast").first())
    if state is None:
        return None  # the view answers 404
    caller = getattr(request, "api_user", None) or request.user
    return hashlib.sha256(repr((state, caller.pk, sorted(address.items()))).encode()).hexdigest()[:32]
