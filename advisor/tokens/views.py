"""The API tokens page: make one (its secret shown once), see them, revoke them."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .forms import TokenForm
from .services import TokenRejected, token_create, token_revoke, tokens_of


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = TokenForm(request.POST or None)
    made = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            made, secret = token_create(owner=request.user, name=form.cleaned_data["name"])
            form = TokenForm()
        except TokenRejected as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    form.add_error(field, message)
    response = render(request, "tokens/token_list.html", {"form": form, "tokens": tokens_of(request.user), "made": made, "secret": secret})
    # The one answer that carries a secret: no cache, not the browser's either, may keep it.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_view(request, token_id):
    token_revoke(token=get_object_or_404(tokens_of(request.user), pk=token_id))
    return redirect("tokens")
