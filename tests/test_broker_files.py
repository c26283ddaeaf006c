"""The embedded broker writes each message whole before a worker can see it (advisor/broker_files.py)."""

from pathlib import Path

import pytest
from kombu import Connection
from kombu.transport import filesystem

from advisor import broker_files


@pytest.fixture
def channel(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": True,
               "processed_folder": str(tmp_path)}
    with Connection("filesystem://", transport_options=options) as connection:
        yield connection.default_channel, folder


def messages_seen_while_writing(monkeypatch, module, channel, folder) -> list[str]:
    """Names a worker listing the folder would find while the message is being written."""
    seen = []
    real = module.str_to_bytes

    def encode_and_look(text):
        seen.extend(path.name for path in Path(folder).iterdir() if path.name.endswith(".msg"))
        return real(text)

    monkeypatch.setattr(module, "str_to_bytes", encode_and_look)
    channel._put("local", {"run": 1})
    return seen


def test_filesystem_urls_use_the_atomic_transport(channel):
    assert isinstance(channel[0], broker_files.Channel)


def test_a_worker_never_sees_a_message_before_it_is_written(monkeypatch, channel):
    channel, folder = channel
    assert messages_seen_while_writing(monkeypatch, broker_files, channel, folder) == []
    assert channel._get("local") == {"run": 1}


def test_kombus_own_channel_shows_a_message_before_it_is_written(monkeypatch, channel):
    """Why the transport is ours: kombu's channel creates the file, then writes it, and a worker
    that takes the empty file dies on it."""
    channel, folder = channel
    seen = messages_seen_while_writing(monkeypatch, filesystem, super(broker_files.Channel, channel), folder)
    assert len(seen) == 1
