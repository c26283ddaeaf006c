"""Pages. Thin: read the request, call a service, render. htmx requests get the page's partial."""

import dataclasses

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from advisor.catalogue.models import LanguageModel, Provider
from advisor.hardware import probe_machine, this_machine_speed
from advisor.trials import stats
from advisor.trials.models import Trial, Vote
from advisor.trials.services import TrialRejected, TrialRequest, runs_sweep, trial_start

from .api import is_uuid
from .advice import answers_query, recommendation_create, recommendation_markdown, recommendation_preview, try_models
from .catalogue_table import catalogue_rows
from .forms import AdvisorForm, TrialForm
from .models import Recommendation
from .trial_access import can_view_trial


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
    if request.method == "POST":
        form = AdvisorForm(request.POST)
        if form.is_valid():
            saved = recommendation_create(needs=form.needs(), assumptions=form.assumptions(), answers=form.answers(), user=request.user)
            return redirect(saved)
    elif request.GET.get("detect"):
        machine = probe_machine()
        data = AdvisorForm.initial_data() | request.GET.dict() | {
            "hardware_target": machine.target, "hardware_ram_gb": machine.ram_gb, "hardware_gpu_vram_gb": machine.gpu_vram_gb,
        }
        form = AdvisorForm(data)
    else:
        form = AdvisorForm(request.GET or AdvisorForm.initial_data())
    speed_basis = None
    if form.is_valid():
        needs = form.needs()
        if machine:  # "this machine": its measured speed, calibrated on the runs made here
            measured_speed, speed_basis = this_machine_speed()
            needs = dataclasses.replace(needs, hardware=dataclasses.replace(needs.hardware, measured_speed=measured_speed))
        result = recommendation_preview(needs, form.assumptions()).to_dict()
    else:
        result = None
    context = {"form": form, "result": result, "answers": form.answers() if result else {},
               "try_models": try_models(result) if result else [],
               "machine": machine, "speed_basis": speed_basis}
    if request.htmx and request.htmx.target == "result":
        return render(request, "web/advisor.html#result", context)
    return render(request, "web/advisor.html", context)


def _recommendation(rec_id) -> Recommendation:
    return get_object_or_404(Recommendation, pk=rec_id)


@require_GET
def recommendation(request, rec_id):
    saved = _recommendation(rec_id)
    context = {"saved": saved, "result": saved.result, "answers": saved.answers,
               "answers_query": answers_query(saved.answers), "try_models": try_models(saved.result)}
    return render(request, "web/recommendation.html", context)


@require_GET
def recommendation_md(request, rec_id):
    saved = _recommendation(rec_id)
    response = HttpResponse(recommendation_markdown(saved), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="recommendation-{saved.id}.md"'
    return response


@require_GET
def recommendation_json(request, rec_id):
    saved = _recommendation(rec_id)
    response = JsonResponse({"answers": saved.answers} | saved.result | {"url": saved.get_absolute_url()})
    response["Content-Disposition"] = f'attachment; filename="recommendation-{saved.id}.json"'
    return response


def _trial_choices():
    models = LanguageModel.objects.active().select_related("provider").order_by("-open_weights", "params_b", "name")
    return [(m.slug, f"{m.name}{'' if m.runnable_here else ' (not set up here)'}") for m in models]


def _default_models(request) -> list[str]:
    if wanted := request.GET.getlist("models"):
        return wanted
    last = Trial.objects.filter(owner=request.user).prefetch_related("runs").first()
    if last:
        return [run.model_slug for run in last.runs.all()]
    return ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]


