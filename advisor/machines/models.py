from django.db import models


class Worker(models.Model):
    """A Celery worker as it last reported itself: alive while `last_seen_at` is recent."""

    name = models.CharField(max_length=200, unique=True, help_text="Celery's node name, e.g. celery@host.")
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField(null=True, blank=True)
    queues = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    # What the worker measured of its machine when it started: cores, RAM, GPU, memory bandwidth.
    machine = models.JSONField(default=dict, blank=True)
    # What it can run, as its last beat said (checked in its own environment: weights present, API key
    # set, runtime installed): {model slug: null when it can, [reason, fix] when it cannot}.
    models = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return self.name


class SpeedSample(models.Model):
    """One measured local decode speed on one machine: what the speed estimate is calibrated on."""

    class Source(models.TextChoices):
        TRIAL = "trial", "a trial run"
        CALIBRATION = "calibration", "a calibration run (prepare_models)"

    created_at = models.DateTimeField(auto_now_add=True)
    hostname = models.CharField(max_length=200)
    model = models.ForeignKey("catalogue.LanguageModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="speed_samples")
    runtime = models.CharField(max_length=30)
    precision = models.CharField(max_length=10)
    # GB read per generated token (parameters × bytes per parameter at the precision) and the
    # machine's measured bandwidth when it ran: the two inputs of the estimate.
    gb_per_token = models.FloatField()
    bandwidth_gbs = models.FloatField()
    tokens_per_s = models.FloatField()
    predicted_tokens_per_s = models.FloatField(null=True, blank=True)  # before this sample was added
    output_tokens = models.PositiveIntegerField()
    source = models.CharField(max_length=20, choices=Source.choices)
    trial_run = models.ForeignKey("trials.TrialRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["hostname", "runtime"])]

    def __str__(self) -> str:
        return f"{self.model_id} {self.runtime} {self.precision}: {self.tokens_per_s} tokens/s on {self.hostname}"
