"""The spend ledger's rows (advisor/runs/ledger.py): one reservation per model call, or per group of
calls started together (an evaluation's runs, its judge calls), from its start to its end."""

from django.conf import settings
from django.db import models
from django.utils import timezone


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
