"""The worker measures its machine once when it starts and records it on its Worker row.

The heartbeat (advisor/machines/heartbeat.py) owns the row's liveness fields; this writes only
`machine`, creating the row when the heartbeat has not yet.
"""

import logging
import os
import socket

from celery.signals import worker_ready
from django.db import IntegrityError
from django.utils import timezone

log = logging.getLogger(__name__)


@worker_ready.connect
def record_worker_machine(sender=None, **kwargs):
    from .models import Worker
    from .probe import machine_probe

    name = getattr(sender, "hostname", None) or f"celery@{socket.gethostname()}"
    try:
        machine = machine_probe()
    except Exception:  # a probe that fails must not stop the worker
        log.exception("Could not measure this worker's machine")
        return
    from . import heartbeat

    heartbeat.measured_machine.update(machine)
    now = timezone.now()
    if Worker.objects.filter(name=name).update(machine=machine):
        return
    try:
        Worker.objects.create(name=name, hostname=socket.gethostname(), pid=os.getpid(), started_at=now,
                              last_seen_at=now, machine=machine)
    except IntegrityError:  # the heartbeat created it meanwhile
        Worker.objects.filter(name=name).update(machine=machine)
    log.info("Machine: %s, memory bandwidth %s GB/s", machine["description"], machine["bandwidth_gbs"])
