"""The spend ledger and the run core on the embedded database: every kind of model call counts
against one daily cap (hybrid escalations and judge calls included), an upstream cannot spend more
than a call reserved, a stream cut off is not an answer, a live judge call is never taken for a
dead one, and the periodic sweep finishes what a dead worker left."""

import subprocess
import sys

import pytest
from django.utils import timezone

from advisor.evaluations import execution as evaluation_execution
from advisor.evaluations.models import EvalStatus, Evaluation, EvaluationRun, JudgeStatus, JudgeVerdict, RunStatus, Suite, SuiteItem
from advisor.evaluations.services import EvaluationRequest, WORKER_GONE, evaluation_start
from advisor.runs import ledger
from advisor.runs.models import SpendKind, SpendReservation
from advisor.runs.sweep import sweep_every_kind
from advisor.trials import execution, runners
from advisor.trials.hybrid_run import HybridSpec, trial_hybrid_run_execute
from advisor.trials.models import Status
from advisor.trials.running import trial_run_execute
from advisor.trials.services import TrialRejected, TrialRequest, trial_start

from .conftest import ROOT, openai_model
from .fake_openai_faults import FaultServer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_heartbeat_inside_the_test_transaction(settings):
    # These tests run calls in-process inside the test's transaction, which a heartbeat's own
    # connection could not see; the heartbeat has its own test below.
    settings.RUN_HEARTBEAT_S = 600


def _start_priced_trial(user, model, max_tokens):
    return trial_start(owner=user, request=TrialRequest(prompt="Say hello.", models=[model.slug], max_tokens=max_tokens))


@pytest.mark.slow
def test_the_cross_kind_cap_counts_a_hybrid_columns_escalation(user, bundled_model, served_model, settings):
    """A hybrid column runs on its free SLM's row; its LLM's spend must still count (it was $0.00)."""
    trial = trial_start(owner=user, request=TrialRequest(prompt="Name a colour.", models=[], max_tokens=12,
                                                         hybrid=HybridSpec(slm=bundled_model.slug, llm=served_model.slug, threshold=1.0)))
    run = trial.runs.get()
    kinds = dict(SpendReservation.objects.filter(owner=user).values_list("kind", "model_slug"))
    assert kinds == {SpendKind.TRIAL_RUN: bundled_model.slug, SpendKind.HYBRID_ESCALATION: served_model.slug}

    trial_hybrid_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.DONE and run.escalated, run.error
    llm_cost = run.hybrid_figures["llm"]["cost_usd"]
    assert llm_cost > 0
    assert ledger.spend_today_usd(user) == pytest.approx(llm_cost)
    assert ledger.calls_in_flight(user, SpendKind.TRIAL_RUN) == 0

    # A priced start that fits the cap only if the escalation were forgotten is refused.
    next_worst = ledger.worst_case_cost_usd(served_model, ledger.prompt_tokens_upper_bound("", "Say hello."), 12)
    settings.TRIAL_DAILY_SPEND_CAP_USD = llm_cost + next_worst / 2
    with pytest.raises(TrialRejected, match="daily cap"):
        _start_priced_trial(user, served_model, 12)


