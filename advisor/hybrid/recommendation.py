"""The recommendation's hybrid share from the owner's calibrated policy, once one exists for the pair.

The engine proposes a share of requests for the LLM from a default or the user's estimate. When the
owner has a policy for the pair the advice picked (its top SLM and its tail LLM), the share that
policy measured on its held-out items replaces the guess, labelled with where it came from. The
engine is run again with that share; if the share moves the tail to another model, the policy no
longer describes the pair and the first answer stands.
"""

from dataclasses import replace

from advisor.recommend import CostAssumptions, Needs, recommend


def _pair(answer) -> tuple[str, str] | None:
    if not answer.hybrid.possible or not answer.hybrid.tail_model or not answer.hybrid.slm_model:
        return None
    return answer.hybrid.slm_model, answer.hybrid.tail_model


def policy_share(policy) -> tuple[float, str]:
    figures = policy.figures or {}
    held_out = figures.get("held_out") or {}
    share = held_out.get("llm_share", figures.get("calibration", {}).get("llm_share"))
    suite = policy.source_evaluation.suite.name if policy.source_evaluation_id else "a deleted evaluation"
    items = figures.get("items_voted")
    source = (f"calibrated on {items} voted items of suite “{suite}”: your policy's threshold {policy.threshold:g} "
              f"sent {share:.0%} of the held-out items to the LLM")
    return share, source


def recommend_for(needs: Needs, specs, assumptions: CostAssumptions = CostAssumptions(), *, user=None, devices=None, price_usd=None, power_w=None, rent_usd_per_hour=None):
    """(engine answer, calibrated) — `calibrated` describes the policy used ({"policy", "threshold",
    "llm_share", "items_voted", "suite", "source"}), or None when the default share stands."""
    from .services import policy_for_pair

    answer = recommend(needs, specs, assumptions, devices, price_usd, power_w, rent_usd_per_hour)
    pair = _pair(answer)
    policy = policy_for_pair(owner=user, slm_slug=pair[0], llm_slug=pair[1]) if pair else None
    if policy is None or not (policy.figures or {}).get("held_out"):
        return answer, None
    share, source = policy_share(policy)
    calibrated = recommend(replace(needs, calibrated_share=share, calibrated_share_source=source), specs, assumptions, devices, price_usd, power_w, rent_usd_per_hour)
    if _pair(calibrated) != pair:
        return answer, None
    return calibrated, {
        "policy": str(policy.id), "threshold": policy.threshold, "llm_share": share,
        "items_voted": policy.figures.get("items_voted"), "source": source,
        "suite": policy.source_evaluation.suite.name if policy.source_evaluation_id else None,
        "evaluation": str(policy.source_evaluation_id) if policy.source_evaluation_id else None,
    }


def saved_result_for(saved, user) -> dict:
    """A saved recommendation's result as its owner should see it: recomputed with their calibrated
    share when they saved a policy for its pair after the recommendation (marked "recomputed"),
    else as saved. Others always see it as saved."""
    from django.http import QueryDict

    from advisor.web.advice import answers_query, recommendation_result
    from advisor.web.forms import AdvisorForm

    from .services import policy_for_pair

    result = saved.result
    if user is None or not user.is_authenticated or saved.created_by_id != user.pk:
        return result
    hybrid = result.get("hybrid") or {}
    slms = (result.get("candidates") or {}).get("slm") or []
    slm = hybrid.get("slm_model") or (slms[0]["slug"] if slms else None)
    if not slm or not hybrid.get("tail_model"):
        return result
    policy = policy_for_pair(owner=user, slm_slug=slm, llm_slug=hybrid["tail_model"])
    if policy is None or (hybrid.get("calibrated") or {}).get("policy") == str(policy.id):
        return result
    form = AdvisorForm(QueryDict(answers_query(saved.answers)))
    if not form.is_valid():
        return result
    fresh = recommendation_result(form, user=user)
    if fresh["hybrid"].get("calibrated"):
        fresh["hybrid"]["calibrated"]["recomputed"] = True
        return fresh
    return result
