"""POST /api/recommend, the advisor pages and the saved, shareable, exportable results."""

import json

import pytest
from django.core.management import call_command
from django.utils.html import escape

pytestmark = pytest.mark.django_db

CONTRACT_EXAMPLE = {
    "task": "customer_support", "quality": "high", "latency": "interactive", "requests_per_day": 20000,
    "input_tokens": 500, "output_tokens": 200, "budget_usd_month": 1500,
    "hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 24}, "privacy": "internal",
    "offline": False, "fine_tuning": False, "complex_share": 0.2,
}


@pytest.fixture(autouse=True)
def seeded(db):
    call_command("seed_catalogue", verbosity=0)


def post(client, body, raw=False):
    return client.post("/api/recommend", data=body if raw else json.dumps(body), content_type="application/json")


def test_contract_example_answers_with_the_contract_shape(client):
    response = post(client, CONTRACT_EXAMPLE)
    assert response.status_code == 200
    data = response.json()
    assert data["verdict"] in ("slm", "llm", "hybrid")
    assert data["scores"][data["verdict"]] == max(data["scores"].values())
    assert data["reasons"] and all({"factor", "favours", "text"} <= set(r) for r in data["reasons"])
    llm = data["candidates"]["llm"][0]
    expected = 20000 * 30 * (500 * llm["input_usd_per_mtok"] + 200 * llm["output_usd_per_mtok"]) / 1e6
    assert llm["monthly_cost_usd"] == pytest.approx(expected, abs=0.01)
    assert data["monthly_cost_usd"]["llm"] == llm["monthly_cost_usd"]
    assert data["url"].startswith("/recommendations/")
    # An anonymous caller owns no account: the answer's share link is its way back to it.
    assert client.get(data["url"]).status_code == 404
    assert client.get(data["share_url"]).status_code == 200


def test_regulated_gets_no_hosted_model(client):
    data = post(client, CONTRACT_EXAMPLE | {"privacy": "regulated"}).json()
    assert not any(c["hosted"] for option in ("slm", "llm") for c in data["candidates"][option])
    assert data["verdict"] != "llm"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"task": "poetry"}, "task"),
        ({"task": 3}, "task"),
        ({"quality": None}, "quality"),
        ({"requests_per_day": -1}, "requests_per_day"),
        ({"requests_per_day": 1.5}, "requests_per_day"),
        ({"requests_per_day": "100"}, "requests_per_day"),
        ({"requests_per_day": True}, "requests_per_day"),
        ({"budget_usd_month": -5}, "budget_usd_month"),
        ({"hardware": "server"}, "hardware"),
        ({"hardware": {"target": "mainframe", "ram_gb": 8}}, "hardware.target"),
        ({"hardware": {"target": "server"}}, "hardware.ram_gb"),
        ({"hardware": {"target": "server", "ram_gb": -1}}, "hardware.ram_gb"),
        ({"offline": "yes"}, "offline"),
        ({"complex_share": 1.5}, "complex_share"),
        ({"privacy": "secret"}, "privacy"),
        ({"latency": "soon"}, "latency"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, change, field):
    response = post(client, CONTRACT_EXAMPLE | change)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


@pytest.mark.parametrize("missing", ["task", "quality", "latency", "requests_per_day", "input_tokens", "output_tokens", "budget_usd_month", "hardware", "privacy"])
def test_missing_fields_are_named(client, missing):
    body = {k: v for k, v in CONTRACT_EXAMPLE.items() if k != missing}
    response = post(client, body)
    assert response.status_code == 400
    assert missing in response.json()["errors"]


@pytest.mark.parametrize(
    "raw, field",
    [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        ("", "body"),
        (json.dumps(CONTRACT_EXAMPLE).replace("1500", "NaN"), "budget_usd_month"),
        (json.dumps(CONTRACT_EXAMPLE).replace("1500", "Infinity"), "budget_usd_month"),
        (json.dumps(CONTRACT_EXAMPLE | {"padding": "x" * 100_000}), "body"),
        (b"\xff\xfe", "body"),
    ],
)
def test_malformed_bodies_are_a_400_never_a_500(client, raw, field):
    response = post(client, raw, raw=True)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_candidates_notes_show_on_the_result_page_and_in_markdown(client):
    answer = post(client, CONTRACT_EXAMPLE).json()
    note = next(note for c in answer["candidates"]["slm"] for note in c["notes"])
    page = client.get(answer["share_url"]).content.decode()
    assert escape(note) in page
    assert note in client.get(answer["share_url"].rstrip("/") + ".md").content.decode()


def test_get_is_not_allowed(client):
    assert client.get("/api/recommend").status_code == 405


