"""The embedded broker: Celery's filesystem transport, with messages written atomically.

kombu's filesystem channel creates a message file, then locks and writes it. A worker listing the
folder between the two moves the empty file away and dies on it ("Unrecoverable error:
JSONDecodeError"), taking every queued run with it. Here a message is written under a name readers
skip and renamed into place, so a reader sees a whole message or none.
"""

import os
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # readers take only names ending in "<queue>.msg"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def use_atomic_filesystem_transport() -> None:
    """`filesystem://` (the embedded default) resolves to this transport in every process that
    imports the Celery app: the web server that sends runs and the workers that take them."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
