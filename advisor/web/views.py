"""Pages. Thin: read the request, call a service, render. htmx requests get the page's partial."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import condition, require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from advisor.catalogue.models import LanguageModel, Provider
from advisor.hardware import probe_machine
from advisor.trials.pricing import (
    is_machine_priced, monthly_busy_and_idle, monthly_usd, recommendation_assumptions, run_cost, team_hardware,
)
from advisor.trials.reply_length import max_tokens_default
from advisor.trials import stats
from advisor.trials.models import Trial, TrialRun, Vote
from advisor.trials.services import TrialRejected, TrialRequest, trial_start

from .api import is_uuid
from .advice import recommendation_create, recommendation_result, try_models
from .catalogue_table import catalogue_rows
from .forms import AdvisorForm, TrialForm
from .paging import page_of
from .trial_etag import trial_etag

from .checks import compare_recommendation, recommendations_of
from .sharing import recommendation_of_user, session_remember
from .trial_access import VoteRefused, can_view_trial, vote_record
from .trial_presenter import hidden_trials_q, history_row, present_trial, rerun_models, visible_runs_q
from .trial_choices import trial_default_models, trial_model_choices, trial_model_groups


@require_GET
def home(request):
    return render(request, "web/home.html", {"model_count": LanguageModel.objects.active().count()})


@require_GET
def catalogue(request):
    rows, filters = catalogue_rows(request.GET)
    context = {"rows": rows, "filters": filters, "providers": Provider.objects.all()}
    if request.htmx:
        return render(request, "web/catalogue.html#table", context)
    return render(request, "web/catalogue.html", context)


@require_GET
def catalogue_speeds(request):
    from advisor.machines.report import speed_rows

    rows, context = speed_rows()
    return render(request, "web/catalogue_speeds.html", {"rows": rows, **context})


@require_http_methods(["GET", "POST"])
def advisor(request):
    machine = None
    detect_refused = False
    if request.method == "POST":
        form = AdvisorForm(request.POST)
        if form.is_valid():
            saved = recommendation_create(answers=form, user=request.user)
            session_remember(request, saved)
            return redirect(saved)
    elif request.GET.get("detect") and not request.user.is_authenticated:
        # Probing describes the server; anonymous visitors must not learn what it runs on.
        form = AdvisorForm(request.GET or AdvisorForm.initial_data())
        detect_refused = True
    elif request.GET.get("detect"):
        machine = probe_machine()
        data = AdvisorForm.initial_data() | request.GET.dict() | {
            "hardware_target": machine.target, "hardware_ram_gb": machine.ram_gb, "hardware_gpu_vram_gb": machine.gpu_vram_gb,
            "hardware_this_machine": True,
        }
        form = AdvisorForm(data)
    else:
        form = AdvisorForm(request.GET or AdvisorForm.initial_data())
    result = recommendation_result(form, user=request.user) if form.is_valid() else None
    context = {"form": form, "result": result, "answers": form.answers() if result else {},
               "try_models": try_models(result) if result else [],
               "machine": machine, "detect_refused": detect_refused}
    if request.htmx and request.htmx.target == "result":
        return render(request, "web/advisor.html#result", context)
    return render(request, "web/advisor.html", context)


@login_required
@require_GET
def recommendation_list(request):
    return render(request, "web/recommendation_list.html", {"page": page_of(request, recommendations_of(request.user))})


@login_required
@require_http_methods(["GET", "POST"])
def trial_new(request):
    choices = trial_model_choices()
    checks = recommendation_of_user(request.user, request.POST.get("rec") or request.GET.get("rec"))
    plan = try_models(checks.result, recommendation=checks) if checks else None
    notes = []
    rerun_blind = False
    from advisor.hybrid.trial_form import add_hybrid_field, hybrid_spec_from_form

    if request.method == "POST":
        form = TrialForm(request.POST, model_choices=choices)
        add_hybrid_field(form, request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            hybrid = hybrid_spec_from_form(data)
            try:
                trial = trial_start(owner=request.user, request=TrialRequest(**data, hybrid=hybrid, recommendation=checks))
            except TrialRejected as exc:
                if "hybrid" in exc.errors:  # the API's field is the page's policy choice
                    exc.errors["hybrid_policy"] = exc.errors.pop("hybrid")
                for field, messages in exc.errors.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                return redirect(trial)
        selected = request.POST.getlist("models")
    else:
        selected, notes = trial_default_models(user=request.user, wanted=request.GET.getlist("models"))
        initial = {"models": selected, "max_tokens": max_tokens_default(checks)}
        if rerun := request.GET.get("rerun"):
            source = Trial.objects.filter(pk=rerun, owner=request.user).prefetch_related("runs", "votes").first() if is_uuid(rerun) else None
            if source:
                if checks is None and source.recommendation_id:  # a rerun still checks the same recommendation
                    checks = source.recommendation
                    plan = try_models(checks.result, recommendation=checks)
                initial |= {"prompt": source.prompt, "system": source.system, "max_tokens": source.max_tokens,
                            "temperature": source.temperature, "blind": source.blind}
                models = rerun_models(source, request.user)
                if models is None:
                    rerun_blind, selected, notes = True, [], []
                else:
                    selected, notes = trial_default_models(user=request.user, wanted=models)
                initial["models"] = selected
        form = TrialForm(initial=initial, model_choices=choices)
        add_hybrid_field(form, request.user, initial=request.GET.get("hybrid_policy"))
    groups = trial_model_groups(selected, plan.stand_ins() if plan else None)
    return render(request, "web/trial_new.html", {"form": form, "model_groups": groups, "model_notes": notes,
                                                  "checks": checks, "plan": plan, "rerun_blind": rerun_blind})


def _viewable_trial(request, trial_id) -> Trial:
    trial = get_object_or_404(Trial.objects.prefetch_related("runs", "votes"), pk=trial_id)
    if not can_view_trial(request.user, trial):
        raise Http404("No such trial.")
    return trial


@require_GET
def trial(request, trial_id):
    view = present_trial(_viewable_trial(request, trial_id), request.user)
    context = {"trial": view.trial, "view": view, "runs": view.runs, "is_owner": request.user.pk == view.trial.owner_id}
    if request.htmx and request.htmx.target == "after":
        response = render(request, "web/trial.html#after", context)
        if view.ended:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "web/trial.html", context)


@require_GET
@condition(etag_func=trial_etag)
def trial_run(request, trial_id, column):
    """One column, for the page's polling. Addressed by column, not run position: in a blind
    trial the position would tell which model a column holds."""
    view = present_trial(_viewable_trial(request, trial_id), request.user)
    run = view.run_at(column)
    if run is None:
        raise Http404("No such column.")
    response = render(request, "web/trial.html#run", {"trial": view.trial, "run": run})
    if run.finished and request.htmx:
        response.status_code = HttpResponseStopPolling.status_code  # the column is final
    return response


@login_required
@require_POST
def trial_vote(request, trial_id):
    view = present_trial(_viewable_trial(request, trial_id), request.user)
    try:
        vote_record(view=view, voter=request.user, choice=request.POST.get("choice", ""), winner=request.POST.get("winner", ""))
    except VoteRefused as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    return redirect(view.trial)


@login_required
@require_POST
def trial_share(request, trial_id):
    # Someone else's trial answers 404 like every other trial view: a 403 would confirm it exists.
    trial = get_object_or_404(Trial, pk=trial_id, owner=request.user)
    trial.shared = request.POST.get("shared") == "1"
    trial.save(update_fields=["shared"])
    return redirect(trial)


@login_required
@require_GET
def trial_history(request):
    trials = Trial.objects.filter(owner=request.user).select_related("recommendation").prefetch_related("runs", "votes")
    if query := request.GET.get("q", "").strip():
        # A blind trial is not found by its models before the vote: the match would name them.
        by_model = Q(runs__model_slug__icontains=query) | Q(runs__model_name__icontains=query)
        trials = trials.filter(Q(prompt__icontains=query) | Q(system__icontains=query) | (by_model & ~hidden_trials_q())).distinct()
    page = page_of(request, trials)
    context = {"rows": [history_row(trial, request.user) for trial in page], "page": page, "query": query}
    if request.htmx:
        return render(request, "web/trial_history.html#list", context)
    return render(request, "web/trial_history.html", context)


def _costs_on_one_basis(s, checks, per_day):
    """(cost per 1,000, busy-time monthly, (busy-and-idle monthly, its basis)) on the recommendation's
    hardware: local runs from many trials were each priced on their own trial's basis, so they are
    priced again here from their busy time."""
    model = LanguageModel.objects.select_related("provider").filter(slug=s.slug).first()
    if checks is None or model is None or not is_machine_priced(model) or s.mean_total_ms is None:
        return s.cost_per_1k_requests_usd, monthly_usd(s.cost_per_1k_requests_usd, per_day), (None, "")
    per_request, _ = run_cost(model, None, None, s.mean_total_ms / 1000, assumptions=recommendation_assumptions(checks),
                              hardware=team_hardware(checks))
    busy_and_idle = monthly_busy_and_idle(seconds_per_request=s.mean_total_ms / 1000, requests_per_day=per_day, recommendation=checks)
    return 1000 * per_request, monthly_usd(1000 * per_request, per_day), busy_and_idle


@require_GET
def compare(request):
    slugs = [slug for slug in request.GET.getlist("model") if slug][:2]
    models = LanguageModel.objects.order_by("name")
    # Only what this user may see: their own trials and shared ones (never one still blind), and their own votes.
    runs = TrialRun.objects.filter(visible_runs_q(request.user))
    votes = Vote.objects.filter(voter_id=request.user.pk).exclude(hidden_trials_q("trial__")) if request.user.is_authenticated else Vote.objects.none()
    per_model = [stats.model_stats(slug, runs=runs) for slug in slugs]
    pair = stats.pair_stats(*slugs, votes=votes) if len(slugs) == 2 else None
    checks = compare_recommendation(request.GET, request.user)
    per_day = checks.answers.get("requests_per_day") if checks else None
    context = {"models": models, "selects": (slugs + ["", ""])[:2], "per_model": per_model, "pair": pair,
               "checks": checks, "requests_per_day": per_day,
               "rows": [(s, *_costs_on_one_basis(s, checks, per_day)) for s in per_model]}
    return render(request, "web/compare.html", context)
