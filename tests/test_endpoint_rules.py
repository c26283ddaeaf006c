"""What a provider's key variable and base URL may be, and what the OpenAI-compatible runner keeps from
a hostile upstream (tests/hostile_upstream.py): the secret key, any key in the output, redirects."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from advisor.catalogue.checks import provider_check
from advisor.catalogue.models import Provider
from advisor.catalogue.transfer import CatalogueError, catalogue_import
from advisor.settings_env import settings_env_names
from advisor.trials.runners import GenerationRequest, RunError, RunTarget, Token, stream
from advisor.trials.runners.openai_compatible import SecretScrubber

from .hostile_upstream import HostileUpstream

KEY = "sk-live-7Qx2Vb9Lm4Np8Rt6Zk3W"
# Variables whose value must never go to a server as a key: Django's secret key, the database and
# broker addresses (with their passwords), the project's own variables, a Django setting's name.
RESERVED = ["DJANGO_SECRET_KEY", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "ADVISOR_DATA_DIR", "ADVISOR_SIGNING_KEY",
            "PGPASSWORD", "EMAIL_HOST_PASSWORD", "TRIAL_MAX_TOKENS", "PROVIDER_API_KEY_ENV_ALLOWED"]
QUESTION = GenerationRequest(prompt="Say hello.", max_tokens=16)


def provider(api_key_env: str, base_url: str = "https://api.example.com/v1") -> Provider:
    return Provider(slug="p", name="P", kind=Provider.Kind.OPENAI, base_url=base_url, api_key_env=api_key_env, hosted=True)


def output_of(target: RunTarget) -> str:
    return "".join(event.text for event in stream(target, QUESTION) if isinstance(event, Token))


@pytest.mark.parametrize("name", RESERVED)
def test_the_secret_key_and_settings_cannot_be_an_api_key_variable_even_when_allowed(name, settings, db):
    settings.PROVIDER_API_KEY_ENV_ALLOWED = [name]
    with pytest.raises(ValidationError) as raised:
        provider(name).full_clean()
    assert "own variables or settings" in str(raised.value.message_dict["api_key_env"])
    with pytest.raises(CatalogueError) as raised:
        catalogue_import({"providers": [{"slug": "p", "name": "P", "kind": "openai", "base_url": "https://api.example.com/v1",
                                         "api_key_env": name, "hosted": True}], "models": []})
    assert any("own variables or settings" in error for error in raised.value.errors)
    assert not Provider.objects.filter(slug="p").exists()


def test_every_variable_the_settings_read_is_refused_as_an_api_key_variable(db):
    for name in settings_env_names():
        with pytest.raises(ValidationError):
            provider(name).full_clean()
    provider("OPENAI_API_KEY").full_clean()  # a provider's own key is still fine


def test_a_provider_saved_around_the_rule_never_sends_the_secret_key(monkeypatch, settings, db):
    """Use time: a row written before the rule, or around the admin, is refused before any call."""
    settings.OPENAI_MAX_RETRIES = 0
    monkeypatch.setenv("DJANGO_SECRET_KEY", KEY)
    with HostileUpstream("echo_headers") as upstream:
        with pytest.raises(RunError, match="own variables or settings"):
            output_of(RunTarget(runtime="openai", base_url=upstream.base_url, remote_name="m", api_key_env="DJANGO_SECRET_KEY"))
        row = Provider.objects.create(slug="legacy", name="Legacy", kind="openai", base_url=upstream.base_url, api_key_env="DJANGO_SECRET_KEY")
        ok, message = provider_check(row)
        assert not ok and "own variables or settings" in message
    assert upstream.requests == 0


def test_hostile_upstream_echoing_headers_never_puts_the_key_in_the_output(monkeypatch, settings):
    settings.OPENAI_MAX_RETRIES = 0
    monkeypatch.setenv("ECHO_API_KEY", KEY)
    with HostileUpstream("echo_headers") as upstream:
        output = output_of(RunTarget(runtime="openai", base_url=upstream.base_url, remote_name="m", api_key_env="ECHO_API_KEY"))
    assert upstream.requests == 1
    assert "Bearer [key]" in output, output[:300]  # the header did come back, 3 characters a chunk
    assert KEY not in output and KEY[8:20] not in output


@given(text=st.text(max_size=60), cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_secret_scrubber_replaces_the_key_however_the_stream_splits_it(text, cuts):
    whole = f"{text}{KEY}{text}{KEY}"
    bounds = sorted({0, len(whole), *(cut % (len(whole) + 1) for cut in cuts)})
    scrubber = SecretScrubber(KEY)
    released = "".join(scrubber.feed(whole[start:end]) for start, end in zip(bounds, bounds[1:])) + scrubber.flush()
    assert released == whole.replace(KEY, "[key]")


def test_secret_scrubber_lets_ordinary_text_through_at_once():
    scrubber = SecretScrubber(KEY)
    assert scrubber.feed("Hello") == "Hello" and scrubber.feed(", world s") == ", world " and scrubber.feed("ky") == "sky"


@pytest.mark.parametrize("location", ["http://metadata.google.internal/computeMetadata/v1/", "http://169.254.169.254/latest/meta-data/"])
def test_hostile_upstream_redirect_to_a_metadata_address_is_not_followed(location, settings):
    settings.OPENAI_MAX_RETRIES = 0
    settings.OPENAI_TIMEOUT_S = 5
    with HostileUpstream("redirect", location=location) as upstream:
        with pytest.raises(RunError) as raised:
            output_of(RunTarget(runtime="openai", base_url=upstream.base_url, remote_name="m"))
        ok, message = provider_check(provider("", upstream.base_url))
    assert "redirect" in str(raised.value) and "link-local or cloud metadata" in str(raised.value), str(raised.value)
    assert not ok and "redirect" in message


def test_hostile_upstream_redirect_to_an_allowed_server_is_still_followed(settings):
    settings.OPENAI_MAX_RETRIES = 0
    with HostileUpstream("echo_headers") as echo, HostileUpstream("redirect", location=f"{echo.base_url}/chat/completions") as upstream:
        output = output_of(RunTarget(runtime="openai", base_url=upstream.base_url, remote_name="m"))
    assert upstream.requests == 1 and echo.requests == 1 and "user-agent" in output
