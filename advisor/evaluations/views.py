"""Pages for suites and evaluations. Thin: read the request, call a service, render."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisor.catalogue.models import LanguageModel
from advisor.trials.reply_length import max_tokens_default
from advisor.web.sharing import recommendation_of_user
from advisor.web.paging import page_of

from . import charts
from .blind_review import answers_blinded, blind_review_pending
from .carry import Checking, checking_from
from .api import csv_response, own_evaluation
from .forms import EvaluationForm, SuiteEditForm, SuiteNewForm, suite_item_formset
from .models import Suite
from .report import answers_side_by_side, evaluation_figures
from .services import (
    EvaluationRejected, EvaluationRequest, evaluation_cancel, evaluation_plan, evaluation_retry, evaluation_start, evaluations_of, review_next_item,
    review_order, review_state, suite_create, suite_duplicate, suite_for_recommendation, suite_update, vote_record,
)

REVIEW_CHOICES = [("left", "Left is better"), ("right", "Right is better"), ("tie", "Tie"), ("both_bad", "Both are bad")]


def _visible_suite(request, suite_id) -> Suite:
    suite = Suite.objects.visible_to(request.user).filter(pk=suite_id).first()
    if suite is None:
        raise Http404("No such suite.")
    return suite


def _own_evaluation(request, evaluation_id):
    evaluation = own_evaluation(request.user, evaluation_id)
    if evaluation is None:
        raise Http404("No such evaluation.")
    return evaluation


def _add_errors(form, errors: dict) -> None:
    for field, messages in errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


# --- Suites ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def suite_list(request):
    # A count (GROUP BY) drops the model's default order: name it again.
    suites = Suite.objects.visible_to(request.user).annotate(item_count=Count("items")).order_by("-is_sample", "name", "pk")
    return render(request, "evaluations/suite_list.html", {"page": page_of(request, suites)})


@login_required
@require_http_methods(["GET", "POST"])
def suite_new(request):
    checking = checking_from(request)  # the query string rides on the form's own address
    form = SuiteNewForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            suite = suite_create(owner=request.user, name=form.cleaned_data["name"], items=form.cleaned_data["items"],
                                 description=form.cleaned_data["description"], recommendation=checking.recommendation)
        except EvaluationRejected as exc:
            _add_errors(form, {"lines" if k == "items" else k: v for k, v in exc.errors.items()})
        else:
            return redirect(checking.evaluation_url(suite) if checking else suite)
    return render(request, "evaluations/suite_new.html", {"form": form, "checking": checking})


@login_required
@require_GET
def suite_detail(request, suite_id):
    suite = _visible_suite(request, suite_id)
    items = list(suite.items.all())
    systems = {item.system for item in items}
    # One system prompt for every row is shown once, not repeated down the page.
    shared_system = systems.pop() if len(systems) == 1 and len(items) > 1 else ""
    checking = checking_from(request, suite)
    return render(request, "evaluations/suite_detail.html", {"suite": suite, "items": items, "editable": suite.editable_by(request.user),
                                                             "shared_system": shared_system, "checking": checking,
                                                             "evaluate_url": checking.evaluation_url(suite)})


@login_required
@require_http_methods(["GET", "POST"])
def suite_edit(request, suite_id):
    suite = _visible_suite(request, suite_id)
    if not suite.editable_by(request.user):
        raise Http404("No such suite of yours.")
    if request.method == "POST":
        form, rows = SuiteEditForm(request.POST), suite_item_formset(request.POST, items=suite.items.all())
        if form.is_valid() and rows.is_valid():
            try:
                suite_update(suite=suite, name=form.cleaned_data["name"], items=rows.items(), description=form.cleaned_data["description"])
            except EvaluationRejected as exc:
                rows._non_form_errors = rows.error_class([m for found in exc.errors.values() for m in found])
            else:
                checking = checking_from(request, suite)
                return redirect(f"{suite.get_absolute_url()}?{checking.query}" if checking else suite)
    else:
        form = SuiteEditForm(initial={"name": suite.name, "description": suite.description})
        rows = suite_item_formset(items=suite.items.all())
    return render(request, "evaluations/suite_edit.html", {"form": form, "rows": rows, "suite": suite})


@login_required
@require_POST
def suite_duplicate_view(request, suite_id):
    checking = checking_from(request)
    copy = suite_duplicate(suite=_visible_suite(request, suite_id), owner=request.user, recommendation=checking.recommendation)
    return redirect(f"{copy.get_absolute_url()}?{checking.query}" if checking else copy)


# --- Evaluations ----------------------------------------------------------------------------------------


def _catalogue_models():
    return list(LanguageModel.objects.active().select_related("provider").order_by("-open_weights", "params_b", "name"))


def _evaluation_form(request, data):
    suites = [(str(s.id), f"{s.name}{' (sample)' if s.is_sample else ''}") for s in Suite.objects.visible_to(request.user)]
    models = _catalogue_models()

    def label(m, judging=False):
        notes = ([] if m.runnable_here else ["not set up here"]) + (["too small to judge"] if judging and not m.can_judge else [])
        return f"{m.name} ({'; '.join(notes)})" if notes else m.name

    # Able judges first: the ones worth choosing.
    judges = sorted(models, key=lambda m: not m.can_judge)
    return EvaluationForm(data, suites=suites, model_choices=[(m.slug, label(m)) for m in models],
                          judge_choices=[(m.slug, label(m, judging=True)) for m in judges])


def _request_of(request, form) -> EvaluationRequest:
    data = form.cleaned_data
    return EvaluationRequest(
        suite=_visible_suite(request, data["suite"]), models=data["models"], repeats=data["repeats"], max_tokens=data["max_tokens"],
        temperature=data["temperature"], judge=data["judge"] or None, requests_per_day=data["requests_per_day"],
        recommendation_id=str(data["recommendation"]) if recommendation_of_user(request.user, data["recommendation"]) else None,
        judge_anyway=data["judge_anyway"],
    )


@login_required
@require_GET
def evaluation_list(request):
    return render(request, "evaluations/evaluation_list.html", {"page": page_of(request, evaluations_of(request.user))})


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_new(request):
    plan, plan_error = None, None
    checking = checking_from(request)
    if request.method == "POST":
        checking = Checking(recommendation_of_user(request.user, request.POST.get("recommendation")), request.POST.get("requests_per_day", ""),
                            request.POST.getlist("models"))
        form = _evaluation_form(request, request.POST)
        if form.is_valid():
            try:
                evaluation = evaluation_start(owner=request.user, request=_request_of(request, form))
            except EvaluationRejected as exc:
                _add_errors(form, exc.errors)
            else:
                return redirect(evaluation)
    else:
        initial = {"repeats": 1, "max_tokens": max_tokens_default(checking.recommendation), "temperature": 0.0} | {k: v for k, v in request.GET.items() if k != "models"}
        initial["models"] = request.GET.getlist("models") or ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]
        if "suite" not in initial:
            first = (suite_for_recommendation(user=request.user, recommendation=checking.recommendation)
                     or Suite.objects.visible_to(request.user).filter(owner=request.user).first() or Suite.objects.visible_to(request.user).first())
            initial["suite"] = str(first.id) if first else ""
        if checking.recommendation is None:
            initial.pop("recommendation", None)
        elif not initial.get("requests_per_day"):
            initial["requests_per_day"] = checking.requests_per_day
        form = _evaluation_form(request, initial)
    # The worst case is shown before anything starts, for the values in the form.
    if form.is_valid():
        try:
            plan = evaluation_plan(request=_request_of(request, form))
        except EvaluationRejected as exc:
            plan_error = "; ".join(m for messages in exc.errors.values() for m in messages)
    context = {"form": form, "plan": plan, "plan_error": plan_error, "spend_cap": settings.EVAL_SPEND_CAP_USD, "checking": checking}
    if request.htmx and request.htmx.target == "plan":
        return render(request, "evaluations/evaluation_new.html#plan", context)
    return render(request, "evaluations/evaluation_new.html", context)


def _report_context(evaluation) -> dict:
    figures = evaluation_figures(evaluation)
    blind = blind_review_pending(evaluation=evaluation, voter=evaluation.owner)
    answers = answers_side_by_side(figures)
    return {
        "evaluation": evaluation, "figures": figures, "blind": blind,
        "answers": answers_blinded(answers, evaluation=evaluation) if blind else answers,
        "latency_chart": charts.latency_chart_svg(figures), "quality_chart": charts.cost_quality_chart_svg(figures),
        "percent_done": round(100 * figures["finished"] / figures["total"]) if figures["total"] else 100,
        "progress_by_model": [
            {"model": m["model"], "name": m["name"], "finished": m["done"] + m["failed"], "total": m["runs"],
             "percent": round(100 * (m["done"] + m["failed"]) / m["runs"]) if m["runs"] else 100}
            for m in figures["models"]
        ],
    }


@login_required
@require_GET
def evaluation_report(request, evaluation_id):
    evaluation = _own_evaluation(request, evaluation_id)
    return render(request, "evaluations/report.html", _report_context(evaluation))


@login_required
@require_POST
def evaluation_cancel_view(request, evaluation_id):
    evaluation = _own_evaluation(request, evaluation_id)
    evaluation_cancel(evaluation=evaluation)
    return redirect(evaluation)


@login_required
@require_POST
def evaluation_retry_view(request, evaluation_id):
    evaluation = _own_evaluation(request, evaluation_id)
    try:
        retried = evaluation_retry(evaluation=evaluation)
    except EvaluationRejected as exc:
        messages.error(request, " ".join(m for found in exc.errors.values() for m in found))
    else:
        messages.success(request, f"{retried} failed run{'s' if retried != 1 else ''} queued again; the runs that succeeded are kept.")
    return redirect(evaluation)


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_review(request, evaluation_id):
    evaluation = _own_evaluation(request, evaluation_id)
    if not evaluation.pair:
        raise Http404("This evaluation has one model: nothing to review.")
    if request.method == "POST":
        item_id = request.POST.get("item", "")
        if not (item_id.isascii() and item_id.isdigit() and len(item_id) <= 18):
            return HttpResponse("item: must be the number of one of this suite's items.", status=400, content_type="text/plain; charset=utf-8")
        item = get_object_or_404(evaluation.suite.items, pk=int(item_id))
        choice = request.POST.get("choice")
        left, right = review_order(evaluation, item)
        winner = {"left": left, "right": right, "tie": "tie", "both_bad": "both_bad"}.get(choice)
        if winner is None:
            return HttpResponse("choice: pick one of: " + ", ".join(label for _, label in REVIEW_CHOICES), status=400, content_type="text/plain; charset=utf-8")
        vote_record(evaluation=evaluation, item=item, voter=request.user, winner=winner)
        return redirect("evaluation-review", evaluation.id)
    item = review_next_item(evaluation=evaluation, voter=request.user)
    answers = None
    if item is not None:
        left, right = review_order(evaluation, item)
        outputs = {run.model_slug: run.output for run in evaluation.runs.filter(item=item, repeat=0, model_slug__in=evaluation.pair)}
        answers = (outputs[left], outputs[right])
    voted = evaluation.votes.filter(voter=request.user).count()
    context = {"evaluation": evaluation, "item": item, "answers": answers, "choices": REVIEW_CHOICES, "voted": voted,
               "items": evaluation.suite.items.count(), "state": review_state(evaluation=evaluation, voter=request.user)}
    return render(request, "evaluations/review.html", context)


@login_required
@require_GET
def evaluation_export_csv(request, evaluation_id):
    return csv_response(_own_evaluation(request, evaluation_id))


@login_required
@require_GET
def evaluation_export_json(request, evaluation_id):
    evaluation = _own_evaluation(request, evaluation_id)
    response = HttpResponse(json.dumps(evaluation_figures(evaluation), indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="evaluation-{evaluation.id}.json"'
    return response
