"""Issue 22's hostile inputs, each once a 500: every one is now a 400 naming its field, or a form
error next to the field. The NUL-byte tests matter on PostgreSQL (SQLite stores NUL): the last test
runs this whole file again there."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from advisor.evaluations.models import Suite, SuiteItem
from advisor.trials.models import Status, Trial, TrialRun

from .conftest import ROOT, openai_model

pytestmark = pytest.mark.django_db

LONE_SURROGATE = '"\\ud800"'  # JSON's escape for a lone surrogate: valid JSON, not encodable text


def post_json(client, url: str, raw: str):
    return client.post(url, data=raw, content_type="application/json")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def priced(db):
    return openai_model(slug="priced-llm", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=2.5, output_price=10.0)


@pytest.fixture
def pair_evaluation(signed_in, user, bundled_model, priced):
    suite = Suite.objects.create(owner=user, name="Mine")
    SuiteItem.objects.create(suite=suite, position=0, prompt="Hello?")
    body = {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug]}
    return post_json(signed_in, "/api/evaluations", json.dumps(body)).json()["id"]


def upload_suite(client, name: str, content: bytes):
    return client.post("/suites/new/", {"name": "Hostile", "upload": SimpleUploadedFile(name, content)})


def form_errors(response, field: str) -> list[str]:
    assert response.status_code == 200, response.status_code
    return response.context["form"].errors.get(field, [])


# --- JSONL nested 3,000+ deep --------------------------------------------------------------------

def test_jsonl_nested_3000_deep_is_an_error_next_to_the_upload(signed_in):
    response = upload_suite(signed_in, "deep.jsonl", b'{"prompt": "ok"}\n' + b"[" * 3000 + b"]" * 3000 + b"\n")
    assert any(error.startswith("line 2:") and "nests deeper" in error for error in form_errors(response, "upload"))
    assert not Suite.objects.filter(name="Hostile").exists()


# --- a CSV field over 131,072 characters ---------------------------------------------------------

def test_csv_field_over_the_csv_modules_limit_is_an_error_next_to_the_upload(signed_in):
    response = upload_suite(signed_in, "long.csv", b"prompt\n" + b"x" * 140_000 + b"\n")
    errors = form_errors(response, "upload")
    assert any(error.startswith("line 2:") for error in errors), errors


# --- a lone surrogate in a name, prompt or slug --------------------------------------------------

@pytest.mark.parametrize("url, raw, field", [
    ("/api/suites", '{"name": %s, "items": [{"prompt": "p"}]}' % LONE_SURROGATE, "name"),
    ("/api/suites", '{"name": "n", "items": [{"prompt": %s}]}' % LONE_SURROGATE, "items"),
    ("/api/trials", '{"prompt": %s, "models": ["smollm2-135m-instruct"]}' % LONE_SURROGATE, "prompt"),
    ("/api/trials", '{"prompt": "p", "models": [%s]}' % LONE_SURROGATE, "models"),
    ("/api/evaluations", '{"suite": "x", "models": [%s, "b"]}' % LONE_SURROGATE, "models"),
    ("/api/recommend", '{%s: 1}' % LONE_SURROGATE, "body"),
])
def test_lone_surrogate_in_a_name_prompt_or_slug_is_a_400_naming_the_field(signed_in, bundled_model, url, raw, field):
    response = post_json(signed_in, url, raw)
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["errors"]


def test_lone_surrogate_in_an_uploaded_suite_is_an_error_next_to_the_upload(signed_in):
    response = upload_suite(signed_in, "s.jsonl", b'{"prompt": "fine"}\n{"prompt": "a\\ud800b"}\n')
    assert any(error.startswith("line 2: prompt") for error in form_errors(response, "upload"))


# --- item=abc in the review queue, winner=² in a vote ---------------------------------------------

@pytest.mark.parametrize("item", ["abc", "²", "99999999999999999999999", ""])
def test_review_queue_item_that_is_not_a_number_is_a_400_naming_item(signed_in, pair_evaluation, item):
    response = signed_in.post(f"/evaluations/{pair_evaluation}/review/", {"item": item, "choice": "tie"})
    assert response.status_code == 400 and b"item" in response.content


@pytest.fixture
def finished_pair_trial(user, bundled_model):
    trial = Trial.objects.create(owner=user, prompt="Which?")
    for position in (0, 1):
        TrialRun.objects.create(trial=trial, position=position, model=bundled_model, model_slug=bundled_model.slug,
                                model_name=bundled_model.name, status=Status.DONE, output=f"answer {position}")
    return trial


@pytest.mark.parametrize("winner", ["²", "١", "99999999999999999999999999"])
def test_vote_winner_that_is_not_a_column_is_a_400(signed_in, finished_pair_trial, winner):
    response = signed_in.post(f"/trials/{finished_pair_trial.id}/vote/", {"winner": winner})
    assert response.status_code == 400 and response.content.startswith(b"winner: pick one of the columns")


# --- an unknown recommendation id in /evaluations/new/ -------------------------------------------

def test_unknown_recommendation_in_new_evaluation_is_an_error_next_to_the_field(signed_in, user, bundled_model, priced):
    suite = Suite.objects.create(owner=user, name="Mine")
    SuiteItem.objects.create(suite=suite, position=0, prompt="Hello?")
    form = {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug], "repeats": 1, "max_tokens": 16,
            "temperature": 0, "recommendation": str(uuid.uuid4())}
    assert signed_in.get("/evaluations/new/", form).status_code == 200  # the link's unknown recommendation is dropped
    response = signed_in.post("/evaluations/new/", form)
    assert "No such recommendation." in form_errors(response, "recommendation")
    assert not suite.evaluations.exists()


# --- a NUL byte (PostgreSQL refuses it) ----------------------------------------------------------

@pytest.mark.parametrize("url, raw, field", [
    ("/api/suites", '{"name": "a\\u0000b", "items": [{"prompt": "p"}]}', "name"),
    ("/api/suites", '{"name": "n", "items": [{"prompt": "p", "tags": ["\\u0000"]}]}', "items"),
    ("/api/trials", '{"prompt": "a\\u0000b", "models": ["smollm2-135m-instruct"]}', "prompt"),
    ("/api/trials", '{"prompt": "p", "models": ["smollm\\u0000"]}', "models"),
])
def test_nul_byte_in_json_is_a_400_naming_the_field(signed_in, bundled_model, url, raw, field):
    response = post_json(signed_in, url, raw)
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["errors"]


def test_nul_byte_in_an_uploaded_suite_is_an_error_next_to_the_upload(signed_in):
    response = upload_suite(signed_in, "s.csv", b"prompt,system\nfine,\nbad\x00prompt,\n")
    assert any(error.startswith("line 3: prompt") for error in form_errors(response, "upload"))


@pytest.mark.parametrize("path", ["/trials/?q=a%00b", "/evaluations/new/?suite=a%00b", "/compare/?model=a%00b"])
def test_nul_byte_in_a_query_parameter_is_a_400_naming_it(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code == 400 and b"NUL" in response.content


def test_nul_byte_in_http_basic_credentials_is_refused_not_a_500(client):
    import base64

    credentials = base64.b64encode(b"us\x00er:pw").decode()
    response = client.get("/api/trials/00000000-0000-0000-0000-000000000000", HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code in (400, 401) and "errors" in response.json()


# --- a 2 MB JSONL of {} lines ----------------------------------------------------------------------

def test_two_megabytes_of_empty_objects_stop_reading_early_with_a_small_error_page(signed_in):
    response = upload_suite(signed_in, "empty.jsonl", b"{}\n" * (2 * 1024 * 1024 // 3))
    errors = form_errors(response, "upload")
    assert errors[0] == "line 1: prompt is missing or empty." and errors[-1].startswith("Reading stopped at line 20 after 20 problems")
    assert len(response.content) < 100_000  # was 33.7 MB


@pytest.mark.parametrize("name, header, line", [("many.jsonl", b"", b'{"prompt": "p"}\n'), ("many.csv", b"prompt\n", b"p\n")])
def test_an_upload_over_the_item_limit_stops_at_the_limit_while_reading(signed_in, settings, name, header, line):
    settings.EVAL_MAX_ITEMS = 50
    response = upload_suite(signed_in, name, header + line * 100_000)
    errors = form_errors(response, "upload")
    assert len(errors) == 1 and "more than 50 items" in errors[0], errors


# --- the same on PostgreSQL --------------------------------------------------------------------------

@pytest.mark.services
def test_every_hostile_input_is_refused_on_postgresql_too():
    psycopg = pytest.importorskip("psycopg")
    server = "postgresql://postgres@127.0.0.1:5432"
    try:
        psycopg.connect(f"{server}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    # pytest-django creates test_advisor_hardening_hostile and drops it at the end.
    env = dict(os.environ, DATABASE_URL=f"{server}/advisor_hardening_hostile")
    finished = subprocess.run([sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-m", "not services", "--create-db"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout[-3000:]
