"""Import and export of the catalogue in the CONTRACT's JSON format.

An import is all or nothing: every entry is validated first, then everything is written in
one transaction. Errors name the entry and the field, so a file can be fixed without guessing.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Device, LanguageModel, Provider

PROVIDER_FIELDS = ("slug", "name", "kind", "base_url", "api_key_env", "hosted", "region")
MODEL_FIELDS = (
    "slug", "name", "provider", "remote_name", "weights", "runtime", "precision", "params_b", "context_tokens", "open_weights",
    "licence", "input_usd_per_mtok", "output_usd_per_mtok", "quality", "quality_source", "task_scores",
    "good_for", "layers", "kv_heads", "head_dim", "hidden_size", "release_date", "source_url",
    "price_source", "active", "task_score_sources", "reasoning_tokens", "reasoning_tokens_source", "batch_discount",
    "batch_discount_source", "active_params_b", "thinking_optional", "can_judge",
)
DEVICE_FIELDS = ("slug", "name", "kind", "memory_gb", "bandwidth_gbs", "fp16_tflops", "int8_tops", "power_w", "price_usd",
                 "rent_usd_per_hour", "source", "active")
# Fields a file may leave out (everything else has a model default, or is required).
NULLABLE_TEXT = {"region", "source", "base_url", "api_key_env", "remote_name", "weights", "runtime", "precision", "licence", "quality_source", "source_url", "price_source",
                 "reasoning_tokens_source", "batch_discount_source"}


class CatalogueError(Exception):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # existing entries left alone (seed without --force)


def _entry_label(kind: str, index: int, entry) -> str:
    slug = entry.get("slug") if isinstance(entry, dict) else None
    return f"{kind}[{index}]" + (f" ({slug!r})" if slug else "")


def _clean_values(entry: dict, allowed: tuple[str, ...], label: str, errors: list[str]) -> dict:
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        errors.append(f"{label}: unknown field(s) {', '.join(unknown)}")
    values = {}
    for name in allowed:
        if name not in entry:
            continue
        value = entry[name]
        if value is None and name in NULLABLE_TEXT:
            value = ""
        values[name] = value
    return values


def _validate(instance, label: str, errors: list[str], exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as exc:
        for field_name, messages in exc.message_dict.items():
            where = "" if field_name == "__all__" else f" field {field_name!r}"
            errors.extend(f"{label}:{where} {message}" for message in messages)


def _build_providers(entries, errors) -> dict[str, Provider]:
    providers = {}
    for index, entry in enumerate(entries):
        label = _entry_label("providers", index, entry)
        if not isinstance(entry, dict):
            errors.append(f"{label}: must be an object")
            continue
        values = _clean_values(entry, PROVIDER_FIELDS, label, errors)
        if "hosted" not in values:
            values["hosted"] = values.get("kind") == Provider.Kind.OPENAI
        provider = Provider.objects.filter(slug=values.get("slug")).first() or Provider()
        for name, value in values.items():
            setattr(provider, name, value)
        _validate(provider, label, errors)
        if provider.slug in providers:
            errors.append(f"{label}: field 'slug' repeats {provider.slug!r}")
        providers[provider.slug] = provider
    return providers


def _build_models(entries, providers: dict[str, Provider], errors) -> list[LanguageModel]:
    built, seen = [], set()
    for index, entry in enumerate(entries):
        label = _entry_label("models", index, entry)
        if not isinstance(entry, dict):
            errors.append(f"{label}: must be an object")
            continue
        values = _clean_values(entry, MODEL_FIELDS, label, errors)
        provider_slug = values.pop("provider", None)
        provider = None
        if isinstance(provider_slug, str):
            provider = providers.get(provider_slug) or Provider.objects.filter(slug=provider_slug).first()
        if provider is None:
            errors.append(f"{label}: field 'provider' names no provider {provider_slug!r}")
        if isinstance(values.get("release_date"), str):
            try:
                values["release_date"] = datetime.date.fromisoformat(values["release_date"])
            except ValueError:
                errors.append(f"{label}: field 'release_date' must be a date like 2025-01-31")
                values.pop("release_date")
        model = LanguageModel.objects.filter(slug=values.get("slug")).first() or LanguageModel()
        for name, value in values.items():
            setattr(model, name, value)
        if provider is not None:
            model.provider = provider
        _validate(model, label, errors, exclude=() if provider is not None and provider.pk else ("provider",))
        if model.slug in seen:
            errors.append(f"{label}: field 'slug' repeats {model.slug!r}")
        seen.add(model.slug)
        built.append((model, provider))
    return built


def _build_devices(entries, errors) -> list[Device]:
    built, seen = [], set()
    for index, entry in enumerate(entries):
        label = _entry_label("devices", index, entry)
        if not isinstance(entry, dict):
            errors.append(f"{label}: must be an object")
            continue
        device = Device.objects.filter(slug=entry.get("slug")).first() or Device()
        for name, value in _clean_values(entry, DEVICE_FIELDS, label, errors).items():
            setattr(device, name, value)
        _validate(device, label, errors)
        if device.slug in seen:
            errors.append(f"{label}: field 'slug' repeats {device.slug!r}")
        seen.add(device.slug)
        built.append(device)
    return built


def _snapshot(instance, fields) -> dict:
    return {name: getattr(instance, name + "_id" if name == "provider" else name) for name in fields}


def catalogue_import(data, *, overwrite: bool = True) -> ImportReport:
    """Upsert providers and models from a parsed catalogue file; raise CatalogueError with every problem."""
    if not isinstance(data, dict):
        raise CatalogueError(["The file must hold an object with 'providers', 'models' and 'devices' lists."])
    errors: list[str] = []
    provider_entries = data.get("providers", [])
    model_entries = data.get("models", [])
    device_entries = data.get("devices", [])
    for key, entries in (("providers", provider_entries), ("models", model_entries), ("devices", device_entries)):
        if not isinstance(entries, list):
            errors.append(f"{key}: must be a list")
    unknown = sorted(set(data) - {"providers", "models", "devices"})
    if unknown:
        errors.append(f"unknown top-level key(s): {', '.join(unknown)}")
    if errors:
        raise CatalogueError(errors)

    providers = _build_providers(provider_entries, errors)
    models = _build_models(model_entries, providers, errors)
    devices = _build_devices(device_entries, errors)
    if errors:
        raise CatalogueError(errors)

    report = ImportReport()
    with transaction.atomic():
        for provider in providers.values():
            _save(provider, PROVIDER_FIELDS, overwrite, report, f"provider {provider.slug}")
        for model, provider in models:
            model.provider = Provider.objects.get(slug=provider.slug)
            _save(model, MODEL_FIELDS, overwrite, report, f"model {model.slug}")
        for device in devices:
            _save(device, DEVICE_FIELDS, overwrite, report, f"device {device.slug}")
    return report


def _save(instance, fields, overwrite: bool, report: ImportReport, label: str) -> None:
    if instance.pk is None:
        instance.save()
        report.created.append(label)
        return
    stored = type(instance).objects.get(pk=instance.pk)
    if _snapshot(stored, fields) == _snapshot(instance, fields):
        report.unchanged.append(label)
    elif overwrite:
        instance.save()
        report.updated.append(label)
    else:
        report.kept.append(label)


def catalogue_export() -> dict:
    providers = [
        {name: (getattr(p, name) or None) if name in NULLABLE_TEXT else getattr(p, name) for name in PROVIDER_FIELDS}
        for p in Provider.objects.order_by("slug")
    ]
    models = []
    for model in LanguageModel.objects.select_related("provider").order_by("slug"):
        entry = {}
        for name in MODEL_FIELDS:
            value = getattr(model, name)
            if name == "provider":
                value = model.provider.slug
            elif name == "release_date" and value is not None:
                value = value.isoformat()
            elif name in NULLABLE_TEXT:
                value = value or None
            entry[name] = value
        models.append(entry)
    devices = [
        {name: (getattr(d, name) or None) if name in NULLABLE_TEXT else getattr(d, name) for name in DEVICE_FIELDS}
        for d in Device.objects.order_by("slug")
    ]
    return {"providers": providers, "models": models, "devices": devices}
