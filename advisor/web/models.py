import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from .json_output import OrjsonEncoder


class Recommendation(models.Model):
    """An advisor answer, saved under a shareable URL with the answers that produced it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    answers = models.JSONField(encoder=OrjsonEncoder)
    result = models.JSONField(encoder=OrjsonEncoder)
    verdict = models.CharField(max_length=10)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    # The read-only share link's secret (recommendation_share); null: private to its owner.
    share_token = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # What would flip the verdict (flips.what_would_flip), worked out once: it re-runs the advisor
    # dozens of times. `flips_at` says when, since the catalogue may change after.
    flips = models.JSONField(null=True, blank=True, encoder=OrjsonEncoder)
    flips_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # A lead's own list (/recommendations/) reads by owner, newest first.
        indexes = [models.Index(fields=["created_by", "-created_at"], name="recommendation_owner_newest")]

    def __str__(self) -> str:
        return f"{self.verdict} for {self.answers.get('task')}"

    @property
    def title(self) -> str:
        """How the lead's list and the trials that checked it name it: "SLM for Customer support"."""
        from .forms import LABELS

        task = self.answers.get("task")
        return f"{self.verdict.upper()} for {LABELS.get(task, task) or 'a task'}"

    def get_absolute_url(self) -> str:
        return reverse("recommendation", args=[self.id])

    def get_share_url(self) -> str | None:
        return reverse("shared-recommendation", args=[self.share_token]) if self.share_token else None
