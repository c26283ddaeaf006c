"""A small, realistic catalogue of model specs for the engine's tests (figures from model cards)."""

from advisor.recommend import ModelSpec


def local(slug, params_b, quality, layers, kv_heads, head_dim, **extra):
    return ModelSpec(slug=slug, name=slug, params_b=params_b, open_weights=True, hosted=False, context_tokens=32768,
                     quality=quality, layers=layers, kv_heads=kv_heads, head_dim=head_dim, **extra)


def hosted(slug, input_price, output_price, quality, params_b=None, open_weights=False):
    return ModelSpec(slug=slug, name=slug, params_b=params_b, open_weights=open_weights, hosted=True, context_tokens=128000,
                     input_usd_per_mtok=input_price, output_usd_per_mtok=output_price, quality=quality)


CATALOGUE = (
    local("smollm2-135m", 0.135, 0.32, 30, 3, 64, runnable_here=True),
    local("qwen2.5-0.5b", 0.49, 0.47, 24, 2, 64),
    local("llama-3.2-3b", 3.21, 0.63, 28, 8, 128),
    local("gemma-3-4b", 4.3, 0.60, 34, 4, 256),
    local("qwen2.5-7b", 7.61, 0.74, 28, 4, 128),
    local("llama-3.1-8b", 8.03, 0.69, 32, 8, 128),
    local("phi-4", 14.7, 0.85, 40, 10, 128),
    local("llama-3.3-70b-local", 70.6, 0.86, 80, 8, 128),
    hosted("gpt-4o", 2.5, 10.0, 0.887),
    hosted("gpt-4o-mini", 0.15, 0.6, 0.82),
    hosted("claude-sonnet-4", 3.0, 15.0, 0.865),
    hosted("llama-3.3-70b-hosted", 0.88, 0.88, 0.86, params_b=70.6, open_weights=True),
)


def seed_specs():
    """The shipped seed catalogue as engine specs, read from its JSON file (no database): the models the
    reviewer's cases were run against."""
    import json
    from pathlib import Path

    seed = json.loads((Path(__file__).resolve().parent.parent / "advisor/catalogue/seed/catalogue.json").read_text())
    hosted_by_provider = {p["slug"]: p.get("hosted", p["kind"] == "openai") for p in seed["providers"]}
    regions = {p["slug"]: tuple(r for r in (p.get("region") or "").split(",") if r) for p in seed["providers"]}
    known = {f.name for f in __import__("dataclasses").fields(ModelSpec)}
    specs = []
    for m in seed["models"]:
        if not m.get("active", True):
            continue
        values = {key: m[key] for key in known if key in m and (m[key] is not None or key == "params_b")}
        values["hosted"] = hosted_by_provider[m["provider"]]
        values["regions"] = regions[m["provider"]]
        values["runnable_here"] = m["weights"] == "bundled:smollm2-135m-instruct" if m.get("weights") else False
        specs.append(ModelSpec(**values))
    return tuple(specs)
