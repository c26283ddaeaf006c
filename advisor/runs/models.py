"""What every kind of run stores: the measured-run base (`MeasuredRun`, the fields trial runs and
evaluation runs share), and the spend ledger's rows (advisor/runs/ledger.py): one reservation per
model call, or per group of calls started together (an evaluation's runs, its judge calls)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class MeasuredRun(models.Model):
    """One model call's row as a worker claims, streams into and finishes it: the worker holding it
    (`worker_host` + `worker_pid`, written by the claim), the text so far, and the measured figures,
    written once, when it ends (`measured_fields`)."""

    METRICS = ("output", "ttft_ms", "total_ms", "input_tokens", "output_tokens", "tokens_per_s", "cost_usd", "cost_basis", "confidence")

    output = models.TextField(blank=True)
    error = models.TextField(blank=True)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    tokens_per_s = models.FloatField(null=True, blank=True)
    cost_usd = models.FloatField(null=True, blank=True)
    cost_basis = models.CharField(max_length=200, blank=True)
    # runners.confidence.confidence_summary() of the generated tokens; null where the runtime gives none.
    confidence = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker_host = models.CharField(max_length=200, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @classmethod
    def measured_fields(cls, measured) -> dict:
        """The figures of a finished call (an execution.Measurement), as the row stores them."""
        return {name: getattr(measured, name) for name in cls.METRICS}


class SpendKind(models.TextChoices):
    TRIAL_RUN = "trial_run", "a trial run"
    HYBRID_ESCALATION = "hybrid_escalation", "a hybrid column's large model"
    EVALUATION = "evaluation", "an evaluation's runs"
    JUDGE = "judge", "an evaluation's judge calls"
    GATEWAY = "gateway", "a gateway request"


class SpendReservation(models.Model):
    """At start `reserved_usd` is the call's worst case at catalogue prices; `spent_usd` grows with
    what the calls really cost; once `settled_at` is set only `spent_usd` counts."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=SpendKind.choices)
    # What the reservation is for, e.g. "trials.trialrun:12" or "evaluations.evaluation:<uuid>".
    subject = models.CharField(max_length=100)
    model_slug = models.CharField(max_length=100, blank=True)
    reserved_usd = models.FloatField()
    spent_usd = models.FloatField(default=0.0)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "created_at"])]
        constraints = [models.UniqueConstraint(fields=["subject", "kind"], name="one_reservation_per_subject_and_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}: ${self.spent_usd:.4f} of ${self.reserved_usd:.4f}"
