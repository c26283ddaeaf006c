"""Saving a calibration as a policy (the one part of the hybrid that touches the database)."""

from advisor.hybrid.calibration import Calibration
from advisor.hybrid.cascade import DEFAULT_SIGNAL
from advisor.hybrid.models import HybridPolicy


def hybrid_policy_save(
    *, owner, slm, llm, calibration: Calibration, signal: str = DEFAULT_SIGNAL,
    source_evaluation=None, name: str = "",
) -> HybridPolicy:
    if slm.pk == llm.pk:
        raise ValueError("llm must be a different model from slm.")
    return HybridPolicy.objects.create(
        owner=owner, slm=slm, llm=llm, signal=signal, threshold=calibration.threshold,
        target_kind=calibration.target.kind, target_value=calibration.target.value,
        requests_per_day=calibration.target.requests_per_day, figures=calibration.as_figures(),
        source_evaluation=source_evaluation, name=name,
        recommendation_id=source_evaluation.recommendation_id if source_evaluation is not None else None,
    )


def hybrid_policy_set(*, owner, name: str, slm, llm, threshold: float, signal: str = DEFAULT_SIGNAL) -> HybridPolicy:
    """A policy whose threshold is set by hand (no calibration behind it: its figures are empty)."""
    if slm.pk == llm.pk:
        raise ValueError("llm must be a different model from slm.")
    return HybridPolicy.objects.create(owner=owner, name=name, slm=slm, llm=llm, signal=signal, threshold=threshold,
                                       target_kind=HybridPolicy.TargetKind.THRESHOLD, target_value=threshold)


def hybrid_policy_version_add(*, policy: HybridPolicy, calibration: Calibration, source_evaluation=None) -> HybridPolicy:
    """The policy recalibrated: a new version (the old ones stay), with the same pair, name and gateway settings."""
    from django.db import transaction

    with transaction.atomic():
        latest = HybridPolicy.objects.select_for_update().filter(family=policy.family).order_by("-version").first()
        return HybridPolicy.objects.create(
            owner=latest.owner, family=latest.family, version=latest.version + 1, name=latest.name,
            slm=latest.slm, llm=latest.llm, signal=latest.signal, threshold=calibration.threshold,
            target_kind=calibration.target.kind, target_value=calibration.target.value,
            requests_per_day=calibration.target.requests_per_day, figures=calibration.as_figures(),
            source_evaluation=source_evaluation or latest.source_evaluation,
            log_text=latest.log_text, shadow_share=latest.shadow_share,
        )


def hybrid_policy_latest(*, owner, ref: str) -> HybridPolicy | None:
    """The latest version of the owner's policy named `ref`, or whose versions include the id `ref`."""
    import uuid

    policies = HybridPolicy.objects.filter(owner=owner).select_related("slm__provider", "llm__provider")
    try:
        family = policies.filter(pk=uuid.UUID(ref)).values_list("family", flat=True).first()
    except ValueError:
        family = None
    if family is None:
        family = policies.filter(name=ref).exclude(name="").values_list("family", flat=True).first()
    if family is None:
        return None
    return policies.filter(family=family).order_by("-version").first()


def hybrid_policy_name_taken(*, owner, name: str) -> bool:
    return bool(name) and HybridPolicy.objects.filter(owner=owner, name=name).exists()


def evaluation_calibration(*, evaluation, slm: str, llm: str, target=None) -> dict:
    """Everything the calibration page shows for one pair of an evaluation: the replay (as the API
    gives it), or why there is none (too few votes), and the calibration for `target` when given.
    Keys: source, replay (dict | None), refusal (str | None), calibration (Calibration | None),
    target_error (str | None)."""
    from advisor.hybrid.calibration import CalibrationImpossible, hybrid_calibrate
    from advisor.hybrid.evaluation_replay import evaluation_replay_source
    from advisor.hybrid.replay import NotEnoughVotes, hybrid_replay, replay_as_json, scored_items

    source = evaluation_replay_source(evaluation, slm=slm, llm=llm)
    page = {"source": source, "replay": None, "refusal": None, "calibration": None, "target_error": None,
            "items_voted": len(scored_items(source.items))}
    try:
        page["replay"] = replay_as_json(hybrid_replay(items=source.items))
    except NotEnoughVotes as exc:
        page["refusal"] = str(exc)
        return page
    if target is not None:
        try:
            page["calibration"] = hybrid_calibrate(items=source.items, target=target)
        except (CalibrationImpossible, ValueError) as exc:
            page["target_error"] = str(exc)
    return page


def policy_for_pair(*, owner, slm_slug: str, llm_slug: str) -> HybridPolicy | None:
    """The owner's latest policy for this SLM → LLM pair (the one the recommendation and trials use)."""
    if owner is None or not getattr(owner, "is_authenticated", False):
        return None
    return (HybridPolicy.objects.filter(owner=owner, slm__slug=slm_slug, llm__slug=llm_slug)
            .select_related("slm", "llm", "source_evaluation__suite").order_by("-created_at").first())
