"""The suite's own clean-up: a pytest stopped by SIGTERM stops what its fixtures started."""

import os
import signal
import subprocess
import sys
import textwrap

from .conftest import ROOT, wait_for

INNER = textwrap.dedent("""
    import subprocess, time
    import pytest

    @pytest.fixture(scope="session")
    def started():
        child = subprocess.Popen(["sleep", "300"], start_new_session=True)
        open("child.pid", "w").write(str(child.pid))
        yield
        child.terminate()
        child.wait()

    def test_runs_until_stopped(started):
        time.sleep(300)
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by its parent) has stopped too.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_pytest_stopped_by_sigterm_tears_its_session_fixtures_down(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    inner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django", "-p", "tests.sigterm",
         "-c", os.devnull, "--rootdir", str(tmp_path), "test_inner.py"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    pid_file = tmp_path / "child.pid"
    child = None
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text(), 60, "the inner session's fixture to start its process")
        child = int(pid_file.read_text())
        inner.send_signal(signal.SIGTERM)
        output, _ = inner.communicate(timeout=60)
        assert not alive(child), f"the fixture's process outlived pytest:\n{output}"
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.wait()
        if child and alive(child):
            os.kill(child, signal.SIGKILL)