def test_saved_result_exports_as_markdown_and_json(client):
    url = post(client, CONTRACT_EXAMPLE).json()["share_url"]
    markdown = client.get(url.rstrip("/") + ".md")
    assert markdown["Content-Type"].startswith("text/markdown")
    assert "# Recommendation:" in markdown.content.decode()
    exported = client.get(url.rstrip("/") + ".json").json()
    assert exported["answers"]["task"] == "customer_support"
    assert exported["verdict"] in ("slm", "llm", "hybrid")


def test_advisor_page_previews_and_htmx_gets_only_the_result(client):
    page = client.get("/advisor/").content.decode()
    assert 'data-testid="verdict"' in page and "<form" in page
    partial = client.get("/advisor/?task=creative_writing&quality=best&latency=interactive&requests_per_day=100&input_tokens=500"
                         "&output_tokens=500&budget_usd_month=1000&hardware_target=laptop&hardware_ram_gb=16&hardware_gpu_vram_gb=0&privacy=public",
                         HTTP_HX_REQUEST="true", HTTP_HX_TARGET="result")
    body = partial.content.decode()
    assert "<form" not in body and 'data-verdict="llm"' in body


def test_advisor_form_errors_sit_next_to_the_field(client):
    response = client.post("/advisor/", {"task": "chat", "requests_per_day": "-3"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="requests_per_day"' in body


def test_saving_the_form_redirects_to_a_shareable_result(client):
    data = {"task": "classification", "quality": "good_enough", "latency": "realtime", "requests_per_day": "5000",
            "input_tokens": "100", "output_tokens": "5", "budget_usd_month": "0", "hardware_target": "phone",
            "hardware_ram_gb": "8", "hardware_gpu_vram_gb": "0", "privacy": "internal"}
    response = client.post("/advisor/", data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-verdict="slm"' in page
    assert "trials/new/?models=" in page


def test_cost_assumptions_can_be_changed_and_are_echoed(client):
    cheap_power = post(client, CONTRACT_EXAMPLE | {"assumptions": {"usd_per_kwh": 0.0, "amortization_months": 120}}).json()
    default = post(client, CONTRACT_EXAMPLE).json()
    assert cheap_power["assumptions"]["usd_per_kwh"] == 0.0
    assert cheap_power["assumptions"]["amortization_months"] == 120
    assert cheap_power["monthly_cost_usd"]["slm"] < default["monthly_cost_usd"]["slm"]


def test_machine_price_power_and_batching_can_be_changed_for_the_chosen_hardware(client):
    default = post(client, CONTRACT_EXAMPLE).json()
    dear = post(client, CONTRACT_EXAMPLE | {"assumptions": {"machine_usd": 100_000, "machine_watts": 2000}}).json()
    one_at_a_time = post(client, CONTRACT_EXAMPLE | {"assumptions": {"max_parallel_requests": 1}}).json()
    assert dear["assumptions"]["hardware_usd"]["server"] == 100_000 and dear["assumptions"]["watts"]["server"] == 2000
    assert dear["assumptions"]["hardware_usd"]["laptop"] == default["assumptions"]["hardware_usd"]["laptop"]
    assert dear["monthly_cost_usd"]["slm"] > default["monthly_cost_usd"]["slm"]
    assert one_at_a_time["monthly_cost_usd"]["slm"] > default["monthly_cost_usd"]["slm"]
    page = client.get(dear["share_url"]).content.decode()
    assert "$100,000 each" in page and "2,000 W each while generating" in page


def test_a_server_without_a_gpu_is_priced_and_changed_as_one(client):
    cpu_only = CONTRACT_EXAMPLE | {"hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 0}}
    default = post(client, cpu_only).json()
    # The class's typical CPU host (a 2-socket server) with the stated RAM, its catalogue price and power.
    assert default["local_machine"] == {"device": "server-2s-ddr5-512gb", "count": 1, "usd": 20000, "watts": 700}
    assert "without a GPU read as a 2-socket CPU server" in default["own_devices"]["preset"]
    changed = post(client, cpu_only | {"assumptions": {"machine_usd": 9000}}).json()
    assert changed["local_machine"]["usd"] == 9000
    page = client.get(changed["share_url"]).content.decode()
    assert "$9,000 each" in page and "64 GB" in page


@pytest.mark.parametrize("assumptions, field", [
    ({"usd_per_kwh": -1}, "assumptions.usd_per_kwh"),
    ({"machine_usd": -5}, "assumptions.machine_usd"),
    ({"max_parallel_requests": 0}, "assumptions.max_parallel_requests"),
    ({"machine_watts": "lots"}, "assumptions.machine_watts"),
    ({"amortization_months": 0}, "assumptions.amortization_months"),
    ({"gpu_hour_usd": "cheap"}, "assumptions.gpu_hour_usd"),
    ("none", "assumptions"),
])
def test_bad_assumptions_are_named(client, assumptions, field):
    response = post(client, CONTRACT_EXAMPLE | {"assumptions": assumptions})
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_result_page_shows_the_plan_why_the_others_lost_quality_against_the_bar_and_formulas(client):
    # A confidential summariser on a CPU laptop (the old engine's "SLM, dearer than hosted"): 6,000-token
    # prompts take the laptop's CPU far past 10 s to the first token, so the plan is the cheapest that
    # meets every requirement, and the page says why each other option lost.
    answers = CONTRACT_EXAMPLE | {"task": "summarization", "quality": "good_enough", "requests_per_day": 200, "input_tokens": 6000,
                                  "output_tokens": 300, "budget_usd_month": 100, "privacy": "confidential", "complex_share": None,
                                  "hardware": {"target": "laptop", "ram_gb": 32, "gpu_vram_gb": 0}}
    data = post(client, {k: v for k, v in answers.items() if v is not None}).json()
    plan = data["plan"]
    assert plan["feasible"] and data["plan_feasible"] and data["confident"]
    assert plan["monthly_cost_usd"] == min(p["monthly_cost_usd"] for p in data["options"].values() if p and p["feasible"])
    assert data["reasons"][0]["favours"] == data["verdict"] and data["reasons"][0]["text"].startswith("The cheapest plan that meets every requirement")
    assert all(isinstance(r["weight"], float | int) for r in data["reasons"])
    candidate = data["candidates"]["slm"][0]
    assert candidate["quality_level"] == "good_enough" and candidate["quality_bar"] == 0.5 and candidate["quality_source"]
    page = client.get(data["share_url"]).content.decode()
    assert 'data-testid="plan"' in page and escape(data["reasons"][1]["text"]) in page and "(weight " in page
    assert "Quality (need 0.50)" in page and escape(candidate["quality_source"]) in page
    assert escape(data["estimate_formulas"]["first_token_s"]) in page and escape(plan["cost_formula"]) in page
    markdown = client.get(data["share_url"].rstrip("/") + ".md").content.decode()
    assert data["reasons"][0]["text"] in markdown and "weight " in markdown


def test_reasoning_allowance_batch_discount_and_score_sources_round_trip_through_export_and_import(tmp_path):
    from io import StringIO

    from advisor.catalogue.models import LanguageModel

    out = StringIO()
    call_command("export_catalogue", stdout=out)
    exported = json.loads(out.getvalue())
    o4 = next(m for m in exported["models"] if m["slug"] == "o4-mini")
    assert o4["reasoning_tokens"] == 1000 and o4["reasoning_tokens_source"] and o4["batch_discount"] == 0.5
    assert "MATH" in o4["task_score_sources"]["reasoning"]
    o4["reasoning_tokens"] = 2500
    o4["task_score_sources"]["reasoning"] = "GPQA Diamond, test"
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(exported))
    call_command("import_catalogue", str(path), verbosity=0)
    saved = LanguageModel.objects.get(slug="o4-mini")
    assert saved.reasoning_tokens == 2500 and saved.task_score_sources["reasoning"] == "GPQA Diamond, test"
    bad = exported | {"models": [o4 | {"batch_discount": 1.5}]}
    path.write_text(json.dumps(bad))
    with pytest.raises(Exception, match="batch_discount"):
        call_command("import_catalogue", str(path), verbosity=0)


def test_the_apis_form_free_validation_agrees_with_the_advisor_form():
    """/api/recommend validates with AdvisorForm's fields without building the form: the same
    cleaned answers, or the same messages for the same fields, for valid and invalid answers."""
    import random

    from advisor.web.forms import AdvisorForm, advisor_answers_clean

    rng = random.Random(3)
    good = {
        "task": ["chat", "code", "summarization"], "quality": ["high", "best"], "latency": ["realtime", "batch"],
        "requests_per_day": [0, 100, "12"], "input_tokens": [0, 500], "output_tokens": [200], "budget_usd_month": [0, 50.5],
        "hardware_target": ["server", "laptop"], "hardware_ram_gb": [16, 0], "hardware_gpu_vram_gb": [0, 24],
        "hardware_this_machine": [True, False, None, "False"], "privacy": ["internal", "regulated"], "offline": [True, False, None],
        "fine_tuning": [True, False], "complex_share": [None, 0.2, "20 %"], "amortization_months": [None, 24],
        "usd_per_kwh": [None, 0.3], "max_parallel_requests": [None, 8],
    }
    bad = {
        "task": ["nonsense", ""], "quality": [""], "latency": ["soon"], "requests_per_day": [-1, 10**10, "x", None],
        "input_tokens": [-3, None], "output_tokens": [1.5], "budget_usd_month": [-1, "inf", float("nan")],
        "hardware_target": ["mainframe"], "hardware_ram_gb": [-2, None], "complex_share": [20, 1.5, "200 %"],
        "amortization_months": [0], "usd_per_kwh": [-1], "max_parallel_requests": [1000],
    }
    samples = []
    for _ in range(300):
        answers = {name: rng.choice(values) for name, values in good.items()}
        for name in rng.sample(sorted(bad), rng.choice([0, 0, 1, 2])):
            answers[name] = rng.choice(bad[name])
        samples.append({name: value for name, value in answers.items() if value is not None})
    valid = 0
    for data in samples:
        form = AdvisorForm(data)
        answers, errors = advisor_answers_clean(data)
        if form.is_valid():
            valid += 1
            assert errors == {} and answers.cleaned_data == form.cleaned_data, data
            assert (answers.needs(), answers.assumptions(), answers.answers()) == (form.needs(), form.assumptions(), form.answers())
        else:
            assert answers is None and errors == {name: list(messages) for name, messages in form.errors.items()}, data
    assert 0 < valid < len(samples), "both valid and invalid answers were compared"



def test_a_named_device_and_count_replace_the_class_and_every_candidate_carries_its_plan(client):
    body = CONTRACT_EXAMPLE | {"hardware": {"device": "nvidia-l4", "count": 2}}
    data = post(client, body).json()
    assert data["own_devices"] == {"device": "nvidia-l4", "name": "NVIDIA L4", "count": 2, "preset": ""}
    for c in data["candidates"]["slm"] + data["candidates"]["llm"]:
        plan = c["plan"]
        assert plan["where"] in ("own", "rented", "hosted", "batch_api") and isinstance(plan["infeasible_because"], list)
        if plan["where"] == "own":
            assert plan["device"] == "nvidia-l4" and plan["count"] <= 2
    assert data["plan"]["monthly_cost_usd"] == data["monthly_cost_usd"][data["verdict"]] or data["verdict"] == "hybrid"
    saved = client.get(data["share_url"]).content.decode()
    assert 'data-testid="plan"' in saved and "NVIDIA L4" in saved
    # The old fields keep working beside it, and an unknown device or count is named.
    assert post(client, CONTRACT_EXAMPLE | {"hardware": {"target": "server", "ram_gb": 64, "device": "nvidia-l4"}}).status_code == 200
    bad = post(client, CONTRACT_EXAMPLE | {"hardware": {"device": "gpu-from-mars", "count": 0}})
    assert bad.status_code == 400 and {"hardware.device", "hardware.count"} <= set(bad.json()["errors"])
    assert "hardware.target" in post(client, CONTRACT_EXAMPLE | {"hardware": {"count": 2}}).json()["errors"]


def test_a_residency_answer_excludes_hosted_plans_outside_the_region_with_the_reason(client):
    data = post(client, CONTRACT_EXAMPLE | {"residency": "eu", "hardware": {"target": "laptop", "ram_gb": 8, "gpu_vram_gb": 0}}).json()
    hosted = [c for c in data["candidates"]["llm"] if c["plan"]["where"] == "hosted"]
    for c in hosted:
        if c["slug"].startswith(("gpt-", "claude-")):
            assert any("your data must stay in the EU" in reason for reason in c["plan"]["infeasible_because"])
    assert not (data["plan"]["where"] == "hosted" and data["plan"]["model"].startswith(("gpt-", "claude-")))
    assert post(client, CONTRACT_EXAMPLE | {"residency": "mars"}).json()["errors"]["residency"]


def test_a_cloud_teams_rent_per_hour_replaces_the_catalogues_for_its_device(client):
    body = CONTRACT_EXAMPLE | {"hardware": {"target": "cloud", "ram_gb": 64, "gpu_vram_gb": 24}, "complex_share": None}
    default = post(client, body).json()
    cheap = post(client, body | {"assumptions": {"gpu_hour_usd": 0.05}}).json()
    assert default["own_devices"]["device"] == "nvidia-a10g"
    # At the catalogue's $1.01 an hour a rented RTX 3090 ($0.22) serves the SLMs for less; at $0.05 the team's A10G does.
    assert not [c for c in default["candidates"]["slm"] if c["plan"]["device"] == "nvidia-a10g"]
    rows = [c["plan"] for c in cheap["candidates"]["slm"] if c["plan"]["device"] == "nvidia-a10g"]
    assert rows and all(row["monthly_cost_usd"] == pytest.approx(row["count"] * 720 * 0.05) for row in rows)
