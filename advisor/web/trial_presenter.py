"""What a viewer may see of a trial: the one place that decides what blind mode hides.

Pages, their htmx partials and the JSON API all build their runs here, so a blind trial cannot
leak its models through one of them while the others hide them. Until the owner votes, a blind
trial shows its runs in a shuffled order (drawn from the trial's stored seed) as "Model A",
"Model B", …, and hides everything that identifies a model: its name and slug, speed and cost
(a 2 s first token or a $0.004 answer names a hosted model as surely as its name), the cost
basis, progress text ("Connecting to <url>") and error text.
"""

import random
import string
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from advisor.trials.lifecycle import elapsed_ms
from advisor.trials.models import Status, Trial, TrialRun, Vote

from .advice import stand_ins_of

HIDDEN_ERROR = "This run failed. Why is shown after the vote (the reason would name the model)."
HIDDEN_PROGRESS = {Status.QUEUED: "Waiting for a worker…", Status.RUNNING: "Starting…"}


def column_label(column: int) -> str:
    """Model A, Model B, … Model Z, Model AA (a trial has at most a handful of runs)."""
    letters = string.ascii_uppercase
    name = letters[column % 26] * (column // 26 + 1)
    return f"Model {name}"


def display_order(trial: Trial, runs: list[TrialRun]) -> list[TrialRun]:
    """Runs in the order their columns are shown: as asked for, or shuffled for a blind trial."""
    runs = sorted(runs, key=lambda run: run.position)
    if trial.blind:
        random.Random(trial.shuffle_seed).shuffle(runs)
    return runs


def owner_voted(trial: Trial) -> bool:
    return any(vote.voter_id == trial.owner_id for vote in trial.votes.all())


def votable(runs: list[TrialRun]) -> bool:
    """A vote compares answers: every run has ended and at least two gave one."""
    return all(run.finished for run in runs) and sum(run.status == Status.DONE for run in runs) >= 2


def names_hidden(trial: Trial, runs: list[TrialRun]) -> bool:
    """Blind trials hide their models from everyone until the owner votes. A blind trial that
    cannot be voted on (runs failed) shows them once it has ended: there is nothing left to judge."""
    if not trial.blind or owner_voted(trial):
        return False
    return not (all(run.finished for run in runs) and not votable(runs))


def hidden_trials_q(prefix: str = "") -> Q:
    """Trials (through `prefix`, e.g. "trial__") whose model names are still hidden: blind, no owner vote.
    For filters that search or count by model, which must not find a blind trial by its models."""
    owner_vote = Vote.objects.filter(trial=OuterRef(f"{prefix}pk" if prefix else "pk"), voter=OuterRef(f"{prefix}owner"))
    return Q(**{f"{prefix}blind": True}) & ~Q(Exists(owner_vote))


@dataclass(frozen=True)
class RunView:
    """One column as a viewer may see it."""

    run: TrialRun
    column: int  # index of the column on the page (and in the API's list)
    label: str  # "Model A" (blind, before the vote) or the model's name
    column_name: str  # "Model A", always: what the vote buttons say
    hidden: bool
    stand_in: object = None  # advice.StandIn when this model ran in place of a recommended one

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def finished(self) -> bool:
        return self.run.finished

    @property
    def output(self) -> str:
        # A hidden cascade's draft would be replaced mid-stream when it escalates, telling the column
        # apart: blind, its text shows from when the cascade has decided.
        if self.hidden and self.run.is_hybrid and self.run.status == Status.RUNNING and self.run.escalated is None:
            return ""
        return self.run.output

    @property
    def waiting(self) -> str:
        """What a queued run waits for. Blind, never the queue: "no worker for the 'local' queue" names a local model."""
        from advisor.trials.queue_status import run_waiting_message

        if self.run.status != Status.QUEUED:
            return ""
        return HIDDEN_PROGRESS[Status.QUEUED] if self.hidden else run_waiting_message(self.run)

    @property
    def slug(self) -> str | None:
        return None if self.hidden else self.run.model_slug

    @property
    def show_figures(self) -> bool:
        return not self.hidden

    @property
    def progress(self) -> str:
        if self.hidden:
            return HIDDEN_PROGRESS.get(self.run.status, "") if not self.output else ""
        return self.run.progress

    @property
    def error(self) -> str:
        if not self.run.error:
            return ""
        return HIDDEN_ERROR if self.hidden else self.run.error

    @property
    def cost_basis(self) -> str:
        return "" if self.hidden else self.run.cost_basis

    @property
    def elapsed_ms(self) -> int | None:
        return elapsed_ms(self.run)

    @property
    def time_limit_s(self) -> float:
        return settings.TRIAL_SOFT_TIME_LIMIT_S

    def figure(self, name: str):
        return None if self.hidden else getattr(self.run, name)

    @property
    def hybrid(self) -> dict | None:
        """The hybrid column's cascade (which model answered, why, the SLM's confidence, the draft set
        aside and each model's figures); None for other runs, and for every run while names are
        hidden: its phase (drafting, escalated, kept) and its very fields would tell the cascade's
        column apart and say which model answered."""
        from advisor.trials.hybrid_run import hybrid_view

        return hybrid_view(self.run) if self.run.is_hybrid and not self.hidden else None

    def as_json(self) -> dict:
        run = self.run
        # The runtime, the advisor's estimate and the confidence would tell a local model from a hosted one.
        figures = ("queue_ms", "ttft_ms", "total_ms", "input_tokens", "output_tokens", "tokens_per_s", "cost_usd", "peak_rss_mb",
                   "predicted_tokens_per_s", "confidence")
        out = {
            "model": self.slug, "name": self.label, "status": run.status, "output": self.output,
            **{name: self.figure(name) for name in figures},
            "cost_basis": self.cost_basis or None, "progress": self.progress or None, "error": self.error or None,
            "runtime": self.figure("runtime") or None, "precision": self.figure("precision") or None,
            "stand_in_for": self.stand_in.candidate if self.stand_in else None,
            # While running: how long so far, and output_tokens counts the tokens streamed so far.
            "elapsed_ms": self.elapsed_ms,
        }
        if self.hybrid:
            out |= self.hybrid
        return out


@dataclass(frozen=True)
class TrialView:
    trial: Trial
    runs: list[RunView]
    hidden: bool
    can_vote: bool  # this viewer may vote now
    vote: Vote | None  # this viewer's vote
    vote_text: str  # what it says, in names the viewer may see
    stand_ins: list = field(default_factory=list)  # advice.StandIn: what these results do not measure

    @property
    def status(self) -> str:
        return self.trial.status

    @property
    def status_label(self) -> str:
        return trial_status_label([rv.run for rv in self.runs])

    @property
    def ended(self) -> bool:
        return all(rv.finished for rv in self.runs)

    @property
    def stamp(self) -> int:
        """The newest save this view shows (ms since the epoch): where the page's live stream starts."""
        return max((int(rv.run.updated_at.timestamp() * 1000) for rv in self.runs), default=0)

    @property
    def no_vote_reason(self) -> str:
        if not self.ended:
            return "The vote opens when every run has ended."
        if not votable([rv.run for rv in self.runs]):
            return "No vote: fewer than two runs gave an answer."
        if self.trial.blind and not self.hidden and self.vote is None:
            return "The names are shown, so this blind trial takes no more votes."
        return ""

    def run_at(self, column: int) -> RunView | None:
        return self.runs[column] if 0 <= column < len(self.runs) else None

    def as_json(self) -> dict:
        trial = self.trial
        return {
            "id": str(trial.id), "status": trial.status, "prompt": trial.prompt, "system": trial.system,
            "max_tokens": trial.max_tokens, "temperature": trial.temperature, "blind": trial.blind,
            "names_hidden": self.hidden, "created_at": trial.created_at.isoformat(),
            "runs": [rv.as_json() for rv in self.runs],
            "stand_ins": [stand_in.as_json() for stand_in in self.stand_ins],
        }


def trial_status_label(runs: list[TrialRun]) -> str:
    """The trial's state in words; a trial with a failed run is never plainly "done"."""
    if not runs or all(run.status == Status.QUEUED for run in runs):
        return "queued"
    if not all(run.finished for run in runs):
        return "running"
    failed = sum(run.status == Status.FAILED for run in runs)
    if failed == len(runs):
        return "failed"
    return f"done, {failed} of {len(runs)} failed" if failed else "done"


def _vote_text(vote: Vote | None, runs: list[RunView], blind: bool) -> str:
    if vote is None:
        return ""
    if vote.choice == Vote.Choice.TIE:
        return "Tie"
    if vote.choice == Vote.Choice.BOTH_BAD:
        return "All are bad" if len(runs) > 2 else "Both are bad"
    winner = next((rv for rv in runs if rv.run.pk == vote.winner_id), None)
    if winner is None:  # a vote from before winners were stored: left/right were the first/second run
        position = 0 if vote.choice == Vote.Choice.LEFT else 1
        winner = next((rv for rv in runs if rv.run.position == position), None)
    if winner is None:
        return vote.get_choice_display()
    if blind and not winner.hidden:  # say both: the voter knew it as "Model B"
        return f"{winner.column_name} ({winner.label}) is better"
    return f"{winner.label} is better"


def present_trial(trial: Trial, user) -> TrialView:
    """The trial as `user` (who may view it) sees it."""
    runs = display_order(trial, list(trial.runs.all()))
    hidden = names_hidden(trial, runs)
    # Blind, before the vote, naming a stand-in would name the model in its column.
    stand_ins = [] if hidden else stand_ins_of(trial.recommendation, ran=[run.model_slug for run in runs])
    by_slug = {stand_in.stand_in: stand_in for stand_in in stand_ins if stand_in.stand_in}
    views = [
        RunView(run=run, column=column, label=column_label(column) if hidden else run.model_name,
                column_name=column_label(column), hidden=hidden, stand_in=by_slug.get(run.model_slug))
        for column, run in enumerate(runs)
    ]
    vote = next((v for v in trial.votes.all() if v.voter_id == user.pk), None) if user and user.is_authenticated else None
    # A blind vote is locked once cast and once the names are out: a vote given knowing them is not blind.
    can_vote = bool(user and user.is_authenticated and votable(runs) and (not trial.blind or (hidden and vote is None)))
    return TrialView(trial=trial, runs=views, hidden=hidden, can_vote=can_vote, vote=vote, vote_text=_vote_text(vote, views, trial.blind),
                     stand_ins=stand_ins)


def history_row(trial: Trial, owner) -> dict:
    """A history line for the trial's owner: models (or how many, while blind), status, winner."""
    view = present_trial(trial, owner)
    owner_vote = next((v for v in trial.votes.all() if v.voter_id == trial.owner_id), None)
    return {
        "trial": trial,
        "models": f"{len(view.runs)} models, blind until you vote" if view.hidden else ", ".join(rv.label for rv in view.runs),
        "status": view.status_label,
        "winner": _vote_text(owner_vote, view.runs, trial.blind) if owner_vote else "",
    }


def rerun_models(trial: Trial, user) -> list[str] | None:
    """The models a new trial may start from, or None while the trial is blind to `user`."""
    view = present_trial(trial, user)
    return None if view.hidden else [rv.run.model_slug for rv in sorted(view.runs, key=lambda rv: rv.run.position) if not rv.run.is_hybrid]


def visible_runs_q(user) -> Q:
    """Runs a comparison may count for `user`: of their own trials and of shared ones, never of a
    trial whose names are still hidden."""
    mine = Q(trial__owner_id=user.pk) if user and user.is_authenticated else Q(pk__in=[])
    return (mine | Q(trial__shared=True)) & ~hidden_trials_q("trial__")
