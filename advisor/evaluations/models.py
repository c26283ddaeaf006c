"""Suites of a team's prompts, evaluations of them on several models, and the verdicts on each pair.

Everything here is private to its owner (sample suites have no owner and are read-only for all).
The hybrid replay reads, per item and model, the done run's output, confidence and cost, and the
user's and the judge's verdict on the pair: `EvaluationRun`, `ItemVote`, `JudgeVerdict`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from advisor.catalogue.models import LanguageModel
from advisor.runs.models import MeasuredRun


class Check(models.TextChoices):
    EXACT = "exact", "Exact (ignoring case, spaces and a final full stop)"
    CONTAINS = "contains", "Contains (ignoring case)"
    REGEX = "regex", "Regular expression"
    JSON = "json", "Valid JSON (with the expected keys and values, if given)"


class SuiteQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The user's own suites and the samples that ship with the project."""
        mine = Q(owner_id=user.pk) if user.is_authenticated else Q(pk__in=[])
        return self.filter(mine | Q(owner__isnull=True, is_sample=True))


class Suite(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="suites")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # Samples: the advisor's task they illustrate (TASKS), so the recommendation can suggest one.
    task = models.CharField(max_length=30, blank=True)
    is_sample = models.BooleanField(default=False)
    # The advice it was written to check ("Check this on your prompts" → "New suite").
    recommendation = models.ForeignKey("web.Recommendation", null=True, blank=True, on_delete=models.SET_NULL, related_name="suites")
    sample_key = models.CharField(max_length=60, blank=True, help_text="Stable key of a sample suite, for re-loading.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SuiteQuerySet.as_manager()

    class Meta:
        ordering = ["-is_sample", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("suite", args=[self.id])

    def editable_by(self, user) -> bool:
        return not self.is_sample and self.owner_id == user.pk


class SuiteItem(models.Model):
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    prompt = models.TextField()
    system = models.TextField(blank=True)
    # The reference answer; null: no reference check for this item.
    expected = models.TextField(null=True, blank=True)
    check_kind = models.CharField(max_length=10, choices=Check.choices, default=Check.CONTAINS)
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["suite", "position"]
        constraints = [models.UniqueConstraint(fields=["suite", "position"], name="one_item_per_suite_position")]

    def __str__(self) -> str:
        return self.prompt[:60]


class EvalStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Evaluation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evaluations")
    suite = models.ForeignKey(Suite, on_delete=models.PROTECT, related_name="evaluations")
    # Ordered catalogue slugs; the first two are the pair the review queue and the judge compare.
    model_slugs = models.JSONField()
    repeats = models.PositiveSmallIntegerField(default=1)
    max_tokens = models.PositiveIntegerField(default=256)
    temperature = models.FloatField(default=0.0)
    judge = models.ForeignKey(LanguageModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="judged_evaluations")
    judge_slug = models.CharField(max_length=100, blank=True)
    judge_max_tokens = models.PositiveIntegerField(default=300)
    requests_per_day = models.PositiveIntegerField(null=True, blank=True)
    # The advice this evaluation checks, when it was started from one.
    recommendation = models.ForeignKey("web.Recommendation", null=True, blank=True, on_delete=models.SET_NULL, related_name="evaluations")
    status = models.CharField(max_length=10, choices=EvalStatus.choices, default=EvalStatus.QUEUED)
    worst_case_cost_usd = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.suite} on {', '.join(self.model_slugs)}"

    def get_absolute_url(self) -> str:
        return reverse("evaluation", args=[self.id])

    @property
    def finished(self) -> bool:
        return self.status in (EvalStatus.DONE, EvalStatus.FAILED, EvalStatus.CANCELLED)

    @property
    def pair(self) -> tuple[str, str] | None:
        return (self.model_slugs[0], self.model_slugs[1]) if len(self.model_slugs) >= 2 else None


class RunStatus(models.TextChoices):
    PENDING = "pending"  # waiting for a free slot of its model (not sent to the broker yet)
    QUEUED = "queued"  # sent to the broker
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


RUN_FINISHED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)
RUN_IN_FLIGHT = (RunStatus.QUEUED, RunStatus.RUNNING)


class EvaluationRun(MeasuredRun):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="runs")
    item = models.ForeignKey(SuiteItem, on_delete=models.CASCADE, related_name="runs")
    model = models.ForeignKey(LanguageModel, null=True, on_delete=models.SET_NULL, related_name="evaluation_runs")
    model_slug = models.CharField(max_length=100)
    model_name = models.CharField(max_length=120)
    queue = models.CharField(max_length=20)
    repeat = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    # How many times a worker claimed it: once at most (a run whose worker died is failed, not run again).
    attempts = models.PositiveSmallIntegerField(default=0)
    # The reference check's outcome; null where the item has no `expected`.
    passed = models.BooleanField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["evaluation", "item__position", "repeat", "model_slug"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "item", "model_slug", "repeat"], name="one_run_per_item_model_repeat")]
        indexes = [models.Index(fields=["evaluation", "model_slug", "status"]),
                   # The sweep reads the few unfinished runs, not the whole table.
                   models.Index(fields=["status", "queued_at"], name="evalrun_status_queued")]

    def __str__(self) -> str:
        return f"{self.model_slug} #{self.item.position} r{self.repeat} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in RUN_FINISHED


class Verdict(models.TextChoices):
    """Stored verdicts name the winner's slug, or one of these."""

    TIE = "tie"
    BOTH_BAD = "both_bad"


class ItemVote(models.Model):
    """The owner's verdict on one item between the evaluation's first two models."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="votes")
    item = models.ForeignKey(SuiteItem, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="item_votes")
    # The winning model's slug, "tie" or "both_bad".
    winner = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "item", "voter"], name="one_vote_per_item_and_voter")]


class JudgeStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JudgeVerdict(models.Model):
    """One judge call on one item's pair in one order. `order` "ab": the first model's answer shown
    as Assistant A; "ba": swapped. The item's combined verdict is `judge.combine(...)` of both."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="judge_verdicts")
    item = models.ForeignKey(SuiteItem, on_delete=models.CASCADE, related_name="judge_verdicts")
    judge_slug = models.CharField(max_length=100)
    order = models.CharField(max_length=2)
    status = models.CharField(max_length=10, choices=JudgeStatus.choices, default=JudgeStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    raw = models.TextField(blank=True, help_text="The judge's whole answer.")
    # The winner's slug, "tie", or "unparsed" when the answer named no verdict.
    winner = models.CharField(max_length=100, blank=True)
    rationale = models.TextField(blank=True)
    error = models.TextField(blank=True)
    cost_usd = models.FloatField(null=True, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    worker_host = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "item", "order"], name="one_judgement_per_item_order")]
