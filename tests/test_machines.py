"""The worker's machine probe, the speed calibration, and predicted vs measured on local runs."""

import json
import time

import pytest

from advisor.machines import calibration
from advisor.machines.models import SpeedSample, Worker
from advisor.machines.probe import machine_probe, memory_bandwidth_gbs
from advisor.recommend import memory
from advisor.recommend.types import Hardware, ModelSpec

from .conftest import wait_for_trial


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_memory_bandwidth_copy_test_is_quick_and_plausible():
    started = time.monotonic()
    bandwidth = memory_bandwidth_gbs()
    assert time.monotonic() - started < 5
    assert 0.5 < bandwidth < 2000


def test_machine_probe_has_cores_ram_gpu_and_bandwidth():
    machine = machine_probe()
    assert machine["cpu_cores"] >= 1 and machine["ram_gb"] > 0 and machine["bandwidth_gbs"] > 0
    assert "gpu_name" in machine and machine["hardware_class"] in memory.CPU_BANDWIDTH_GBS
    json.dumps(machine)  # stored in a JSONField


def test_fit_recovers_efficiency_and_fixed_cost_from_two_sizes():
    efficiency, fixed = 0.4, 0.005
    points = [(x, x / efficiency + fixed) for x in (0.01, 0.02, 0.05)]
    fitted_efficiency, fitted_fixed = calibration.fit(points)
    assert fitted_efficiency == pytest.approx(efficiency) and fitted_fixed == pytest.approx(fixed)


def test_fit_on_one_size_reproduces_its_median_speed():
    points = [(0.01, 0.02), (0.01, 0.025), (0.01, 0.03)]
    efficiency, fixed = calibration.fit(points)
    assert 0.01 / efficiency + fixed == pytest.approx(0.025)
    # Faster than the hardware-class efficiency allows: no fixed cost, a higher efficiency.
    efficiency, fixed = calibration.fit([(0.01, 0.012)])
    assert fixed == 0 and 0.01 / efficiency == pytest.approx(0.012)


def sample(model, tokens_per_s, *, hostname="bench-host", precision="int8", bandwidth=10.0):
    return SpeedSample.objects.create(
        hostname=hostname, model=model, runtime="onnxruntime-genai", precision=precision,
        gb_per_token=calibration.gb_per_token(model.params_b, precision), bandwidth_gbs=bandwidth,
        tokens_per_s=tokens_per_s, output_tokens=64, source=SpeedSample.Source.CALIBRATION,
    )


def test_estimate_falls_back_to_the_hardware_class_and_says_so(db):
    fitted = calibration.calibration_for(runtime="onnxruntime-genai", machine={"hardware_class": "laptop"}, hostname="nowhere")
    assert fitted.runs == 0 and fitted.bandwidth_gbs == memory.CPU_BANDWIDTH_GBS["laptop"]
    assert "hardware-class figures" in fitted.label and "nothing measured" in fitted.label
    measured = calibration.calibration_for(runtime="onnxruntime-genai", machine={"bandwidth_gbs": 12.5}, hostname="nowhere")
    assert measured.bandwidth_gbs == 12.5 and "not yet calibrated by runs here" in measured.label


def test_estimate_calibrated_on_runs_here_matches_them(bundled_model):
    for speed in (90, 100, 110):
        sample(bundled_model, speed)
    fitted = calibration.calibration_for(runtime="onnxruntime-genai", machine={"bandwidth_gbs": 10.0}, hostname="bench-host")
    assert fitted.label.startswith("calibrated on 3 runs here")
    assert fitted.tokens_per_s(calibration.gb_per_token(0.135, "int8")) == pytest.approx(100, rel=0.01)


def test_advisor_speed_uses_this_machines_calibration():
    spec = ModelSpec(slug="m", name="m", params_b=0.135, open_weights=True, hosted=False, context_tokens=8192,
                     layers=30, kv_heads=3, head_dim=64)
    by_class = memory.tokens_per_s(spec, "q8_0", 512, Hardware("laptop", 16))
    calibrated = memory.tokens_per_s(spec, "q8_0", 512, Hardware("laptop", 16, measured_speed=(10.0, 0.6, 0.008)))
    assert calibrated < by_class / 2, "the fixed per-token cost dominates a small model"
    assert calibrated == pytest.approx(1 / ((0.135 * 1.0625 + memory.kv_cache_gb(spec, 512)) / 6 + 0.008))


@pytest.mark.slow
def test_worker_records_its_machine_when_it_starts(worker):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        recorded = Worker.objects.exclude(machine={}).first()
        if recorded:
            break
        time.sleep(0.2)
    assert recorded is not None, "the worker wrote no machine probe"
    assert recorded.machine["bandwidth_gbs"] > 0 and recorded.machine["cpu_cores"] >= 1


@pytest.mark.slow
def test_local_trial_on_onnx_records_runtime_prediction_and_confidence(worker, signed_in, bundled_model):
    bundled_model.runtime, bundled_model.precision = "onnxruntime-genai", "int8"
    bundled_model.save()
    response = signed_in.post("/api/trials", data=json.dumps({"prompt": "Name three colours.", "models": [bundled_model.slug],
                                                               "max_tokens": 24}), content_type="application/json")
    body = wait_for_trial(signed_in, response.json()["id"])
    run = body["runs"][0]
    assert run["status"] == "done", run["error"]
    assert (run["runtime"], run["precision"]) == ("onnxruntime-genai", "int8")
    assert run["predicted_tokens_per_s"] > 0 and run["tokens_per_s"] > 0
    assert run["confidence"]["tokens"] == run["output_tokens"] and 0 < run["confidence"]["score"] <= 1
    recorded = SpeedSample.objects.get(trial_run__trial_id=body["id"])
    assert recorded.tokens_per_s == run["tokens_per_s"] and recorded.predicted_tokens_per_s == run["predicted_tokens_per_s"]
    page = signed_in.get(f"/trials/{body['id']}/")
    assert b"Ran on onnxruntime-genai at int8" in page.content