@pytest.mark.slow
def test_the_cross_kind_cap_counts_judge_calls(user, served_model, loopback_llm, settings):
    """Judge calls were never counted ($19.20 in four 1-item evaluations went unseen)."""
    other = openai_model(slug="served-llm-b", base_url=loopback_llm, hosted=True, input_price=2.5, output_price=10.0)
    suite = Suite.objects.create(owner=user, name="one")
    SuiteItem.objects.create(suite=suite, position=0, prompt="What is 2 + 2?")
    evaluation = evaluation_start(owner=user, request=EvaluationRequest(
        suite=suite, models=[served_model.slug, other.slug], max_tokens=8, judge=served_model.slug, judge_max_tokens=12,
        judge_anyway=True))  # the small loopback model: what is checked is the ledger, not its verdicts
    assert set(SpendReservation.objects.filter(owner=user).values_list("kind", flat=True)) == {SpendKind.EVALUATION, SpendKind.JUDGE}

    for run in EvaluationRun.objects.filter(evaluation=evaluation):
        EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
        evaluation_execution.evaluation_run_execute(run_id=run.pk)
    verdicts = JudgeVerdict.objects.filter(evaluation=evaluation)
    assert verdicts.count() == 2
    for verdict in verdicts:
        evaluation_execution.evaluation_judge_execute(verdict_id=verdict.pk)

    evaluation.refresh_from_db()
    assert evaluation.status == EvalStatus.DONE
    judged = sum(v.cost_usd for v in verdicts.all())
    ran = sum(r.cost_usd for r in EvaluationRun.objects.filter(evaluation=evaluation))
    assert judged > 0 and ran > 0
    judge_entry = SpendReservation.objects.get(owner=user, kind=SpendKind.JUDGE)
    assert judge_entry.spent_usd == pytest.approx(judged) and judge_entry.settled_at is not None
    assert ledger.spend_today_usd(user) == pytest.approx(ran + judged)

    next_worst = ledger.worst_case_cost_usd(served_model, ledger.prompt_tokens_upper_bound("", "Say hello."), 8)
    settings.TRIAL_DAILY_SPEND_CAP_USD = ran + next_worst + judged / 2
    with pytest.raises(TrialRejected, match="daily cap"):
        _start_priced_trial(user, served_model, 8)


def _generate(model, max_tokens):
    request = runners.GenerationRequest(prompt="Say hello.", max_tokens=max_tokens)
    from advisor.trials.pricing import run_cost

    return request, execution.generate(model, request, on_text=lambda *a: None, on_progress=lambda m: None, price=run_cost)


def test_fault_an_upstream_that_ignores_max_tokens_costs_at_most_the_reserved_worst_case(settings):
    # $12.00 was spent against a $0.064 reservation: the server streamed past max_tokens and said so.
    settings.OPENAI_MAX_RETRIES = 0
    inflated = {"prompt_tokens": 5, "completion_tokens": 9_000_000, "total_tokens": 9_000_005}
    with FaultServer([("stream", ["word "] * 3, "usage", inflated)]) as server:
        model = openai_model(slug="liar", base_url=server.base_url, hosted=True, input_price=2.5, output_price=10.0)
        request, measured = _generate(model, max_tokens=16)
    worst = ledger.worst_case_cost_usd(model, ledger.prompt_tokens_upper_bound(request.system, request.prompt), request.max_tokens)
    assert measured.output_tokens == 16 and measured.cost_usd <= worst

    with FaultServer([("stream", ["word "] * 500, "usage")]) as server:
        model.provider.base_url = server.base_url
        model.provider.save()
        _, measured = _generate(model, max_tokens=16)
    assert measured.capped and measured.output == "word " * 16
    assert measured.output_tokens <= 16 and measured.cost_usd <= worst
    assert "cut there" in measured.cost_basis


def test_fault_an_endless_stream_is_cut_at_the_output_byte_cap(settings):
    # One stream of 31 MB was stored whole; each piece here is 100 kB, far past 16 tokens' worth of bytes.
    settings.OPENAI_MAX_RETRIES = 0
    with FaultServer([("stream", ["x" * 100_000] * 300, "drop")]) as server:
        model = openai_model(slug="endless", base_url=server.base_url, hosted=True, input_price=2.5, output_price=10.0)
        _, measured = _generate(model, max_tokens=16)
        sent = server.bytes_sent
    assert measured.capped and len(measured.output) <= ledger.output_bytes_cap(16)
    assert sent < 300 * 100_000, "the stream was read to its end"


