import uuid

from django.conf import settings
from django.db import models


class GatewayRequest(models.Model):
    """One request through the gateway: the decision log's row, and the spend it reserved then settled."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Answered"
        FAILED = "failed", "Failed"

    class Fallback(models.TextChoices):
        NONE = "", "None"
        SLM_FAILED = "slm_failed", "The small model failed: the large model answered"
        LLM_FAILED = "llm_failed", "The large model failed: the small model's draft was returned"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gateway_requests")
    api_token = models.ForeignKey("tokens.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="gateway_requests")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    model_asked = models.CharField(max_length=200)
    # The version that answered (a recalibration adds a version; this row keeps pointing at its own).
    policy = models.ForeignKey("hybrid.HybridPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="gateway_requests")
    policy_family = models.UUIDField(null=True, blank=True, db_index=True)
    routed_model = models.CharField(max_length=100, blank=True)
    escalated = models.BooleanField(null=True)
    fallback = models.CharField(max_length=12, choices=Fallback.choices, blank=True, default="")
    confidence = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    stream = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    error = models.CharField(max_length=300, blank=True)
    # Latency parts (ms): the draft (the SLM's whole answer), the answering model's first token and
    # whole answer, and the request's total as the gateway saw it.
    draft_ms = models.PositiveIntegerField(null=True, blank=True)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost_usd = models.FloatField(default=0.0)
    # What the LLM alone would have cost, for "cost against LLM-only" (estimated from its prices when it did not answer).
    llm_only_cost_usd = models.FloatField(null=True, blank=True)
    # Worst case while running, counted against the budget until the request settles.
    reserved_usd = models.FloatField(default=0.0)
    shadowed = models.BooleanField(default=False)
    # Only when the policy's owner turned text logging on (HybridPolicy.log_text); empty otherwise.
    prompt = models.TextField(blank=True)
    answer = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["policy_family", "created_at"], name="gateway_req_family_time"),
                   models.Index(fields=["api_token", "created_at"], name="gateway_req_token_time")]
