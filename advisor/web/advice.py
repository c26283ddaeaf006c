"""The glue between the catalogue and the decision engine: specs in, a saved recommendation out."""

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from advisor.catalogue.models import Device, LanguageModel, Provider
from advisor.recommend import CostAssumptions, DeviceSpec, ModelSpec, Needs, recommend

from .forms import AdvisorAnswers
from .models import Recommendation
from .spec_cache import cached_specs


def model_specs() -> list[ModelSpec]:
    return [
        ModelSpec(
            slug=m.slug, name=m.name, params_b=m.params_b, open_weights=m.open_weights, hosted=m.provider.hosted,
            context_tokens=m.context_tokens, input_usd_per_mtok=m.input_usd_per_mtok, output_usd_per_mtok=m.output_usd_per_mtok,
            quality=m.quality, task_scores=dict(m.task_scores or {}), layers=m.layers, kv_heads=m.kv_heads,
            head_dim=m.head_dim, runnable_here=m.runnable_here, quality_source=m.quality_source,
            task_score_sources=dict(m.task_score_sources or {}), reasoning_tokens=m.reasoning_tokens,
            reasoning_tokens_source=m.reasoning_tokens_source, batch_discount=m.batch_discount,
            batch_discount_source=m.batch_discount_source, active_params_b=m.active_params_b, thinking_optional=m.thinking_optional,
            regions=tuple(region for region in m.provider.region.split(",") if region),
        )
        for m in LanguageModel.objects.active().select_related("provider")
    ]


def device_specs() -> list[DeviceSpec]:
    return [
        DeviceSpec(slug=d.slug, name=d.name, kind=d.kind, memory_gb=d.memory_gb, bandwidth_gbs=d.bandwidth_gbs, fp16_tflops=d.fp16_tflops,
                   int8_tops=d.int8_tops, power_w=d.power_w, price_usd=d.price_usd, rent_usd_per_hour=d.rent_usd_per_hour, source=d.source)
        for d in Device.objects.filter(active=True)
    ]


def catalogue_devices() -> tuple[DeviceSpec, ...]:
    """The catalogue's active devices; the shipped ones while it has none (a database not seeded yet)."""
    from advisor.recommend.devices import shipped_devices

    return cached_specs(device_specs) or shipped_devices()


def _on_this_machine(answers: AdvisorAnswers, user) -> tuple[Needs, str | None]:
    """The answers' needs with this server's measured speed, and the label saying what it rests on,
    when they ask for it ("Use this server's hardware") and are still the server's hardware; as they
    are (and None) otherwise, and always for anonymous visitors, who may not probe the server."""
    from advisor.hardware import this_machine_speed
    from advisor.trials.pricing import this_machine

    needs = answers.needs()
    if not answers.cleaned_data.get("hardware_this_machine") or user is None or not user.is_authenticated:
        return needs, None
    if needs.hardware != this_machine():
        return needs, None
    measured_speed, basis = this_machine_speed()
    return replace(needs, hardware=replace(needs.hardware, measured_speed=measured_speed)), basis


def recommendation_preview(needs: Needs, assumptions: CostAssumptions = CostAssumptions()):
    return recommend(needs, cached_specs(model_specs), assumptions, devices=catalogue_devices())


def recommendation_result(answers: AdvisorAnswers, *, user=None) -> dict:
    """The engine's answer to the advisor's answers as JSON. Its hybrid share is the user's calibrated
    one when they have a policy for the pair it picks (result["hybrid"]["calibrated"] says which),
    else the engine's guess; local speeds are this server's measured ones when the answers are its
    hardware (result["speed_basis"] says what they rest on), else the hardware class's."""
    from advisor.hybrid.recommendation import recommend_for

    needs, speed_basis = _on_this_machine(answers, user)
    answer, calibrated = recommend_for(needs, cached_specs(model_specs), answers.assumptions(), user=user, devices=catalogue_devices(),
                                       price_usd=answers.cleaned_data.get("machine_usd"), power_w=answers.cleaned_data.get("machine_watts"),
                                       rent_usd_per_hour=answers.cleaned_data.get("gpu_hour_usd"))
    result = answer.to_dict()
    result["hybrid"]["calibrated"] = calibrated
    result["speed_basis"] = speed_basis
    return result


