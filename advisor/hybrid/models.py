import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from advisor.hybrid.cascade import DEFAULT_SIGNAL


class HybridPolicy(models.Model):
    """A calibrated cascade: the SLM answers, the LLM takes over when the SLM's confidence
    (`signal`) is under `threshold`. Saved from a calibration; the live hybrid column uses it."""

    class TargetKind(models.TextChoices):
        LLM_SHARE = "llm_share", "Share of requests sent to the large model"
        QUALITY = "quality", "Share of the large model's quality to keep"
        MONTHLY_BUDGET = "monthly_budget", "Monthly budget (USD) at a daily volume"
        MISS_RATE = "miss_rate", "Share of requests the small model gets wrong and keeps (95 % bound)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hybrid_policies")
    slm = models.ForeignKey("catalogue.LanguageModel", on_delete=models.PROTECT, related_name="+")
    llm = models.ForeignKey("catalogue.LanguageModel", on_delete=models.PROTECT, related_name="+")
    # Which key of a run's confidence (confidence_summary(...)) the threshold applies to. The
    # aggregate's own name, not "score": if `score` is redefined later, a policy calibrated on
    # the old aggregate keeps comparing the number it was calibrated on.
    signal = models.CharField(max_length=40, default=DEFAULT_SIGNAL)
    threshold = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    target_kind = models.CharField(max_length=20, choices=TargetKind.choices)
    target_value = models.FloatField()
    requests_per_day = models.PositiveIntegerField(null=True, blank=True)
    # Calibration.as_figures(): the threshold's figures on the calibration and held-out parts.
    figures = models.JSONField(default=dict, blank=True)
    # The evaluation the votes came from (the suite is its suite). Kept when the evaluation is
    # deleted, as a policy without its source: the threshold still applies.
    source_evaluation = models.ForeignKey("evaluations.Evaluation", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="hybrid_policies")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "hybrid policies"

    def __str__(self) -> str:
        return f"{self.slm} → {self.llm} under {self.threshold:.2f}"

