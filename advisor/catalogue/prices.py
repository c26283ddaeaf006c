"""Hosted models' prices from the `genai-prices` package, kept current by its maintainers."""

import importlib.metadata
from dataclasses import dataclass

from genai_prices import Usage, calc_price

from .models import LanguageModel

# Priced at a small request and scaled, so tiered models get their base (short-context) price.
SAMPLE_TOKENS = 1000


@dataclass(frozen=True)
class PriceChange:
    slug: str
    old: tuple[float, float]
    new: tuple[float, float]


def genai_prices_version() -> str:
    return importlib.metadata.version("genai-prices")


def price_per_mtok(remote_name: str, provider_slug: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens, or None when genai-prices does not know the model."""
    try:
        result = calc_price(Usage(input_tokens=SAMPLE_TOKENS, output_tokens=SAMPLE_TOKENS), remote_name, provider_id=provider_slug)
    except LookupError:
        return None
    scale = 1_000_000 / SAMPLE_TOKENS
    return round(float(result.input_price) * scale, 6), round(float(result.output_price) * scale, 6)


def prices_sync(*, dry_run: bool = False) -> tuple[list[PriceChange], list[str]]:
    """Update every hosted model's prices; returns the changes and the models genai-prices does not know."""
    changes, unknown = [], []
    source = f"genai-prices {genai_prices_version()}"
    for model in LanguageModel.objects.select_related("provider").filter(provider__hosted=True):
        found = price_per_mtok(model.remote_name or model.slug, model.provider.slug)
        if found is None:
            unknown.append(model.slug)
            continue
        old = (model.input_usd_per_mtok, model.output_usd_per_mtok)
        if old != found:
            changes.append(PriceChange(model.slug, old, found))
            if not dry_run:
                model.input_usd_per_mtok, model.output_usd_per_mtok = found
        if not dry_run and (old != found or model.price_source != source):
            model.price_source = source
            model.save(update_fields=["input_usd_per_mtok", "output_usd_per_mtok", "price_source", "updated_at"])
    return changes, unknown