def recommendation_create(*, answers: AdvisorAnswers, user=None) -> Recommendation:
    result = recommendation_result(answers, user=user)
    saved = Recommendation.objects.create(
        answers=answers.answers(), result=result, verdict=result["verdict"],
        created_by=user if user is not None and user.is_authenticated else None,
    )
    return saved


@dataclass(frozen=True)
class TryPick:
    """What "try these models" pre-ticks for one option (slm or llm), and why."""

    option: str
    recommended: str  # the top candidate's name
    recommended_reason: str  # why the top candidate cannot run here ("" when it can)
    slug: str | None = None  # the model pre-ticked; None when nothing of this kind runs here
    name: str = ""
    stand_in: bool = False  # pre-ticked in place of the top candidate
    stand_in_note: str = ""
    recommended_slug: str = ""


@dataclass(frozen=True)
class TryPlan:
    picks: list[TryPick]
    recommendation_id: str | None = None

    @property
    def slugs(self) -> list[str]:
        return [pick.slug for pick in self.picks if pick.slug]

    @property
    def query(self) -> str:
        pairs = [("models", slug) for slug in self.slugs]
        if self.recommendation_id:
            pairs.append(("rec", self.recommendation_id))
        return urlencode(pairs)

    @property
    def compare_query(self) -> str:
        """The comparison of the picked models, costed at the recommendation's volume."""
        pairs = [("model", slug) for slug in self.slugs[:2]]
        if self.recommendation_id:
            pairs.append(("rec", self.recommendation_id))
        return urlencode(pairs)

    def stand_ins(self) -> dict[str, TryPick]:
        return {pick.slug: pick for pick in self.picks if pick.stand_in and pick.slug}


def try_models(result: dict, recommendation: Recommendation | None = None) -> TryPlan:
    """The top SLM and LLM to try. One that cannot run here is named with the reason, and a
    runnable model of the same kind is pre-ticked in its place, marked as a stand-in."""
    from advisor.trials.availability import model_availability

    catalogue = {m.slug: m for m in LanguageModel.objects.active().select_related("provider").order_by("params_b", "name")}
    runnable = {slug for slug, m in catalogue.items() if model_availability(m).runnable}
    picks: list[TryPick] = []
    taken: set[str] = set()
    for option in ("slm", "llm"):
        candidates = [c for c in result.get("candidates", {}).get(option, []) if c["slug"] in catalogue]
        if not candidates:
            continue
        top = catalogue[candidates[0]["slug"]]
        reason = "" if top.slug in runnable else model_availability(top).sentence
        chosen, note = None, ""
        for c in candidates:
            if c["slug"] in runnable and c["slug"] not in taken:
                chosen = catalogue[c["slug"]]
                note = "" if chosen == top else f"the best-ranked {option.upper()} candidate that runs here"
                break
        if chosen is None:
            chosen, note = _stand_in(option, catalogue, runnable, taken)
        if chosen is None:
            picks.append(TryPick(option, top.name, reason, recommended_slug=top.slug))
            continue
        taken.add(chosen.slug)
        picks.append(TryPick(option, top.name, reason, chosen.slug, chosen.name, chosen != top, note, recommended_slug=top.slug))
    return TryPlan(picks, str(recommendation.pk) if recommendation else None)


@dataclass(frozen=True)
class StandIn:
    """A recommended model that results cannot speak for: run through a stand-in, or not at all."""

    option: str  # slm | llm
    candidate: str  # the recommended model's slug
    candidate_name: str
    stand_in: str | None  # the slug run in its place; None: untested
    stand_in_name: str
    reason: str  # why the candidate does not run here

    @property
    def sentence(self) -> str:
        if self.stand_in:
            return f"{self.stand_in_name}, standing in for {self.candidate_name}: shows the path, not {self.candidate_name}'s quality."
        return f"{self.candidate_name} is untested here{': ' + self.reason.rstrip('.') if self.reason else ''}."

    def as_json(self) -> dict:
        return {"option": self.option, "candidate": self.candidate, "candidate_name": self.candidate_name,
                "stand_in": self.stand_in, "stand_in_name": self.stand_in_name or None, "sentence": self.sentence}


