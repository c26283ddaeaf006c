"""Issue 13 server-side: models that cannot run are named and never queued, stand-ins, defaults,
the share field, run pricing, the lead's own list."""

import json
import re

import pytest
from django.core.management import call_command

from advisor.catalogue.models import LanguageModel
from advisor.trials.models import Status, Trial, TrialRun
from advisor.web.advice import try_models

from .conftest import openai_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def seeded(db, monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "TOGETHER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    call_command("seed_catalogue", verbosity=0)


def post_trial(client, **body):
    return client.post("/api/trials", data=json.dumps(body), content_type="application/json")


def test_api_refuses_a_model_whose_key_is_missing_naming_the_model_and_the_variable(signed_in, bundled_model, monkeypatch):
    monkeypatch.delenv("TEST_UNSET_API_KEY", raising=False)
    openai_model(slug="keyed-llm", base_url="http://127.0.0.1:9/v1", api_key_env="TEST_UNSET_API_KEY")
    response = post_trial(signed_in, prompt="hi", models=[bundled_model.slug, "keyed-llm"])
    assert response.status_code == 400
    [message] = response.json()["errors"]["models"]
    assert "keyed-llm" in message and "TEST_UNSET_API_KEY is not set" in message
    assert not Trial.objects.exists() and not TrialRun.objects.exists()


def test_api_refuses_a_local_model_whose_weights_are_not_here(signed_in, bundled_model, local_provider):
    LanguageModel.objects.create(slug="absent-7b", name="Absent 7B", provider=local_provider, weights="SomeOrg/Absent-7B",
                                 params_b=7, open_weights=True)
    response = post_trial(signed_in, prompt="hi", models=["absent-7b"])
    assert response.status_code == 400
    message = response.json()["errors"]["models"][0]
    assert "Absent 7B (absent-7b) cannot run here" in message and "not on this server" in message
    assert not Trial.objects.exists()


def test_the_form_refuses_a_model_that_cannot_run_beside_the_model_list(signed_in, seeded):
    response = signed_in.post("/trials/new/", {"prompt": "hi", "models": ["gpt-4o"], "max_tokens": 8, "temperature": 0})
    assert response.status_code == 200
    assert "OPENAI_API_KEY is not set" in " ".join(response.context["form"].errors["models"])
    assert not Trial.objects.exists()


def test_try_models_ticks_runnable_stand_ins_of_the_same_kind_and_says_why(seeded):
    result = {"candidates": {"slm": [{"slug": "qwen2-5-7b-instruct"}, {"slug": "phi-4"}],
                             "llm": [{"slug": "gpt-4o"}, {"slug": "claude-sonnet-4"}]}}
    plan = try_models(result)
    slm, llm = plan.picks
    assert (slm.recommended, slm.slug, slm.stand_in) == ("Qwen2.5 7B Instruct", "smollm2-135m-instruct", True)
    assert "not on this server" in slm.recommended_reason
    assert llm.recommended == "GPT-4o" and "OPENAI_API_KEY" in llm.recommended_reason
    assert llm.slug == "smollm2-135m-instruct-served" and llm.stand_in and "OpenAI-compatible" in llm.stand_in_note
    assert plan.slugs == ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]


def test_a_runnable_top_candidate_is_ticked_as_itself(seeded):
    plan = try_models({"candidates": {"slm": [{"slug": "smollm2-135m-instruct"}], "llm": []}})
    [pick] = plan.picks
    assert pick.slug == "smollm2-135m-instruct" and not pick.stand_in and not pick.recommended_reason


def test_the_model_list_is_grouped_by_kind_and_by_runnable_here(signed_in, seeded):
    page = signed_in.get("/trials/new/").content.decode()
    titles = [re.sub(r" \(\d+\)$", "", t) for t in re.findall(r'class="group-title"[^>]*>([^<]+)</', page)]
    assert titles == ["Small models (SLM): run here", "Small models (SLM): not set up here", "Large models (LLM): not set up here"]
    assert re.search(r'value="gpt-4o"[^>]*disabled', page)
    assert "OPENAI_API_KEY is not set" in page


def test_failing_models_of_the_last_trial_are_not_carried_over_silently(signed_in, user, seeded):
    trial = Trial.objects.create(owner=user, prompt="earlier")
    for position, (slug, status, error) in enumerate([("smollm2-135m-instruct", Status.DONE, ""),
                                                     ("smollm2-135m-instruct-served", Status.FAILED, "Cannot connect to http://127.0.0.1:8001/v1")]):
        model = LanguageModel.objects.get(slug=slug)
        TrialRun.objects.create(trial=trial, position=position, model=model, model_slug=slug, model_name=model.name, status=status, error=error)
    response = signed_in.get("/trials/new/")
    page = response.content.decode()
    assert re.findall(r'name="models" value="([^"]+)"[^>]*checked', page) == ["smollm2-135m-instruct"]
    notes = " ".join(response.context["model_notes"])
    assert "SmolLM2 135M Instruct (local OpenAI-compatible server) from your last trial is not ticked" in notes
    assert "Cannot connect" in notes


