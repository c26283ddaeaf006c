import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from advisor.hybrid.cascade import DEFAULT_SIGNAL


class HybridPolicy(models.Model):
    """A calibrated cascade: the SLM answers, the LLM takes over when the SLM's confidence
    (`signal`) is under `threshold`. Saved from a calibration; the live hybrid column and the
    gateway (`policy/<id or name>`) use it.

    Each row is one version of a policy: a recalibration adds a row with the next `version` and the
    same `family` (the first version's id, which is the policy's id), and the old rows are kept so a
    decision log can say which version answered."""

    class TargetKind(models.TextChoices):
        LLM_SHARE = "llm_share", "Share of requests sent to the large model"
        QUALITY = "quality", "Share of the large model's quality to keep"
        MONTHLY_BUDGET = "monthly_budget", "Monthly budget (USD) at a daily volume"
        THRESHOLD = "threshold", "A threshold set by hand"
        MISS_RATE = "miss_rate", "Share of requests the small model gets wrong and keeps (95 % bound)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    family = models.UUIDField(db_index=True, editable=False, null=True)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=80, blank=True, help_text="How the gateway's callers name it: policy/<name>.")
    # The gateway's settings, carried to each new version. Off by default: a policy's traffic is private.
    log_text = models.BooleanField(default=False, help_text="Keep the prompts and answers of gateway requests in the decision log.")
    shadow_share = models.FloatField(default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
                                     help_text="Share of the requests the SLM kept that the LLM also answers, for blind review.")
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
    # The advice it was calibrated for: its source evaluation's, kept if that evaluation goes.
    recommendation = models.ForeignKey("web.Recommendation", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="hybrid_policies")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "hybrid policies"
        constraints = [models.UniqueConstraint(fields=["family", "version"], name="hybrid_policy_family_version")]

    def __str__(self) -> str:
        label = f"{self.name} v{self.version}: " if self.name else ""
        return f"{label}{self.slm} → {self.llm} under {self.threshold:.2f}"

    def save(self, *args, **kwargs):
        if self.family is None:
            self.family = self.id
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        """`<id>@v<version>`: the policy (its first version's id) and the version that answered."""
        return f"{self.family}@v{self.version}"

