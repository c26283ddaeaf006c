"""The traffic page of a policy. Thin: the figures come from traffic.py."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .traffic import policy_traffic


@login_required
@require_GET
def traffic_page(request, family):
    traffic = policy_traffic(owner=request.user, family=family)
    if traffic is None:
        raise Http404("No such policy.")
    return render(request, "gateway/traffic.html", {"traffic": traffic})
