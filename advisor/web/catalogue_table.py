"""Rows of the public catalogue page: filters and sorting from the query string."""

from dataclasses import dataclass

from advisor.catalogue.models import LanguageModel, SLM_MAX_PARAMS_B
from advisor.recommend import memory

QUANTIZATIONS = ("fp16", "q8_0", "q4_k_m")
SORTS = {
    "name": lambda row: row.model.name.lower(),
    "params": lambda row: (row.model.params_b is None, row.model.params_b or 0),
    "context": lambda row: -(row.model.context_tokens or 0),
    "input_price": lambda row: row.model.input_usd_per_mtok,
    "output_price": lambda row: row.model.output_usd_per_mtok,
    "quality": lambda row: -row.model.quality,
    "provider": lambda row: row.model.provider.name.lower(),
}


@dataclass(frozen=True)
class CatalogueRow:
    model: LanguageModel
    memory_gb: dict[str, float | None]
    runnable_here: bool


def catalogue_rows(query) -> tuple[list[CatalogueRow], dict]:
    filters = {
        "kind": query.get("kind", ""),
        "provider": query.get("provider", ""),
        "runnable": query.get("runnable", ""),
        "open": query.get("open", ""),
        "q": query.get("q", "").strip(),
        "sort": query.get("sort", "params") if query.get("sort", "params") in SORTS else "params",
    }
    models = LanguageModel.objects.active().select_related("provider")
    if filters["kind"] == "slm":
        models = models.slms()
    elif filters["kind"] == "llm":
        models = models.llms()
    if filters["provider"]:
        models = models.filter(provider__slug=filters["provider"])
    if filters["open"] == "1":
        models = models.filter(open_weights=True)
    if filters["q"]:
        models = models.filter(name__icontains=filters["q"]) | models.filter(slug__icontains=filters["q"])
    rows = [
        CatalogueRow(
            model=model,
            memory_gb={q: round(memory.weights_gb(model.params_b, q), 1) if model.params_b else None for q in QUANTIZATIONS},
            runnable_here=model.runnable_here,
        )
        for model in models
    ]
    if filters["runnable"] == "1":
        rows = [row for row in rows if row.runnable_here]
    rows.sort(key=SORTS[filters["sort"]])
    return rows, filters | {"slm_max_params_b": SLM_MAX_PARAMS_B}
