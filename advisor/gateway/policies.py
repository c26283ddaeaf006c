"""Policies as scripts make and change them (POST /api/policies and friends), without the calibration page."""

from advisor.catalogue.models import LanguageModel
from advisor.hybrid.calibration import Target
from advisor.hybrid.models import HybridPolicy
from advisor.hybrid.services import (
    evaluation_calibration, hybrid_policy_latest, hybrid_policy_name_taken, hybrid_policy_save, hybrid_policy_set,
)


class PolicyRejected(Exception):
    def __init__(self, errors: dict[str, list[str]], status: int = 400):
        self.errors, self.status = errors, status
        super().__init__(errors)


def policy_json(policy: HybridPolicy, *, full: bool = False) -> dict:
    body = {"id": str(policy.family), "name": policy.name, "version": policy.version}
    if full:
        body |= {"slm": policy.slm.slug, "llm": policy.llm.slug, "threshold": policy.threshold, "signal": policy.signal,
                 "target": {"kind": policy.target_kind, "value": policy.target_value, "requests_per_day": policy.requests_per_day},
                 "log_text": policy.log_text, "shadow_share": policy.shadow_share, "version_id": str(policy.id),
                 "url": f"/policies/{policy.family}/"}
    return body


def policies_latest(*, owner) -> list[HybridPolicy]:
    latest: dict = {}
    for policy in HybridPolicy.objects.filter(owner=owner).select_related("slm", "llm").order_by("family", "-version"):
        latest.setdefault(policy.family, policy)
    return sorted(latest.values(), key=lambda p: p.created_at, reverse=True)


def _models(slm: str | None, llm: str | None) -> tuple[LanguageModel, LanguageModel]:
    found = {m.slug: m for m in LanguageModel.objects.active().filter(slug__in=[s for s in (slm, llm) if s])}
    errors = {}
    for field, slug in (("slm", slm), ("llm", llm)):
        if not slug:
            errors[field] = [f"Name the {field.upper()}: a catalogue model's slug."]
        elif slug not in found:
            errors[field] = [f"No catalogue model {slug!r}."]
    if not errors and slm == llm:
        errors["llm"] = ["Must be a different model from slm."]
    if errors:
        raise PolicyRejected(errors)
    return found[slm], found[llm]


def _target(given: dict | None) -> Target:
    if not given:
        raise PolicyRejected({"target": ["Give the target to calibrate for: {\"kind\": \"quality\", \"value\": 0.95}."]})
    try:
        return Target(given["kind"], given["value"], given.get("requests_per_day")).validated()
    except ValueError as exc:
        raise PolicyRejected({"target": [str(exc)]}) from None


def policy_from_request(*, owner, name: str, slm=None, llm=None, threshold=None, evaluation=None, target=None,
                        log_text=False, shadow_share=0.0) -> HybridPolicy:
    if hybrid_policy_name_taken(owner=owner, name=name):
        raise PolicyRejected({"name": [f"You already have a policy named {name!r}: pick another name."]})
    if (threshold is None) == (evaluation is None):
        raise PolicyRejected({"threshold": ["Give either a threshold (0 to 1) or an evaluation with a target to calibrate from."]})
    if evaluation is None:
        slm_model, llm_model = _models(slm, llm)
        policy = hybrid_policy_set(owner=owner, name=name, slm=slm_model, llm=llm_model, threshold=threshold)
    else:
        policy = _calibrated(owner=owner, name=name, slm=slm, llm=llm, evaluation_id=evaluation, target=_target(target))
    if log_text or shadow_share:
        HybridPolicy.objects.filter(pk=policy.pk).update(log_text=log_text, shadow_share=shadow_share)
        policy.refresh_from_db()
    return policy


def _calibrated(*, owner, name, slm, llm, evaluation_id, target: Target) -> HybridPolicy:
    from advisor.evaluations.api import own_evaluation
    from advisor.hybrid.evaluation_replay import ReplayRejected, evaluation_pair_check

    evaluation = own_evaluation(owner, evaluation_id)
    if evaluation is None:
        raise PolicyRejected({"evaluation": ["No such evaluation of yours."]})
    try:
        slm, llm = evaluation_pair_check(evaluation, slm=slm, llm=llm)
    except ReplayRejected as exc:
        raise PolicyRejected(exc.errors) from None
    page = evaluation_calibration(evaluation=evaluation, slm=slm, llm=llm, target=target)
    if page["calibration"] is None:
        field = "evaluation" if page["refusal"] else "target"
        raise PolicyRejected({field: [page["refusal"] or page["target_error"]]}, status=409 if page["refusal"] else 400)
    slm_model, llm_model = _models(slm, llm)
    return hybrid_policy_save(owner=owner, slm=slm_model, llm=llm_model, calibration=page["calibration"],
                              source_evaluation=evaluation, name=name)


def _own(owner, ref: str) -> HybridPolicy:
    policy = hybrid_policy_latest(owner=owner, ref=ref)
    if policy is None:
        raise PolicyRejected({"id": ["No such policy of yours."]}, status=404)
    return policy


def policy_settings_change(*, owner, ref: str, **changes) -> HybridPolicy:
    policy = _own(owner, ref)
    HybridPolicy.objects.filter(family=policy.family).update(**changes)
    return _own(owner, ref)


def policy_recalibrate_request(*, owner, ref: str, target: dict | None) -> HybridPolicy:
    from .shadow import policy_recalibrate

    policy = _own(owner, ref)
    try:
        return policy_recalibrate(policy=policy, target=_target(target) if target else None)
    except PolicyRejected:
        raise
    except ValueError as exc:
        raise PolicyRejected({"votes": [str(exc)]}, status=409) from None