def test_fault_a_stream_that_ends_without_its_finish_reason_is_marked_cut_off(user, settings):
    # 5 of 40 tokens, then a clean close: it counted as done.
    settings.OPENAI_MAX_RETRIES = 0
    with FaultServer([("stream", ["Five ", "of ", "forty ", "tokens ", "then"], "no_finish")]) as server:
        model = openai_model(slug="cut", base_url=server.base_url, hosted=True, input_price=2.5, output_price=10.0)
        run = _start_priced_trial(user, model, 40).runs.get()
        trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED and "cut off" in run.error
    assert run.output == "Five of forty tokens then", "the text so far is kept"
    entry = SpendReservation.objects.get(subject__endswith=f":{run.position}", owner=user)
    assert entry.settled_at is not None and 0 < entry.spent_usd <= entry.reserved_usd


def test_fault_an_unexpected_error_in_an_evaluation_run_shows_its_type_never_its_text(user, monkeypatch, loopback_llm):
    served = openai_model(slug="served-a", base_url=loopback_llm)
    other = openai_model(slug="served-b", base_url=loopback_llm)
    suite = Suite.objects.create(owner=user, name="one")
    SuiteItem.objects.create(suite=suite, position=0, prompt="Hi")
    evaluation = evaluation_start(owner=user, request=EvaluationRequest(suite=suite, models=[served.slug, other.slug], max_tokens=8))

    def broken_runner(target, request):
        raise ValueError("upstream said: Authorization: Bearer sk-live-0123456789abcdef at http://10.0.0.7/v1")

    monkeypatch.setattr(runners, "stream", broken_runner)
    run = EvaluationRun.objects.filter(evaluation=evaluation).first()
    EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    evaluation_execution.evaluation_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "ValueError" in run.error and "sk-live" not in run.error and "10.0.0.7" not in run.error


def _queued_judgement(user, model):
    suite = Suite.objects.create(owner=user, name="judge")
    item = SuiteItem.objects.create(suite=suite, position=0, prompt="Hi")
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=["a", "b"], judge=model, judge_slug=model.slug,
                                           status=EvalStatus.RUNNING)
    return JudgeVerdict.objects.create(evaluation=evaluation, item=item, judge_slug=model.slug, order="ab")


