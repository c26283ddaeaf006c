"""Per-user API tokens: made once, stored as a hash, named, revocable; `Authorization: Bearer` acts as the owner."""

import base64
import hashlib
import json

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from advisor.evaluations.models import Suite
from advisor.tokens.models import ApiToken
from advisor.trials.models import Trial
from advisor.web.models import Recommendation

pytestmark = pytest.mark.django_db

RECOMMEND = {
    "task": "chat", "quality": "high", "latency": "interactive", "requests_per_day": 1000, "input_tokens": 200,
    "output_tokens": 100, "budget_usd_month": 100, "hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 24},
    "privacy": "internal",
}


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def bearer(secret: str) -> str:
    return f"Bearer {secret}"


def make_token(client: Client, name: str = "ci", auth: str = basic("ana", "pw-for-tests")):
    return client.post("/api/tokens", data=json.dumps({"name": name}), content_type="application/json", HTTP_AUTHORIZATION=auth)


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def secret(csrf_client, user) -> str:
    return make_token(csrf_client).json()["token"]


def test_post_makes_a_token_shown_once_and_kept_only_as_its_hash(csrf_client, user):
    response = make_token(csrf_client, "nightly")
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"id", "name", "token"} and body["name"] == "nightly"
    assert "no-store" in response["Cache-Control"]
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.owner == user and stored.key_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"].startswith(stored.prefix) and len(body["token"]) > 40
    row = ApiToken.objects.filter(pk=body["id"]).values().get()
    assert all(body["token"] not in str(value) for value in row.values())
    listed = csrf_client.get("/api/tokens", HTTP_AUTHORIZATION=basic("ana", "pw-for-tests"))
    assert [token["name"] for token in listed.json()["tokens"]] == ["nightly"]
    assert body["token"] not in listed.content.decode()


def test_two_tokens_differ(csrf_client, user):
    assert make_token(csrf_client, "a").json()["token"] != make_token(csrf_client, "b").json()["token"]


def test_bad_names_are_400s_naming_the_field(csrf_client, user):
    for payload in ({}, {"name": ""}, {"name": "   "}, {"name": 7}, {"name": "x" * 101}):
        response = csrf_client.post("/api/tokens", data=json.dumps(payload), content_type="application/json",
                                    HTTP_AUTHORIZATION=basic("ana", "pw-for-tests"))
        assert response.status_code == 400, payload
        assert list(response.json()["errors"]) == ["name"], payload
    make_token(csrf_client, "ci")
    assert make_token(csrf_client, "ci").json()["errors"]["name"][0].startswith("You already have a token named")


def test_a_bearer_token_acts_as_its_owner_without_csrf(csrf_client, user, secret):
    response = csrf_client.post("/api/suites", data=json.dumps({"name": "by token", "items": [{"prompt": "p"}]}),
                                content_type="application/json", HTTP_AUTHORIZATION=bearer(secret))
    assert response.status_code == 201
    assert Suite.objects.get(name="by token").owner == user
    response = csrf_client.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="application/json",
                                HTTP_AUTHORIZATION=bearer(secret))
    assert response.status_code == 200 and Recommendation.objects.get().created_by == user
    assert ApiToken.objects.get().last_used_at is not None


def test_a_token_has_its_owners_rights_and_no_more(csrf_client, user, secret, django_user_model):
    mine = Trial.objects.create(owner=user, prompt="mine")
    other = django_user_model.objects.create_user(username="bo", password="pw-for-tests")
    theirs = Trial.objects.create(owner=other, prompt="theirs")
    assert csrf_client.get(f"/api/trials/{mine.id}", HTTP_AUTHORIZATION=bearer(secret)).status_code == 200
    assert csrf_client.get(f"/api/trials/{theirs.id}", HTTP_AUTHORIZATION=bearer(secret)).status_code == 404
    their_token = make_token(csrf_client, "theirs", basic("bo", "pw-for-tests")).json()
    assert csrf_client.delete(f"/api/tokens/{their_token['id']}", HTTP_AUTHORIZATION=bearer(secret)).status_code == 404
    assert csrf_client.get(f"/api/trials/{theirs.id}", HTTP_AUTHORIZATION=bearer(their_token["token"])).status_code == 200


