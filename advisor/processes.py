"""Stopping a process this project started (tests, benchmarks): plain Python, no Django."""

import os
import signal
import subprocess


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def interrupt_on_sigterm():
    """Turn SIGTERM (a timeout, `kill`) into KeyboardInterrupt, so `finally` blocks and fixtures'
    teardowns stop what was started, as on Ctrl-C. Returns the handler it replaced."""
    return signal.signal(signal.SIGTERM, _interrupted)


def stop_process(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 20) -> bool:
    """Signal the process (started with start_new_session=True, so it leads its own group) and wait;
    KILL its whole group if it does not exit in time, and any children it left. Returns whether it
    exited on `sig` alone.

    Only the leader is signalled: TERM to a Celery worker's whole group kills its pool processes while
    one holds the pool's queue lock, and the main process then waits on that lock at exit for ever
    (how bench_stream_lag's idle worker came to ignore TERM and QUIT)."""
    exited = True
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            exited = False
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their parent
    except (ProcessLookupError, PermissionError):
        pass
    return exited