def test_the_judge_re_run_a_live_judge_call_claimed_long_after_it_was_queued_is_never_run_again(user, settings):
    # A judge call claimed more than TRIAL_STALE_AFTER_S after it was queued looked dead (its claim
    # did not say it was alive) and was run a second time while still live.
    model = openai_model(slug="judge", base_url="http://127.0.0.1:9/v1")
    verdict = _queued_judgement(user, model)
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.TRIAL_STALE_AFTER_S + 60)
    JudgeVerdict.objects.filter(pk=verdict.pk).update(updated_at=long_ago)

    assert evaluation_execution._claim_verdict(verdict.pk) is not None  # the live call, this process
    assert evaluation_execution._claim_verdict(verdict.pk) is None, "a redelivered message ran it again"
    sweep_every_kind()
    verdict.refresh_from_db()
    assert verdict.status == JudgeStatus.RUNNING and verdict.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_running_row_alive_until_it_is_no_longer_ours(user):
    import time

    from advisor.runs.core import heartbeat

    model = openai_model(slug="judge-beat", base_url="http://127.0.0.1:9/v1")
    verdict = _queued_judgement(user, model)
    old = timezone.now() - timezone.timedelta(hours=1)
    JudgeVerdict.objects.filter(pk=verdict.pk).update(status=JudgeStatus.RUNNING, updated_at=old)
    with heartbeat(JudgeVerdict.objects.filter(pk=verdict.pk, status=JudgeStatus.RUNNING), every_s=0.05):
        time.sleep(0.5)
    verdict.refresh_from_db()
    assert (timezone.now() - verdict.updated_at).total_seconds() < 5


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_periodic_sweep_resumes_an_evaluation_whose_worker_died(user, django_capture_on_commit_callbacks):
    # Runs were recovered only when a worker started: with one worker killed and another alive, a
    # run stayed "running" for 8+ minutes, holding its model's slot and the user's quota.
    from advisor.runs.core import HOSTNAME

    served = openai_model(slug="served-x", base_url="http://127.0.0.1:9/v1")
    other = openai_model(slug="served-y", base_url="http://127.0.0.1:9/v1")
    suite = Suite.objects.create(owner=user, name="three")
    for position in range(3):
        SuiteItem.objects.create(suite=suite, position=position, prompt=f"p{position}")
    evaluation = evaluation_start(owner=user, request=EvaluationRequest(suite=suite, models=[served.slug, other.slug], max_tokens=8))
    Evaluation.objects.filter(pk=evaluation.pk).update(status=EvalStatus.RUNNING)
    runs = EvaluationRun.objects.filter(evaluation=evaluation, model_slug=served.slug).order_by("item__position")
    killed = runs[0]
    EvaluationRun.objects.filter(pk=killed.pk).update(status=RunStatus.RUNNING, worker_host=HOSTNAME, worker_pid=_dead_pid(),
                                                       attempts=1, started_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert sweep_every_kind() > 0
    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED and killed.error == WORKER_GONE
    assert killed.attempts == 1, "never run a second time: its call may have reached the provider"
    assert runs.filter(status=RunStatus.QUEUED).count() == 2, "its slot is free again: the next runs are sent"
    assert len(sent) >= 2


def test_the_stuck_message_redis_redelivers_a_dead_workers_message_within_minutes_by_default():
    # With Redis's default (an hour) a message a killed worker had taken stayed queued for 30 minutes.
    script = "from django.conf import settings; print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'])"
    env = {"DJANGO_SETTINGS_MODULE": "advisor.settings", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/11",
           "ADVISOR_DATA_DIR": str(ROOT / "var" / "test"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + script], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    timeout = int(out.split()[-1])
    assert 405 <= timeout <= 600, "longer than an evaluation task (EVAL_CHAIN_S + a run's hard limit), shorter than 10 minutes"


def test_a_retry_after_a_day_restarts_its_reservation_in_place(user):
    # One row per subject and kind (spend_add finds it): a reservation older than the window is
    # started again from today rather than duplicated.
    call = ledger.SpendCall(SpendKind.EVALUATION, "evaluations.evaluation:old", 1.0)
    ledger.spend_reserve(owner=user, calls=[call])
    ledger.spend_add(subject=call.subject, kind=call.kind, usd=0.7)
    ledger.spend_settle(subject=call.subject)
    SpendReservation.objects.update(created_at=timezone.now() - timezone.timedelta(days=2))
    assert ledger.spend_today_usd(user) == 0

    ledger.spend_reserve_again(owner=user, calls=[ledger.SpendCall(SpendKind.EVALUATION, call.subject, 0.25)])
    assert SpendReservation.objects.count() == 1
    assert ledger.spend_today_usd(user) == pytest.approx(0.25)


def test_a_users_calls_on_one_api_model_are_capped_across_kinds(user, bundled_model, served_model, settings):
    """TRIAL_MAX_RUNS_IN_FLIGHT_PER_MODEL counts a hybrid column's escalation and plain runs together,
    on the API model only: the local model beside it and another API model still start."""
    settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_MODEL = 2
    trial_start(owner=user, request=TrialRequest(prompt="Name a colour.", models=[served_model.slug], max_tokens=12,
                                                 hybrid=HybridSpec(slm=bundled_model.slug, llm=served_model.slug, threshold=1.0)))
    assert ledger.calls_in_flight_on_model(user, served_model.slug) == 2

    with pytest.raises(TrialRejected) as refused:
        _start_priced_trial(user, served_model, 12)
    assert refused.value.status == 429 and "TRIAL_MAX_RUNS_IN_FLIGHT_PER_MODEL" in refused.value.errors["models"][0]

    other = openai_model(slug="other-llm", base_url=served_model.provider.base_url)
    trial_start(owner=user, request=TrialRequest(prompt="Say hello.", models=[bundled_model.slug, other.slug], max_tokens=12))
    trial_start(owner=user, request=TrialRequest(prompt="Say hello again.", models=[bundled_model.slug], max_tokens=12))
    assert ledger.calls_in_flight_on_model(user, bundled_model.slug) == 3