def test_unknown_revoked_and_inactive_owners_tokens_are_401(csrf_client, user, secret):
    trial = Trial.objects.create(owner=user, prompt="mine")
    url = f"/api/trials/{trial.id}"
    for wrong in (secret + "x", "", "slm_nothing"):
        response = csrf_client.get(url, HTTP_AUTHORIZATION=bearer(wrong))
        assert response.status_code == 401 and response.json() == {"errors": {"auth": ["The API token is unknown or revoked."]}}
        assert response["WWW-Authenticate"].startswith("Bearer ")
    # Even where no account is needed: a wrong token is a mistake to report, not an anonymous call.
    assert csrf_client.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="application/json",
                            HTTP_AUTHORIZATION=bearer("slm_nothing")).status_code == 401
    user.is_active = False
    user.save()
    assert csrf_client.get(url, HTTP_AUTHORIZATION=bearer(secret)).status_code == 401


def test_delete_revokes_and_the_token_stops_working(csrf_client, user, secret):
    trial = Trial.objects.create(owner=user, prompt="mine")
    token_id = ApiToken.objects.get().id
    assert csrf_client.get(f"/api/trials/{trial.id}", HTTP_AUTHORIZATION=bearer(secret)).status_code == 200
    response = csrf_client.delete(f"/api/tokens/{token_id}", HTTP_AUTHORIZATION=basic("ana", "pw-for-tests"))
    assert response.status_code == 200 and response.json()["revoked"] is True
    assert csrf_client.get(f"/api/trials/{trial.id}", HTTP_AUTHORIZATION=bearer(secret)).status_code == 401
    listed = csrf_client.get("/api/tokens", HTTP_AUTHORIZATION=basic("ana", "pw-for-tests")).json()["tokens"]
    assert [(token["id"], token["revoked"]) for token in listed] == [(str(token_id), True)]
    assert csrf_client.delete("/api/tokens/not-a-uuid", HTTP_AUTHORIZATION=basic("ana", "pw-for-tests")).status_code == 404


def test_a_token_can_list_and_revoke_but_not_make_tokens(csrf_client, user, secret):
    assert csrf_client.get("/api/tokens", HTTP_AUTHORIZATION=bearer(secret)).status_code == 200
    response = make_token(csrf_client, "successor", bearer(secret))
    assert response.status_code == 403 and "auth" in response.json()["errors"]
    assert ApiToken.objects.count() == 1


def test_session_calls_need_their_csrf_token_and_anonymous_calls_are_401(csrf_client, user):
    assert csrf_client.get("/api/tokens").status_code == 401
    csrf_client.force_login(user)
    assert csrf_client.get("/api/tokens").status_code == 200
    assert make_token(csrf_client, auth="").status_code == 403


def test_the_gateways_paths_get_openais_error_shape(csrf_client, user):
    response = csrf_client.get("/v1/models", HTTP_AUTHORIZATION=bearer("slm_nothing"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_async_requests_authenticate_too(user, secret):
    """Under the ASGI handler (the gateway and event streams run there) the middleware's async path checks the token."""
    trial = Trial.objects.create(owner=user, prompt="mine")
    client = AsyncClient()
    assert async_to_sync(client.get)(f"/api/trials/{trial.id}", headers={"Authorization": bearer(secret)}).status_code == 200
    assert async_to_sync(client.get)(f"/api/trials/{trial.id}", headers={"Authorization": bearer("slm_no")}).status_code == 401


def test_the_tokens_page_shows_a_new_secret_once_and_revokes(client, user):
    client.force_login(user)
    assert 'href="/tokens/"' in client.get("/").content.decode()
    response = client.post("/tokens/", {"name": "laptop"})
    page = response.content.decode()
    token = ApiToken.objects.get()
    secret = page.split('data-testid="token-secret">')[1].split("<")[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.key_hash
    assert "no-store" in response["Cache-Control"]
    again = client.get("/tokens/").content.decode()
    assert "laptop" in again and token.prefix in again and secret not in again
    assert client.post("/tokens/", {"name": ""}).content.decode().count('data-field="name"') == 1
    client.post(f"/tokens/{token.id}/revoke/")
    token.refresh_from_db()
    assert token.revoked
    assert Client().get("/api/tokens", HTTP_AUTHORIZATION=bearer(secret)).status_code == 401


def test_the_tokens_page_escapes_names_and_needs_sign_in(client, user):
    assert client.get("/tokens/").status_code == 302
    client.force_login(user)
    page = client.post("/tokens/", {"name": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
