"""The advisor's verdicts on a table of scenarios drawn from the reasoning in the issue."""

import pytest

from advisor.recommend import Hardware, Needs, recommend

from .recommend_catalogue import CATALOGUE

SERVER_GPU = Hardware("server", 64, 24)


def needs(**changes) -> Needs:
    base = dict(task="chat", quality="high", latency="interactive", requests_per_day=1000, input_tokens=500,
                output_tokens=200, budget_usd_month=1000, hardware=SERVER_GPU, privacy="internal")
    return Needs(**(base | changes))


SCENARIOS = [
    ("regulated hospital notes, summarised on own server", needs(task="summarization", privacy="regulated", latency="batch"), "slm"),
    ("offline field app on a laptop", needs(offline=True, hardware=Hardware("laptop", 16, 0)), "slm"),
    ("real-time intent classification on phones", needs(task="classification", latency="realtime", quality="good_enough", hardware=Hardware("phone", 8, 0)), "slm"),
    ("fine-tuned ticket routing", needs(task="classification", fine_tuning=True), "slm"),
    ("high-volume extraction on a small budget", needs(task="extraction", requests_per_day=2_000_000, budget_usd_month=300), "slm"),
    ("confidential contract extraction", needs(task="extraction", privacy="confidential"), "slm"),
    ("no money for API spend, simple chat", needs(task="customer_support", budget_usd_month=0, quality="good_enough"), "slm"),
    ("edge device translation, real time", needs(task="translation", latency="realtime", hardware=Hardware("edge", 8, 0)), "slm"),
    ("best creative writing, public data, budget", needs(task="creative_writing", quality="best", privacy="public", budget_usd_month=5000), "llm"),
    ("research with broad knowledge at best quality", needs(task="research", quality="best", privacy="public", latency="batch"), "llm"),
    ("hard reasoning, many hard requests", needs(task="reasoning", quality="best", complex_share=0.9, privacy="public"), "llm"),
    ("best code assistant with budget", needs(task="code", quality="best", budget_usd_month=20000, privacy="public", hardware=Hardware("workstation", 32, 0)), "llm"),
    ("no small model fits a tiny edge box", needs(task="chat", hardware=Hardware("edge", 0.5, 0), privacy="public"), "llm"),
    ("support desk: routine bulk with a 20% hard tail", needs(task="customer_support", requests_per_day=20000, budget_usd_month=1500, complex_share=0.2), "hybrid"),
    ("real-time chat with a 30% hard tail", needs(task="chat", latency="realtime", requests_per_day=50000, budget_usd_month=3000, complex_share=0.3), "hybrid"),
    ("summaries with a few hard documents", needs(task="summarization", requests_per_day=10000, complex_share=0.1, privacy="public"), "hybrid"),
]


@pytest.mark.parametrize("name, answers, verdict", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenario_verdicts(name, answers, verdict):
    result = recommend(answers, CATALOGUE)
    assert result.verdict == verdict, (result.scores, [r.text for r in result.reasons])
    assert result.scores[verdict] == max(result.scores.values())
    assert all(0 <= score <= 1 for score in result.scores.values())


def test_reasons_name_the_answers_that_drove_the_verdict():
    result = recommend(needs(privacy="regulated", task="summarization", latency="realtime"), CATALOGUE)
    factors = [reason.factor for reason in result.reasons]
    assert factors[0] == "privacy"
    assert "latency" in factors and "task" in factors
    assert all(reason.favours in ("slm", "llm", "hybrid") for reason in result.reasons)
    assert "regulated" in result.reasons[0].text


def test_exclusions_are_explained():
    assert any("offline" in line for line in recommend(needs(offline=True), CATALOGUE).excluded)
    assert any("budget of 0" in line for line in recommend(needs(budget_usd_month=0), CATALOGUE).excluded)


def test_regulated_data_can_still_get_a_large_open_model_on_own_hardware():
    big_iron = Hardware("server", 512, 160)
    result = recommend(needs(privacy="regulated", task="research", quality="best", hardware=big_iron), CATALOGUE)
    assert [c.slug for c in result.candidates["llm"]] == ["llama-3.3-70b-local"]
    assert result.candidates["llm"][0].fits
    assert result.scores["llm"] > 0


def test_hybrid_proposes_the_users_split():
    result = recommend(needs(task="customer_support", requests_per_day=20000, complex_share=0.2), CATALOGUE)
    assert result.hybrid.llm_share == 0.2
    assert "20%" in result.hybrid.rule
    slm_cost, llm_cost = result.monthly_cost_usd["slm"], result.monthly_cost_usd["llm"]
    assert result.monthly_cost_usd["hybrid"] == pytest.approx(slm_cost + 0.2 * llm_cost)


def test_candidates_fit_first_then_meet_the_bar_then_cheapest():
    result = recommend(needs(quality="high", hardware=Hardware("laptop", 16, 0)), CATALOGUE)
    slm = result.candidates["slm"]
    assert [c.fits for c in slm] == sorted((c.fits for c in slm), reverse=True)
    assert slm[0].meets_quality
    assert not any(c.hosted for c in slm)


def test_best_quality_ranks_hosted_models_by_quality_not_price():
    result = recommend(needs(quality="best", privacy="public", budget_usd_month=100000), CATALOGUE)
    assert result.candidates["llm"][0].slug == "gpt-4o"


def test_to_dict_has_the_contract_shape():
    data = recommend(needs(), CATALOGUE).to_dict()
    assert {"verdict", "scores", "reasons", "candidates", "monthly_cost_usd"} <= set(data)
    assert set(data["scores"]) == set(data["monthly_cost_usd"]) == {"slm", "llm", "hybrid"}
    keys = {"slug", "name", "params_b", "hosted", "fits", "memory_gb", "quantization", "est_tokens_per_s",
            "input_usd_per_mtok", "output_usd_per_mtok", "monthly_cost_usd"}
    for option in ("slm", "llm"):
        assert data["candidates"][option]
        assert all(keys <= set(c) for c in data["candidates"][option])
    assert data["monthly_cost_usd"]["llm"] == data["candidates"]["llm"][0]["monthly_cost_usd"]


def test_empty_catalogue_and_zero_volume_still_answer():
    result = recommend(needs(requests_per_day=0, input_tokens=0, output_tokens=0, budget_usd_month=0), ())
    assert result.verdict in ("slm", "llm", "hybrid")
    assert result.candidates == {"slm": (), "llm": ()}
    assert result.monthly_cost_usd == {"slm": None, "llm": None, "hybrid": None}
