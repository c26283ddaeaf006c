"""The new-trial form's model list: grouped by kind and by whether each model runs here, with the
reason and the fix beside those that do not, and defaults that never carry over a failing model."""

from dataclasses import dataclass

from advisor.catalogue.models import LanguageModel
from advisor.trials.availability import Availability, model_availability
from advisor.trials.models import Status, Trial

from .trial_presenter import rerun_models

STARTER_MODELS = ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]


@dataclass(frozen=True)
class ModelOption:
    slug: str
    name: str
    is_slm: bool
    availability: Availability
    checked: bool = False
    stand_in_for: str = ""  # the recommended model this one stands in for
    stand_in_note: str = ""


@dataclass(frozen=True)
class ModelGroup:
    title: str
    runnable: bool
    options: list[ModelOption]


def _catalogue() -> list[LanguageModel]:
    return list(LanguageModel.objects.active().select_related("provider").order_by("params_b", "name"))


def trial_model_choices() -> list[tuple[str, str]]:
    """Every active model is a valid choice: one that cannot run is refused by trial_start with its reason."""
    return [(m.slug, m.name) for m in _catalogue()]


def trial_model_groups(selected, stand_ins: dict | None = None) -> list[ModelGroup]:
    stand_ins = stand_ins or {}
    selected = set(selected or [])
    options = []
    for m in _catalogue():
        availability = model_availability(m)
        pick = stand_ins.get(m.slug)
        options.append(ModelOption(
            m.slug, m.name, m.is_slm, availability, checked=m.slug in selected and availability.runnable,
            stand_in_for=pick.recommended if pick else "", stand_in_note=pick.stand_in_note if pick else "",
        ))
    groups = []
    for runnable in (True, False):
        for is_slm, kind in ((True, "Small models (SLM)"), (False, "Large models (LLM)")):
            chosen = [o for o in options if o.is_slm == is_slm and o.availability.runnable == runnable]
            if chosen:
                groups.append(ModelGroup(f"{kind}: {'run here' if runnable else 'not set up here'}", runnable, chosen))
    return groups


def trial_default_models(*, user, wanted: list[str]) -> tuple[list[str], list[str]]:
    """The models to pre-tick, and notes on any left out (so nothing is dropped silently).
    From the link when it names models; else the last trial's models whose runs succeeded."""
    by_slug = {m.slug: m for m in _catalogue()}
    notes = []
    if wanted:
        keep = []
        for slug in dict.fromkeys(wanted):
            model = by_slug.get(slug)
            if model is None:
                notes.append(f"{slug} is not in the catalogue (or was switched off), so it is not ticked.")
            elif not (availability := model_availability(model)).runnable:
                notes.append(f"{model.name} is not ticked: it cannot run here: {availability.sentence}")
            else:
                keep.append(slug)
        return keep, notes
    # The last trial whose models the user may see (a blind one before its vote would give them away).
    last = next((trial for trial in Trial.objects.filter(owner=user).prefetch_related("runs", "votes")[:5]
                 if rerun_models(trial, user) is not None), None)
    keep = []
    if last:
        for run in last.runs.all():
            model = by_slug.get(run.model_slug)
            if run.status == Status.FAILED:
                notes.append(f"{run.model_name} from your last trial is not ticked: its run failed ({run.error[:160] or 'no reason given'}).")
            elif model is None or not model_availability(model).runnable:
                notes.append(f"{run.model_name} from your last trial is not ticked: it cannot run here now.")
            else:
                keep.append(run.model_slug)
    if not keep:
        keep = [slug for slug in STARTER_MODELS if slug in by_slug and model_availability(by_slug[slug]).runnable]
    return list(dict.fromkeys(keep)), notes