def test_speeds_page_shows_measured_against_estimate(client, bundled_model):
    import socket

    for speed in (80, 100, 120):
        sample(bundled_model, speed, hostname=socket.gethostname())
    page = client.get("/catalogue/speeds/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "calibrated on 3 runs here" in text and ">100.0<" in text and "SmolLM2 135M Instruct" in text


def _first_local_speeds(result: dict) -> list:
    return [c["est_tokens_per_s"] for c in result["candidates"]["slm"] if not c["hosted"]]


def test_a_detected_server_keeps_its_calibrated_speed_in_the_saved_answer_while_its_hardware_is_unchanged(signed_in, bundled_model):
    import socket

    from advisor.hardware import probe_machine
    from advisor.web.forms import AdvisorForm
    from advisor.web.models import Recommendation

    for speed in (40, 50, 60):
        sample(bundled_model, speed, hostname=socket.gethostname())
    detected = signed_in.get("/advisor/?detect=1").content.decode()
    assert 'name="hardware_this_machine" value="True"' in detected
    assert 'data-testid="result-speed-basis">Speed calibrated on 3 runs here' in detected

    machine = probe_machine()
    answers = AdvisorForm.initial_data() | {"hardware_target": machine.target, "hardware_ram_gb": machine.ram_gb,
                                            "hardware_gpu_vram_gb": machine.gpu_vram_gb}

    def saved(**changes) -> dict:
        response = signed_in.post("/advisor/", answers | changes)
        assert response.status_code == 302, response.content.decode()[:2000]
        return Recommendation.objects.get(pk=response.url.strip("/").split("/")[-1]).result

    calibrated = saved(hardware_this_machine="True")
    assert calibrated["speed_basis"].startswith("Speed calibrated on 3 runs here")
    by_class = saved()
    assert by_class["speed_basis"] is None
    assert _first_local_speeds(calibrated) != _first_local_speeds(by_class), "the saved answer uses the measured speed"
    # Once the hardware answers are no longer the server's, the server's speed no longer applies.
    edited = saved(hardware_this_machine="True", hardware_ram_gb=machine.ram_gb + 1)
    assert edited["speed_basis"] is None
    page = signed_in.get(f"/recommendations/{Recommendation.objects.order_by('-created_at').first().pk}/")
    assert b"result-speed-basis" not in page.content


def test_only_signed_in_api_callers_get_the_servers_measured_speed(client, user, bundled_model):
    import base64
    import socket

    from advisor.hardware import probe_machine

    for speed in (40, 50, 60):
        sample(bundled_model, speed, hostname=socket.gethostname())
    machine = probe_machine()
    body = {"task": "chat", "quality": "good_enough", "latency": "interactive", "requests_per_day": 100, "input_tokens": 200,
            "output_tokens": 100, "budget_usd_month": 50, "privacy": "internal",
            "hardware": {"target": machine.target, "ram_gb": machine.ram_gb, "gpu_vram_gb": machine.gpu_vram_gb, "this_machine": True}}
    response = client.post("/api/recommend", json.dumps(body), content_type="application/json")
    assert response.status_code == 200 and response.json()["speed_basis"] is None
    basic = "Basic " + base64.b64encode(b"ana:pw-for-tests").decode()
    response = client.post("/api/recommend", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=basic)
    assert response.status_code == 200 and response.json()["speed_basis"].startswith("Speed calibrated on 3 runs here")


def test_every_column_of_a_trial_gets_the_same_estimate_for_the_same_model_runtime_and_machine(user, bundled_model):
    # The first column to finish is estimated from the fit; its (slower, cores-sharing) speed then
    # joins the fit, and the next column of the same model must not be estimated anew from it.
    from advisor.machines.prediction import run_speed_record
    from advisor.trials.execution import Measurement
    from advisor.trials.models import Trial, TrialRun

    trial = Trial.objects.create(owner=user, prompt="p")

    def finished(position, speed):
        run = TrialRun.objects.create(trial=trial, position=position, model=bundled_model, model_slug=bundled_model.slug,
                                      model_name=bundled_model.name, worker_host="this-host")
        measured = Measurement(output="x" * 200, tokens_per_s=speed, output_tokens=200, runtime="onnxruntime-genai", precision="int8")
        run_speed_record(run=run, measured=measured)
        run.save()
        return run

    first = finished(0, 108.0)
    hybrid_column = finished(1, 20.0)
    assert first.predicted_tokens_per_s is not None
    assert hybrid_column.predicted_tokens_per_s == first.predicted_tokens_per_s
    other_trial = TrialRun.objects.create(trial=Trial.objects.create(owner=user, prompt="q"), position=0, model=bundled_model,
                                          model_slug=bundled_model.slug, model_name=bundled_model.name, worker_host="this-host")
    run_speed_record(run=other_trial, measured=Measurement(output="x", tokens_per_s=100.0, output_tokens=200, runtime="onnxruntime-genai", precision="int8"))
    assert other_trial.predicted_tokens_per_s != first.predicted_tokens_per_s  # a later trial uses the fit as it is now
