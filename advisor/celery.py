import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")

app = Celery("advisor")
app.config_from_object("django.conf:settings", namespace="CELERY")
# With no -Q a worker consumes both queues; `-Q local` places local-model runs on GPU machines.
app.conf.task_queues = [Queue("local"), Queue("api")]
app.autodiscover_tasks()