def stand_ins_of(recommendation: Recommendation | None, *, ran: list[str] | None = None) -> list[StandIn]:
    """The recommendation's top candidates that results do not measure: those replaced by a stand-in
    (limited to the models in `ran`, when given) and those with nothing to stand in for them."""
    if recommendation is None:
        return []
    found = []
    for pick in try_models(recommendation.result, recommendation).picks:
        if pick.slug and not pick.stand_in:
            continue  # the recommended model itself runs here
        if pick.slug and ran is not None and pick.slug not in ran:
            found.append(StandIn(pick.option, pick.recommended_slug, pick.recommended, None, "", pick.recommended_reason))
            continue
        found.append(StandIn(pick.option, pick.recommended_slug, pick.recommended, pick.slug, pick.name, pick.recommended_reason))
    return found


def _stand_in(option, catalogue, runnable, taken):
    """A runnable model of the same kind when no candidate runs here; the note says how it differs."""
    usable = [m for slug, m in catalogue.items() if slug in runnable and slug not in taken]
    if option == "slm":
        # Prefer one that runs in the worker, like an SLM on your own hardware.
        usable.sort(key=lambda m: (not m.is_slm, m.provider.kind != Provider.Kind.TRANSFORMERS))
        if usable and usable[0].is_slm:
            return usable[0], "not a candidate for your answers: a small model that runs here, to try the prompt and the flow"
        return None, ""
    if llms := [m for m in usable if not m.is_slm]:
        return llms[0], "not a candidate for your answers: the large model that runs here"
    if served := [m for m in usable if m.provider.kind == Provider.Kind.OPENAI]:
        return served[0], ("a small model behind an OpenAI-compatible API: it takes the hosted model's path "
                           "(HTTP, streaming, token counts), not its quality")
    return None, ""


def answers_form_data(answers: dict) -> dict:
    """The saved answers (the API's shape) as the advisor form's flat fields."""
    # `is`, not `in (None, False)`: 0 == False, and a budget or a volume of 0 is an answer.
    flat = {key: value for key, value in answers.items() if key not in ("hardware", "assumptions") and value is not None and value is not False}
    flat |= {f"hardware_{key}": value for key, value in answers.get("hardware", {}).items()}
    flat |= answers.get("assumptions", {})
    return flat


def answers_query(answers: dict) -> str:
    """The saved answers as the advisor form's query string, to change and ask again."""
    return urlencode(answers_form_data(answers))


def _plan_rows(plan: dict | None) -> list[dict]:
    """The plan's rows: one, or a hybrid's two."""
    if not plan:
        return []
    return [plan["slm"], plan["llm"]] if "slm" in plan else [plan]


def recommendation_markdown(saved: Recommendation) -> str:
    result, answers = saved.result, saved.answers
    lines = [
        f"# Recommendation: {result['verdict'].upper()}",
        "",
        "## Your answers",
        "",
        *(f"- **{key}**: {value}" for key, value in answers.items()),
        "",
        "## The plan" + ("" if result.get("plan_feasible", True) else " (none meets every requirement: the nearest)"),
        "",
        *(f"- {row['model']}: {row['where']}" + (f", {row['count']} × {row['device_name']} at {row['precision']}" if row.get("device") else "")
          + f", first token {row['first_token_s']} s, ${row['monthly_cost_usd']:,.2f} a month ({row['cost_formula']})" for row in _plan_rows(result.get("plan"))),
        *(f"- If you did not need to {r['requirement'].replace('_', ' ')}: {r['plan'].get('model', 'the hybrid')}, ${r['plan']['monthly_cost_usd']:,.2f} a month"
          for r in result.get("relaxations", [])),
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
