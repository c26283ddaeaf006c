"""A pytest plugin: SIGTERM stops the run as Ctrl-C does, so fixtures still tear down.

Without it, a pytest stopped by SIGTERM (a CI timeout, `kill`) exits at once: the Celery worker,
the loopback server and Chromium that session fixtures started keep running, holding memory and
writing into the data folder the next run uses.
"""

from advisor.processes import interrupt_on_sigterm


def pytest_configure(config):
    interrupt_on_sigterm()
