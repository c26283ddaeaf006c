import os

from celery import Celery
from kombu import Queue

from advisor.broker_files import use_atomic_filesystem_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
use_atomic_filesystem_transport()

app = Celery("advisor")
app.config_from_object("django.conf:settings", namespace="CELERY")
# With no -Q a worker consumes both queues; `-Q local` places local-model runs on GPU machines.
# Each queue has its own routing key: without one both took the default key ("api"), so anything
# routing by exchange and key delivered a local run to both queues.
app.conf.task_queues = [Queue("local", routing_key="local"), Queue("api", routing_key="api")]
app.autodiscover_tasks()
