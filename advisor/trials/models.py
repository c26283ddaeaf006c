import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from advisor.catalogue.models import LanguageModel
from advisor.runs.models import MeasuredRun


class Status(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FINISHED = (Status.DONE, Status.FAILED)


def _shuffle_seed() -> int:
    return secrets.randbelow(2**31)


class Trial(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trials")
    prompt = models.TextField()
    system = models.TextField(blank=True)
    max_tokens = models.PositiveIntegerField(default=256)
    temperature = models.FloatField(default=0.0)
    blind = models.BooleanField(default=False, help_text="Hide model names until the vote.")
    shared = models.BooleanField(default=False, help_text="Anyone with the link may see it.")
    # The saved advice this trial checks, when it was started from its "try these models".
    recommendation = models.ForeignKey("web.Recommendation", null=True, blank=True, on_delete=models.SET_NULL, related_name="trials")
    # Blind trials show their runs in an order drawn from this seed (kept, so every view and the API
    # agree on which model is "Model A"); see advisor.web.trial_presenter.
    shuffle_seed = models.PositiveIntegerField(default=_shuffle_seed, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        # A user's history, newest first, a page at a time.
        indexes = [models.Index(fields=["owner", "-created_at"], name="trial_owner_newest")]

    def __str__(self) -> str:
        return self.prompt[:60]

    def get_absolute_url(self) -> str:
        return reverse("trial", args=[self.id])

    @property
    def status(self) -> str:
        statuses = {run.status for run in self.runs.all()}
        if not statuses or statuses <= {Status.QUEUED}:
            return Status.QUEUED
        if statuses & {Status.QUEUED, Status.RUNNING}:
            return Status.RUNNING
        return Status.DONE if Status.DONE in statuses else Status.FAILED


class TrialRun(MeasuredRun):
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="runs")
    position = models.PositiveSmallIntegerField()
    model = models.ForeignKey(LanguageModel, null=True, on_delete=models.SET_NULL, related_name="runs")
    # Kept as text so history survives the catalogue entry's removal.
    model_slug = models.CharField(max_length=100)
    model_name = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=200, blank=True, help_text="What the run is doing before its first token.")
    queued_at = models.DateTimeField(auto_now_add=True)
    queue_ms = models.PositiveIntegerField(null=True, blank=True)
    peak_rss_mb = models.PositiveIntegerField(null=True, blank=True)
    # Local runs: what ran, and the advisor's estimate for the worker's machine beside the measured figure.
    runtime = models.CharField(max_length=30, blank=True)
    precision = models.CharField(max_length=10, blank=True)
    predicted_tokens_per_s = models.FloatField(null=True, blank=True)
    # The hybrid column (model_slug "hybrid", see hybrid_run.py): `model` is the SLM that answers
    # first, `hybrid_llm` the one it escalates to when its confidence is under the threshold. When
    # it escalated, `draft_output` keeps the SLM's draft and `output` is the LLM's answer.
    hybrid_llm = models.ForeignKey(LanguageModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    hybrid_policy = models.ForeignKey("hybrid.HybridPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="trial_runs")
    hybrid_threshold = models.FloatField(null=True, blank=True)
    hybrid_signal = models.CharField(max_length=40, blank=True)
    draft_output = models.TextField(blank=True)
    routed_to = models.CharField(max_length=100, blank=True)
    escalated = models.BooleanField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=300, blank=True)
    # {"slm": {...}, "llm": {...} | None, "cascade": cascade_figures(...)}: each model's own figures.
    hybrid_figures = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["trial", "position"]
        constraints = [models.UniqueConstraint(fields=["trial", "position"], name="one_run_per_position")]
        # The sweep (running runs; queued ones past their expiry) and "runs ahead" (queued ones)
        # read the few unfinished rows, not the whole table; compare reads one model's runs.
        indexes = [models.Index(fields=["status", "queued_at"], name="trialrun_status_queued"),
                   models.Index(fields=["model_slug", "status"], name="trialrun_model_status")]

    def __str__(self) -> str:
        return f"{self.model_slug} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_hybrid(self) -> bool:
        return self.model_slug == "hybrid"


class Vote(models.Model):
    class Choice(models.TextChoices):
        # left/right: the trial's first/second run (the order its models were asked for), kept for
        # two-model trials; "best" names its run in `winner` (trials of three or more models).
        LEFT = "left", "The first model is better"
        RIGHT = "right", "The second model is better"
        BEST = "best", "One model is best"
        TIE = "tie", "Tie"
        BOTH_BAD = "both_bad", "Both are bad"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    choice = models.CharField(max_length=10, choices=Choice.choices)
    # The run that won (null for a tie or "both bad"), whatever column it was shown in.
    winner = models.ForeignKey(TrialRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trial", "voter"], name="one_vote_per_trial_and_voter")]
