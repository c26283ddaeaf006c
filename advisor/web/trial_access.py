"""Who may see a trial, and who may vote on it."""

from advisor.trials.models import Vote


def can_view_trial(user, trial) -> bool:
    """Owners see their trials; anyone sees a shared one; staff see all."""
    if trial.shared:
        return True
    return bool(user and user.is_authenticated and (user.pk == trial.owner_id or user.is_staff))


class VoteRefused(Exception):
    def __init__(self, message: str, status: int = 400):
        self.message, self.status = message, status
        super().__init__(message)


def vote_record(*, view, voter, choice: str = "", winner: str = "") -> Vote:
    """Record `voter`'s verdict on the trial `view` (a TrialView as the voter sees it).

    `winner` is the column index of the better answer; `choice` is "tie", "both_bad", or (older
    clients, two columns) "left"/"right" for the first/second column shown. Raises VoteRefused.
    """
    runs = view.runs
    if len(runs) < 2:
        raise VoteRefused("A vote needs two runs to compare.")
    if not view.can_vote:
        if view.vote is not None and view.trial.blind:
            raise VoteRefused("Your vote on this blind trial is final: the names are shown now.", 409)
        if not all(rv.finished for rv in runs):
            raise VoteRefused("Vote when every run has ended.", 409)
        if view.trial.blind and not view.hidden:
            raise VoteRefused("The names are shown now: a vote on this blind trial would no longer be blind.", 409)
        raise VoteRefused("A vote needs at least two runs that gave an answer; here they failed.", 409)
    if choice in ("left", "right") and not winner and len(runs) == 2:
        winner = "0" if choice == "left" else "1"
    if winner:
        # isdigit() alone accepts "²" and "١", which int() refuses.
        column = int(winner) if winner.isascii() and winner.isdigit() and len(winner) <= 3 else -1
        chosen = view.run_at(column)
        if chosen is None:
            raise VoteRefused("winner: pick one of the columns shown, Tie, or Both are bad.")
        if chosen.run.status != "done":
            raise VoteRefused("Pick an answer that finished: this run failed.")
        run = chosen.run
        # Stored by run, whatever column it was shown in; left/right keep meaning the first/second run.
        stored = Vote.Choice.BEST if len(runs) > 2 else (Vote.Choice.LEFT if run.position == min(r.run.position for r in runs) else Vote.Choice.RIGHT)
        vote, _ = Vote.objects.update_or_create(trial=view.trial, voter=voter, defaults={"choice": stored, "winner": run})
        return vote
    if choice not in (Vote.Choice.TIE, Vote.Choice.BOTH_BAD):
        raise VoteRefused("choice: pick one of the columns shown, Tie, or Both are bad.")
    vote, _ = Vote.objects.update_or_create(trial=view.trial, voter=voter, defaults={"choice": choice, "winner": None})
    return vote