@login_required
@require_http_methods(["GET", "POST"])
def trial_new(request):
    choices = _trial_choices()
    if request.method == "POST":
        form = TrialForm(request.POST, model_choices=choices)
        if form.is_valid():
            try:
                trial = trial_start(owner=request.user, request=TrialRequest(**form.cleaned_data))
            except TrialRejected as exc:
                for field, messages in exc.errors.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                return redirect(trial)
    else:
        initial = {"models": _default_models(request)}
        if rerun := request.GET.get("rerun"):
            source = Trial.objects.filter(pk=rerun, owner=request.user).first() if is_uuid(rerun) else None
            if source:
                initial |= {"prompt": source.prompt, "system": source.system, "max_tokens": source.max_tokens,
                            "temperature": source.temperature, "blind": source.blind,
                            "models": [run.model_slug for run in source.runs.all()]}
        form = TrialForm(initial=initial, model_choices=choices)
    return render(request, "web/trial_new.html", {"form": form})


def _viewable_trial(request, trial_id) -> Trial:
    trial = get_object_or_404(Trial.objects.prefetch_related("runs"), pk=trial_id)
    if not can_view_trial(request.user, trial):
        raise Http404("No such trial.")
    return trial


def _names_hidden(request, trial: Trial) -> bool:
    return trial.blind and not trial.votes.filter(voter_id=request.user.pk).exists()


@require_GET
def trial(request, trial_id):
    trial = _viewable_trial(request, trial_id)
    runs_sweep(trial.runs.all())
    runs = list(trial.runs.all())
    vote = trial.votes.filter(voter_id=request.user.pk).first() if request.user.is_authenticated else None
    context = {
        "trial": trial, "runs": runs, "vote": vote, "hide_names": _names_hidden(request, trial),
        "vote_choices": Vote.Choice.choices, "is_owner": request.user.pk == trial.owner_id,
        "poll_ms": settings.TRIAL_POLL_MS,
    }
    return render(request, "web/trial.html", context)


@require_GET
def trial_run(request, trial_id, position):
    trial = _viewable_trial(request, trial_id)
    run = get_object_or_404(trial.runs, position=position)
    runs_sweep(trial.runs.filter(pk=run.pk))
    run.refresh_from_db()
    context = {"trial": trial, "run": run, "hide_names": _names_hidden(request, trial), "poll_ms": settings.TRIAL_POLL_MS}
    response = render(request, "web/trial.html#run", context)
    if run.finished and request.htmx:
        response.status_code = HttpResponseStopPolling.status_code  # the column is final
    return response


@login_required
@require_POST
def trial_vote(request, trial_id):
    trial = _viewable_trial(request, trial_id)
    choice = request.POST.get("choice")
    if choice not in Vote.Choice.values:
        return HttpResponse("Pick one of: " + ", ".join(Vote.Choice.labels), status=400)
    if trial.runs.count() < 2:
        return HttpResponse("A vote needs two runs to compare.", status=400)
    Vote.objects.update_or_create(trial=trial, voter=request.user, defaults={"choice": choice})
    return redirect(trial)


@login_required
@require_POST
def trial_share(request, trial_id):
    trial = get_object_or_404(Trial, pk=trial_id)
    if trial.owner_id != request.user.pk:
        raise PermissionDenied
    trial.shared = request.POST.get("shared") == "1"
    trial.save(update_fields=["shared"])
    return redirect(trial)


@login_required
@require_GET
def trial_history(request):
    trials = Trial.objects.filter(owner=request.user).prefetch_related("runs", "votes")
    if query := request.GET.get("q", "").strip():
        trials = trials.filter(Q(prompt__icontains=query) | Q(system__icontains=query) | Q(runs__model_slug__icontains=query)).distinct()
    context = {"trials": trials[:200], "query": query}
    if request.htmx:
        return render(request, "web/trial_history.html#list", context)
    return render(request, "web/trial_history.html", context)


@require_GET
def compare(request):
    slugs = [slug for slug in request.GET.getlist("model") if slug][:2]
    models = LanguageModel.objects.order_by("name")
    per_model = [stats.model_stats(slug) for slug in slugs]
    pair = stats.pair_stats(*slugs) if len(slugs) == 2 else None
    return render(request, "web/compare.html", {"models": models, "selects": (slugs + ["", ""])[:2], "per_model": per_model, "pair": pair})