@pytest.mark.parametrize("typed, share", [("0.2", 0.2), ("20 %", 0.2), ("20%", 0.2), (" 5,5 % ", 0.055), ("1", 1.0), ("0", 0.0), ("", None)])
def test_the_share_of_hard_requests_takes_a_share_or_a_percentage(typed, share):
    from advisor.web.forms import AdvisorForm

    form = AdvisorForm(AdvisorForm.initial_data() | {"complex_share": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["complex_share"] == (pytest.approx(share) if share is not None else None)


@pytest.mark.parametrize("typed, message", [("20", "a bare 20 would mean 2,000 %"), ("120 %", "0 % to 100 %"),
                                            ("lots", "such as 20 %"), ("nan", "finite"), ("-0.1", "from 0 to 1")])
def test_a_bad_share_says_what_it_would_mean(typed, message):
    from advisor.web.forms import AdvisorForm

    form = AdvisorForm(AdvisorForm.initial_data() | {"complex_share": typed})
    assert not form.is_valid()
    assert message in form.errors["complex_share"][0]


def test_a_local_run_is_priced_like_the_advisor_prices_the_machine(bundled_model):
    from advisor.recommend import CostAssumptions, Hardware
    from advisor.trials.pricing import run_cost

    server_cpu = Hardware("server", 64, 0)
    cost, basis = run_cost(bundled_model, 10, 20, 3600, hardware=server_cpu)
    # $6,000 written off over 36 months of 720 hours, plus 300 W at $0.15/kWh: not the old flat $0.10.
    assert cost == pytest.approx(6000 / 36 / 720 + 0.3 * 0.15)
    assert "measured on this server" in basis and "priced on your server" in basis and "$6,000 over 36 months" in basis and "300 W" in basis
    theirs, _ = run_cost(bundled_model, 10, 20, 3600, hardware=server_cpu, assumptions=CostAssumptions(amortization_months=12, usd_per_kwh=0.3))
    assert theirs == pytest.approx(6000 / 12 / 720 + 0.3 * 0.3)


def test_a_trial_from_a_recommendation_is_priced_with_its_cost_assumptions(user, bundled_model):
    from advisor.recommend import Hardware
    from advisor.trials import pricing
    from advisor.web.models import Recommendation

    rec = Recommendation.objects.create(answers={"requests_per_day": 1000, "hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 0},
                                                 "assumptions": {"usd_per_kwh": 0.5, "machine_usd": 3600}}, result={}, verdict="slm")
    assumptions = pricing.recommendation_assumptions(Trial.objects.create(owner=user, prompt="p", recommendation=rec).recommendation)
    rate, _ = pricing.machine_usd_per_hour(Hardware("server", 64, 0), assumptions)
    assert rate == pytest.approx(3600 / 36 / 720 + 0.3 * 0.5)


def test_compare_shows_fractions_of_a_cent_and_the_month_at_the_recommendations_volume(client, user, db):
    from advisor.web.models import Recommendation

    priced = openai_model(slug="priced", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=1.0, output_price=2.0)
    rec = Recommendation.objects.create(answers={"requests_per_day": 20000, "task": "chat"}, result={"candidates": {}}, verdict="slm",
                                        created_by=user)
    trial = Trial.objects.create(owner=user, prompt="p")
    for position, cost in enumerate([0.0012, 0.0018]):
        TrialRun.objects.create(trial=trial, position=position, model=priced, model_slug=priced.slug,
                                model_name=priced.name, status=Status.DONE, cost_usd=cost, total_ms=900)
    client.force_login(user)  # comparisons count only the user's own (and shared) trials
    page = client.get(f"/compare/?model={priced.slug}&rec={rec.pk}").content.decode()
    cell = re.search(r'data-metric="cost_per_1k">([^<]+)<', page).group(1)
    assert cell.strip() == "$1.50"  # 1,000 × the mean $0.0015, not "$0.0"
    assert "(mean of 2 runs)" in page
    assert re.search(r'data-metric="monthly">\$900<', page)  # 1.50 × 20,000 a day × 30 ÷ 1,000


@pytest.mark.parametrize("value, shown", [(0.0012, "$0.0012"), (0.000056, "$0.000056"), (0.5, "$0.50"), (12.345, "$12.35"), (354.2, "$354"), (0, "$0"), (None, "–")])
def test_dollars_read_at_any_size(value, shown):
    from advisor.web.templatetags.money import usd

    assert usd(value) == shown


def test_the_leads_list_shows_only_their_recommendations_and_their_own_trials(client, user, django_user_model, bundled_model):
    from advisor.web.advice import recommendation_create
    from advisor.web.forms import AdvisorForm

    def saved(owner, **answers):
        form = AdvisorForm(AdvisorForm.initial_data() | answers)
        assert form.is_valid()
        return recommendation_create(answers=form, user=owner)

    other = django_user_model.objects.create_user(username="bo", password="x")
    mine = saved(user, task="customer_support")
    theirs = saved(other, task="code")
    Trial.objects.create(owner=user, prompt="my check", recommendation=mine)
    Trial.objects.create(owner=other, prompt="their check", recommendation=mine)
    assert client.get("/recommendations/").status_code == 302  # sign-in first
    client.force_login(user)
    page = client.get("/recommendations/").content.decode()
    assert mine.title in page and theirs.title not in page and "for Customer support" in mine.title
    assert "my check" in page and "their check" not in page
    shown = client.get(mine.get_absolute_url()).content.decode()
    assert "my check" in shown and "their check" not in shown


def test_a_rerun_still_checks_the_same_recommendation(signed_in, user, bundled_model):
    from advisor.web.models import Recommendation

    rec = Recommendation.objects.create(answers={"task": "chat"}, result={"candidates": {}}, verdict="slm", created_by=user)
    source = Trial.objects.create(owner=user, prompt="again", recommendation=rec)
    TrialRun.objects.create(trial=source, position=0, model=bundled_model, model_slug=bundled_model.slug, model_name=bundled_model.name, status=Status.DONE)
    page = signed_in.get(f"/trials/new/?rerun={source.pk}").content.decode()
    assert f'name="rec" value="{rec.pk}"' in page
