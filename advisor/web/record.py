"""The decision record: one recommendation with everything its owner started from it.

The question (answers), the answer (verdict, plan, reasons, costs), what would flip it, every trial,
evaluation (with its vote tally and failed runs), calibration and policy, the suites written for it,
and what is still untested: candidates a stand-in replaced and candidates that cannot run here.
Read by the owner's page, the share link, the Markdown and print exports and the API alike.
"""

from collections import Counter
from dataclasses import dataclass, field

from advisor.catalogue.models import LanguageModel
from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus, Suite
from advisor.hybrid.models import HybridPolicy
from advisor.trials.availability import model_availability
from advisor.trials.models import Status, Trial, TrialRun

from .advice import try_models
from .flips import recommendation_flips
from .models import Recommendation
from .trial_presenter import hidden_trials_q, history_row

VOTE_WORDS = {"tie": "ties", "both_bad": "both bad"}


@dataclass(frozen=True)
class EvaluationEntry:
    evaluation: Evaluation
    models: list[str]  # names, in the evaluation's order
    done: int
    failed: int
    total: int
    tally: list[tuple[str, int]]  # the owner's votes: (a winner's name, "ties" or "both bad"; count)
    votes: int
    calibrations: bool  # it has a pair, so its calibration page can replay a cascade


@dataclass(frozen=True)
class PolicyEntry:
    policy: HybridPolicy
    used_by_advice: bool
    why_not_used: str


@dataclass(frozen=True)
class Untested:
    option: str  # slm or llm
    candidate: str  # the recommended model's name
    slug: str
    reason: str  # why it is untested, in words


@dataclass
class DecisionRecord:
    saved: Recommendation
    result: dict
    flips: dict
    trials: list[dict] = field(default_factory=list)  # history rows (names hidden while a trial is blind)
    evaluations: list[EvaluationEntry] = field(default_factory=list)
    policies: list[PolicyEntry] = field(default_factory=list)
    suites: list[Suite] = field(default_factory=list)
    stand_ins: list[dict] = field(default_factory=list)  # {"candidate", "stand_in", "candidate_name", "stand_in_name", "note"}
    untested: list[Untested] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return self.result["verdict"]

    @property
    def chosen(self) -> str:
        """The answer in one line, from the answer's documented fields: the option's first candidate
        (both kinds' for a hybrid) and its monthly cost."""
        candidates = self.result.get("candidates") or {}
        firsts = [candidates[option][0]["name"] for option in (("slm", "llm") if self.verdict == "hybrid" else (self.verdict,))
                  if candidates.get(option)]
        cost = (self.result.get("monthly_cost_usd") or {}).get(self.verdict)
        named = " with ".join(firsts) or "no candidate"
        return named if cost is None else f"{named}, about ${cost:,.2f} a month"

    @property
    def today_differs(self) -> bool:
        """Asked again today (a changed catalogue), the same answers give another verdict."""
        return bool(self.flips.get("verdict")) and self.flips["verdict"] != self.verdict

    def as_json(self) -> dict:
        """GET /api/recommendations/<id>: the answer as saved, plus the evidence and the flips."""
        saved = self.saved
        return {"id": str(saved.id), "answers": saved.answers} | self.result | {
            "url": saved.get_absolute_url(),
            "trials": [{"id": str(row["trial"].id), "url": row["trial"].get_absolute_url()} for row in self.trials],
            "evaluations": [{"id": str(e.evaluation.id), "url": e.evaluation.get_absolute_url(), "status": e.evaluation.status,
                             "done": e.done, "failed": e.failed, "total": e.total} for e in self.evaluations],
            "policies": [{"id": str(p.policy.id), "name": getattr(p.policy, "name", "") or str(p.policy),
                          "threshold": p.policy.threshold, "used_by_advice": p.used_by_advice} for p in self.policies],
            "suites": [{"id": str(suite.id), "url": suite.get_absolute_url(), "name": suite.name} for suite in self.suites],
            "stand_ins": [{"candidate": s["candidate"], "stand_in": s["stand_in"]} for s in self.stand_ins],
            "untested": [{"candidate": u.slug, "option": u.option, "reason": u.reason} for u in self.untested],
            "what_would_flip": self.flips.get("flips", []),
        }


