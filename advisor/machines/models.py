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

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return self.name
