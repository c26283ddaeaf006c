from celery.signals import worker_ready


@worker_ready.connect
def sweep_runs_of_dead_workers(**kwargs):
    # A worker that starts after a crash finds the runs its predecessor left "running".
    from .services import runs_sweep

    runs_sweep()