def _evaluation_entries(evaluations) -> list[EvaluationEntry]:
    entries = []
    for evaluation in evaluations:
        runs = list(evaluation.runs.all())
        names = {run.model_slug: run.model_name for run in runs}
        counts = Counter(run.status for run in runs)
        votes = Counter(vote.winner for vote in evaluation.votes.all() if vote.voter_id == evaluation.owner_id)
        tally = [(VOTE_WORDS.get(winner) or names.get(winner, winner), count) for winner, count in votes.most_common()]
        entries.append(EvaluationEntry(
            evaluation, [names.get(slug, slug) for slug in evaluation.model_slugs], counts[RunStatus.DONE], counts[RunStatus.FAILED],
            len(runs), tally, sum(votes.values()), evaluation.pair is not None,
        ))
    return entries


def _hybrid_pair(result: dict) -> tuple[str, str] | None:
    slms = (result.get("candidates") or {}).get("slm") or []
    tail = (result.get("hybrid") or {}).get("tail_model")
    return (slms[0]["slug"], tail) if slms and tail else None


def _policy_entries(policies, result: dict) -> list[PolicyEntry]:
    pair = _hybrid_pair(result)
    entries = []
    for policy in policies:
        used = pair == (policy.slm.slug, policy.llm.slug)
        if used:
            why = ""
        elif pair is None:
            why = "This advice proposes no hybrid pair, so the policy's measured share changes nothing here."
        else:
            why = (f"The advice's hybrid pairs {pair[0]} with {pair[1]}; this policy calibrates {policy.slm.slug} → {policy.llm.slug}, "
                   "so its measured share does not apply to it.")
        entries.append(PolicyEntry(policy, used, why))
    return entries


def _untested(result: dict, plan, measured: set[str]) -> tuple[list[dict], list[Untested]]:
    """The stand-ins the "try these models" plan put in place of a candidate, and what has no
    measurement yet: each option's top candidate, unless a done run of it is linked here."""
    catalogue = {m.slug: m for m in LanguageModel.objects.select_related("provider")}
    stand_ins, untested = [], []
    for pick in plan.picks:
        candidates = [c for c in (result.get("candidates") or {}).get(pick.option, []) if c["slug"] in catalogue]
        if not candidates:
            continue
        top = catalogue[candidates[0]["slug"]]
        if pick.stand_in and pick.slug:
            stand_ins.append({"candidate": top.slug, "stand_in": pick.slug, "candidate_name": top.name, "stand_in_name": pick.name,
                              "note": f"{pick.name}, standing in for {top.name}: shows the path, not {top.name}'s quality."})
        if top.slug in measured:
            continue
        availability = model_availability(top)
        if not availability.runnable:
            reason = f"cannot run here: {availability.sentence}"
        else:
            reason = "runs here, but no trial or evaluation of it is linked to this recommendation yet."
        untested.append(Untested(pick.option, top.name, top.slug, reason))
    return stand_ins, untested


def decision_record(saved: Recommendation, *, result: dict | None = None) -> DecisionRecord:
    """The record of `saved` as its owner keeps it (the share link shows the same, read-only)."""
    result = result or saved.result
    owner = saved.created_by
    record = DecisionRecord(saved, result, recommendation_flips(saved))
    if owner is not None:
        trials = list(Trial.objects.filter(recommendation=saved, owner=owner).prefetch_related("runs", "votes"))
        record.trials = [history_row(trial, owner) | {"hybrid": any(run.is_hybrid for run in trial.runs.all())} for trial in trials]
        evaluations = (Evaluation.objects.filter(recommendation=saved, owner=owner).select_related("suite")
                       .prefetch_related("runs", "votes"))
        record.evaluations = _evaluation_entries(evaluations)
        policies = (HybridPolicy.objects.filter(owner=owner).filter(recommendation=saved) |
                    HybridPolicy.objects.filter(owner=owner, source_evaluation__recommendation=saved))
        # A recalibrated policy keeps its old versions: the record shows each policy at its latest.
        latest = {}
        for policy in policies.distinct().select_related("slm", "llm", "source_evaluation").order_by("-version", "-created_at"):
            latest.setdefault(policy.family or policy.pk, policy)
        record.policies = _policy_entries(latest.values(), result)
        record.suites = list(Suite.objects.filter(recommendation=saved, owner=owner))
    # A blind trial's models stay unnamed until its vote, here too.
    measured = set(TrialRun.objects.filter(trial__recommendation=saved, trial__owner=owner, status=Status.DONE)
                   .exclude(hidden_trials_q("trial__")).values_list("model_slug", flat=True))
    measured |= set(EvaluationRun.objects.filter(evaluation__recommendation=saved, evaluation__owner=owner, status=RunStatus.DONE)
                    .values_list("model_slug", flat=True))
    record.stand_ins, record.untested = _untested(result, try_models(result, recommendation=saved), measured)
    return record
