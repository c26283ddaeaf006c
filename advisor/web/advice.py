"""The glue between the catalogue and the decision engine: specs in, a saved recommendation out."""

from urllib.parse import urlencode

from advisor.catalogue.models import LanguageModel
from advisor.recommend import CostAssumptions, ModelSpec, Needs, recommend

from .models import Recommendation


def model_specs() -> list[ModelSpec]:
    return [
        ModelSpec(
            slug=m.slug, name=m.name, params_b=m.params_b, open_weights=m.open_weights, hosted=m.provider.hosted,
            context_tokens=m.context_tokens, input_usd_per_mtok=m.input_usd_per_mtok, output_usd_per_mtok=m.output_usd_per_mtok,
            quality=m.quality, task_scores=dict(m.task_scores or {}), layers=m.layers, kv_heads=m.kv_heads,
            head_dim=m.head_dim, runnable_here=m.runnable_here, quality_source=m.quality_source,
            task_score_sources=dict(m.task_score_sources or {}), reasoning_tokens=m.reasoning_tokens,
            reasoning_tokens_source=m.reasoning_tokens_source, batch_discount=m.batch_discount,
            batch_discount_source=m.batch_discount_source,
        )
        for m in LanguageModel.objects.active().select_related("provider")
    ]


def recommendation_preview(needs: Needs, assumptions: CostAssumptions = CostAssumptions()):
    return recommend(needs, model_specs(), assumptions)


def recommendation_create(*, needs: Needs, assumptions: CostAssumptions, answers: dict, user=None) -> Recommendation:
    result = recommendation_preview(needs, assumptions).to_dict()
    saved = Recommendation.objects.create(
        answers=answers, result=result, verdict=result["verdict"],
        created_by=user if user is not None and user.is_authenticated else None,
    )
    return saved


def try_models(result: dict) -> list[str]:
    """The top SLM and LLM to try, preferring ones that can run on this installation."""
    runnable = {m.slug for m in LanguageModel.objects.active().select_related("provider") if m.runnable_here}
    chosen = []
    for option in ("slm", "llm"):
        candidates = [c["slug"] for c in result["candidates"].get(option, [])]
        if candidates:
            chosen.append(next((slug for slug in candidates if slug in runnable), candidates[0]))
    return chosen


def answers_query(answers: dict) -> str:
    """The saved answers as the advisor form's query string, to change and ask again."""
    flat = {key: value for key, value in answers.items() if key not in ("hardware", "assumptions") and value not in (None, False)}
    flat |= {f"hardware_{key}": value for key, value in answers.get("hardware", {}).items()}
    flat |= answers.get("assumptions", {})
    return urlencode(flat)


def recommendation_markdown(saved: Recommendation) -> str:
    result, answers = saved.result, saved.answers
    lines = [
        f"# Recommendation: {result['verdict'].upper()}",
        "",
        "## Your answers",
        "",
        *(f"- **{key}**: {value}" for key, value in answers.items()),
        "",
        "## Scores",
        "",
        *(f"- {option}: {score}" for option, score in result["scores"].items()),
        "",
        "## Why",
        "",
        *(f"- ({reason['favours']}, {reason['factor']}, weight {reason.get('weight', 0):g}) {reason['text']}" for reason in result["reasons"]),
        *([f"", result["trade_off"]] if result.get("trade_off") else []),
        *(f"- Caveat: {caveat}" for caveat in result.get("caveats", [])),
        "",
        "## Monthly cost (USD)",
        "",
        *(f"- {option}: {'n/a' if cost is None else f'{cost:,.2f}'}" for option, cost in result["monthly_cost_usd"].items()),
    ]
    for option in ("slm", "llm"):
        lines += ["", f"## {option.upper()} candidates", "", "| model | fits | memory GB | quantization | est. tokens/s | $/month | notes |", "|---|---|---|---|---|---|---|"]
        for c in result["candidates"].get(option, []):
            lines.append(
                f"| {c['name']} | {'yes' if c.get('fits') else 'no'} | {c.get('memory_gb') or ''} | {c.get('quantization') or ''} "
                f"| {c.get('est_tokens_per_s') or ''} | {c.get('monthly_cost_usd')} | {'; '.join(c.get('notes', []))} |"
            )
    return "\n".join(lines) + "\n"
