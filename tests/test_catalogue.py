"""The catalogue: seeding, import (all or nothing), export, price sync, admin curation, the public page."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from advisor.catalogue.models import Device, LanguageModel, Provider
from advisor.catalogue.prices import price_per_mtok
from advisor.catalogue.transfer import catalogue_export

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    run("seed_catalogue")


def test_seed_then_export_gives_the_curated_catalogue(seeded):
    data = json.loads(run("export_catalogue"))
    models = data["models"]
    assert len(models) >= 25
    slms = [m for m in models if m["open_weights"] and m["params_b"] is not None and m["params_b"] <= 15]
    priced_hosted = [m for m in models if m["provider"] in {p["slug"] for p in data["providers"] if p["hosted"]} and m["input_usd_per_mtok"] > 0]
    assert len(slms) >= 12
    assert len(priced_hosted) >= 6
    bundled = next(m for m in models if m["slug"] == "smollm2-135m-instruct")
    assert bundled["weights"] == "bundled:smollm2-135m-instruct"
    assert all(m["source_url"] for m in models), "every figure has a source"
    assert all(p.get("api_key") is None for p in data["providers"])


def test_seed_is_idempotent_and_keeps_admin_edits_unless_forced(seeded):
    LanguageModel.objects.filter(slug="gpt-4o").update(input_usd_per_mtok=99)
    assert "0 created" in run("seed_catalogue")
    assert LanguageModel.objects.get(slug="gpt-4o").input_usd_per_mtok == 99
    run("seed_catalogue", "--force")
    assert LanguageModel.objects.get(slug="gpt-4o").input_usd_per_mtok == 2.5


def test_export_then_import_round_trips(seeded, tmp_path):
    before = catalogue_export()
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(before))
    assert "0 created, 0 updated" in run("import_catalogue", str(path))
    assert catalogue_export() == before


def test_import_with_one_bad_entry_changes_nothing_and_names_entry_and_field(seeded, tmp_path):
    data = catalogue_export()
    data["models"][0]["name"] = "Renamed"
    data["models"].append({"slug": "new-model", "name": "New", "provider": "openai", "remote_name": "new", "params_b": 1, "input_usd_per_mtok": -1})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as excinfo:
        run("import_catalogue", str(path))
    message = str(excinfo.value)
    assert "new-model" in message and "input_usd_per_mtok" in message
    assert not LanguageModel.objects.filter(name="Renamed").exists()
    assert not LanguageModel.objects.filter(slug="new-model").exists()


@pytest.mark.parametrize(
    "entry, field",
    [
        ({"slug": "p1", "name": "P", "kind": "openai", "base_url": "ftp://x"}, "base_url"),
        ({"slug": "p2", "name": "P", "kind": "openai"}, "base_url"),
        ({"slug": "p3", "name": "P", "kind": "alien"}, "kind"),
        ({"slug": "p4", "name": "P", "kind": "openai", "base_url": "https://x.test/v1", "api_key_env": "sk-123 secret"}, "api_key_env"),
    ],
)
def test_invalid_providers_are_rejected_by_field(db, tmp_path, entry, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"providers": [entry], "models": []}))
    with pytest.raises(CommandError, match=rf"providers\[0\].*{field}"):
        run("import_catalogue", str(path))
    assert not Provider.objects.exists()


def test_import_rejects_non_json_and_unknown_fields(db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import_catalogue", str(path))
    path.write_text(json.dumps({"providers": [{"slug": "p", "name": "P", "kind": "transformers", "colour": "red"}]}))
    with pytest.raises(CommandError, match="colour"):
        run("import_catalogue", str(path))


def test_seed_has_real_devices_with_their_sources_and_export_lists_them(seeded):
    devices = {d["slug"]: d for d in json.loads(run("export_catalogue"))["devices"]}
    assert len(devices) >= 15
    for slug in ("nvidia-t4", "nvidia-l4", "nvidia-a10g", "nvidia-l40s", "nvidia-a100-40gb", "nvidia-a100-80gb", "nvidia-h100-pcie",
                 "nvidia-h100-sxm", "nvidia-h200", "nvidia-rtx-3090", "nvidia-rtx-4090", "nvidia-rtx-5090", "nvidia-rtx-6000-ada",
                 "apple-m2-ultra-192gb", "laptop-ddr5-32gb", "desktop-ddr5-64gb", "server-2s-ddr5-512gb"):
        assert devices[slug]["source"] and devices[slug]["memory_gb"] > 0
    assert devices["nvidia-l4"] | {"source": "", "price_usd": 0, "rent_usd_per_hour": 0} == {
        "slug": "nvidia-l4", "name": "NVIDIA L4", "kind": "gpu", "memory_gb": 24, "bandwidth_gbs": 300, "fp16_tflops": 121,
        "int8_tops": 242, "power_w": 72, "price_usd": 0, "rent_usd_per_hour": 0, "source": "", "active": True}
    assert {d["kind"] for d in devices.values()} == {"gpu", "cpu", "unified"}


def test_seed_keeps_an_admins_device_edit_unless_forced(seeded):
    Device.objects.filter(slug="nvidia-t4").update(rent_usd_per_hour=0.35)
    assert "0 created" in run("seed_catalogue")
    assert Device.objects.get(slug="nvidia-t4").rent_usd_per_hour == 0.35
    run("seed_catalogue", "--force")
    assert Device.objects.get(slug="nvidia-t4").rent_usd_per_hour == 0.53


def test_a_bad_device_changes_nothing_and_is_named_with_its_field(seeded, tmp_path):
    data = catalogue_export()
    data["devices"][0]["name"] = "Renamed"
    data["devices"].append({"slug": "gpu-x", "name": "X", "kind": "tpu", "memory_gb": -1})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as excinfo:
        run("import_catalogue", str(path))
    assert "devices[" in str(excinfo.value) and "'gpu-x'" in str(excinfo.value)
    assert "field 'kind'" in str(excinfo.value) and "field 'memory_gb'" in str(excinfo.value)
    assert not Device.objects.filter(name="Renamed").exists() and not Device.objects.filter(slug="gpu-x").exists()


def test_provider_regions_are_checked(db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"providers": [{"slug": "p", "name": "P", "kind": "openai", "base_url": "https://x.test/v1", "region": "mars"}]}))
    with pytest.raises(CommandError, match=r"providers\[0\].*region"):
        run("import_catalogue", str(path))


def test_prices_come_from_genai_prices():
    assert price_per_mtok("gpt-4o", "openai") == (2.5, 10.0)
    assert price_per_mtok("no-such-model-anywhere", "openai") is None


def test_sync_prices_reports_what_changed(seeded):
    LanguageModel.objects.filter(slug="gpt-4o-mini").update(input_usd_per_mtok=1.0)
    output = run("sync_prices")
    assert "gpt-4o-mini: $1.0 → $0.15 in" in output
    assert LanguageModel.objects.get(slug="gpt-4o-mini").input_usd_per_mtok == 0.15
    assert "no price changed" in run("sync_prices")


def test_slm_and_llm_follow_the_contract_definition(seeded):
    slugs = set(LanguageModel.objects.slms().values_list("slug", flat=True))
    assert "phi-4" in slugs  # 14.7 B, open
    assert "gpt-4o" not in slugs  # hosted, undisclosed size
    assert "llama-3-3-70b-instruct" in set(LanguageModel.objects.llms().values_list("slug", flat=True))


def test_admin_adds_a_provider_and_a_model_that_show_on_the_catalogue_page(admin_client, seeded, monkeypatch):
    monkeypatch.setenv("ACME_KEY", "sk-secret-value")
    response = admin_client.post("/admin/catalogue/provider/add/", {
        "slug": "acme", "name": "Acme AI", "kind": "openai", "base_url": "https://api.acme.test/v1", "api_key_env": "ACME_KEY", "hosted": "on",
    })
    assert response.status_code == 302, response.content
    acme = Provider.objects.get(slug="acme")
    response = admin_client.post("/admin/catalogue/languagemodel/add/", {
        "slug": "acme-large", "name": "Acme Large", "provider": acme.pk, "remote_name": "acme-large-1", "weights": "",
        "active": "on", "params_b": "", "context_tokens": "200000", "licence": "proprietary", "release_date": "",
        "input_usd_per_mtok": "1.5", "output_usd_per_mtok": "6", "price_source": "", "quality": "0.8", "quality_source": "",
        "task_scores": "{}", "task_score_sources": "{}", "reasoning_tokens": "0", "batch_discount": "0",
        "good_for": "[]", "layers": "", "kv_heads": "", "head_dim": "", "hidden_size": "", "source_url": "https://acme.test",
    })
    assert response.status_code == 302, response.content
    page = admin_client.get("/catalogue/").content.decode()
    assert "Acme Large" in page and "Acme AI" in page
    providers = admin_client.get("/admin/catalogue/provider/").content.decode()
    assert "ACME_KEY" in providers and "sk-secret-value" not in providers


def test_admin_rejects_negative_sizes_and_prices_next_to_the_field(admin_client, seeded):
    local = Provider.objects.get(slug="local")
    response = admin_client.post("/admin/catalogue/languagemodel/add/", {
        "slug": "broken", "name": "Broken", "provider": local.pk, "weights": "org/repo", "params_b": "-3",
        "input_usd_per_mtok": "-1", "output_usd_per_mtok": "0", "quality": "0.5", "task_scores": "{}", "good_for": "[]",
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "params_b" in errors and "input_usd_per_mtok" in errors
    assert not LanguageModel.objects.filter(slug="broken").exists()


def test_admin_provider_check_reports_a_provider_that_does_not_answer(admin_client, seeded):
    Provider.objects.filter(slug="loopback").update(base_url="http://127.0.0.1:9/v1")
    loopback = Provider.objects.get(slug="loopback")
    response = admin_client.post("/admin/catalogue/provider/", {"action": "check_answers", "_selected_action": [loopback.pk]}, follow=True)
    assert "cannot connect" in response.content.decode()


def test_catalogue_page_filters_and_sorts(client, seeded):
    slm_page = client.get("/catalogue/?kind=slm").content.decode()
    assert "Phi-4" in slm_page and "GPT-4o" not in slm_page
    llm_page = client.get("/catalogue/?kind=llm&provider=openai").content.decode()
    assert "GPT-4o" in llm_page and "Claude" not in llm_page
    runnable = client.get("/catalogue/?runnable=1").content.decode()
    assert "SmolLM2 135M Instruct" in runnable and "Phi-4" not in runnable
    sorted_page = client.get("/catalogue/?kind=slm&sort=params").content.decode()
    assert sorted_page.index("SmolLM2 135M") < sorted_page.index("Phi-4")
    partial = client.get("/catalogue/?kind=slm", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="catalogue-table"' in partial


def test_admin_check_trial_action_starts_a_trial_on_the_selected_models(admin_client, seeded):
    from advisor.trials.models import Trial

    bundled = LanguageModel.objects.get(slug="smollm2-135m-instruct")
    response = admin_client.post("/admin/catalogue/languagemodel/", {"action": "run_check_trial", "_selected_action": [bundled.pk]})
    trial = Trial.objects.get()
    assert response.status_code == 302 and response["Location"] == trial.get_absolute_url()
    assert [run.model_slug for run in trial.runs.all()] == ["smollm2-135m-instruct"]
