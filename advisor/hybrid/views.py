"""The calibration page of an evaluation: the replayed cascade, a target, and "save as policy". Thin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from advisor.catalogue.models import LanguageModel
from advisor.web.advice import stand_ins_of
from advisor.evaluations.api import own_evaluation
from advisor.evaluations.report import volume_of
from advisor.evaluations.services import review_state

from .charts import calibration_chart_svg
from .evaluation_replay import ReplayRejected, evaluation_pair_check
from .forms import CalibrationTargetForm
from .models import HybridPolicy
from .services import evaluation_calibration, hybrid_policy_save


def _own_evaluation(request, evaluation_id):
    evaluation = own_evaluation(request.user, evaluation_id)
    if evaluation is None:
        raise Http404("No such evaluation.")
    return evaluation


def _form(evaluation, data):
    names = dict(LanguageModel.objects.filter(slug__in=evaluation.model_slugs).values_list("slug", "name"))
    return CalibrationTargetForm(data, models=[(slug, names.get(slug, slug)) for slug in evaluation.model_slugs])


def _defaults(evaluation) -> dict:
    try:
        slm, llm = evaluation_pair_check(evaluation, slm=None, llm=None)
    except ReplayRejected:
        slm = llm = None
    return {"slm": slm, "llm": llm, "target_kind": "quality", "target_value": 95, "requests_per_day": volume_of(evaluation) or 1000}


@login_required
@require_GET
def calibration_page(request, evaluation_id):
    evaluation = _own_evaluation(request, evaluation_id)
    asked = "target_kind" in request.GET or "slm" in request.GET
    form = _form(evaluation, (_defaults(evaluation) | request.GET.dict()) if asked else _defaults(evaluation))
    context = {"evaluation": evaluation, "form": form, "page": None, "chart": "", "asked": asked,
               "stand_ins": stand_ins_of(evaluation.recommendation, ran=evaluation.model_slugs),
               "review": review_state(evaluation=evaluation, voter=request.user),
               "policies": HybridPolicy.objects.filter(owner=request.user, source_evaluation=evaluation).select_related("slm", "llm")}
    if form.is_valid():
        page = evaluation_calibration(evaluation=evaluation, slm=form.cleaned_data["slm"], llm=form.cleaned_data["llm"], target=form.target())
        chosen = page["calibration"].threshold if page["calibration"] else None
        context |= {"page": page, "chart": calibration_chart_svg(page["replay"], chosen) if page["replay"] else ""}
    return render(request, "hybrid/calibration.html", context)


@login_required
@require_POST
def policy_save_view(request, evaluation_id):
    evaluation = _own_evaluation(request, evaluation_id)
    form = _form(evaluation, request.POST)
    if not form.is_valid():
        return render(request, "hybrid/calibration.html", {"evaluation": evaluation, "form": form, "page": None, "chart": "",
                                                           "asked": True, "policies": []}, status=400)
    data = form.cleaned_data
    page = evaluation_calibration(evaluation=evaluation, slm=data["slm"], llm=data["llm"], target=form.target())
    if page["calibration"] is None:
        messages.error(request, page["refusal"] or page["target_error"] or "Nothing to save.")
    else:
        models = {m.slug: m for m in LanguageModel.objects.filter(slug__in=[data["slm"], data["llm"]])}
        policy = hybrid_policy_save(owner=request.user, slm=models[data["slm"]], llm=models[data["llm"]],
                                    calibration=page["calibration"], source_evaluation=evaluation)
        messages.success(request, f"Saved: {policy.slm.name} → {policy.llm.name} under {policy.threshold:g}. "
                                  "New trials can use it as their hybrid column, and the advice for this pair uses its share.")
    query = request.POST.copy()
    query.pop("csrfmiddlewaretoken", None)
    return redirect(f"{reverse('evaluation-hybrid', args=[evaluation.id])}?{query.urlencode()}")
