"""Before a hub model is fetched: is the hub reachable at all? Without network, the hub's
client retries for about a minute before it fails; one short connection attempt tells first,
and then only the local cache is read (a model cached earlier still loads)."""

from __future__ import annotations

import logging
import os
import socket
from urllib.parse import urlparse

log = logging.getLogger(__name__)
PROBE_SECONDS = 3.0


def hub_host() -> tuple[str, int]:
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    return endpoint.hostname or "huggingface.co", endpoint.port or 443


def reachable(timeout: float = PROBE_SECONDS) -> bool:
    try:
        socket.create_connection(hub_host(), timeout=timeout).close()
    except OSError:
        return False
    return True


def offline_unless_reachable(model_id: str) -> None:
    """Switch the hub client to its local cache when the hub cannot be reached."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or reachable():
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import huggingface_hub.constants as constants

        constants.HF_HUB_OFFLINE = True
    except ImportError:
        pass
    log.warning("the model hub is unreachable: %s is read from the local cache only", model_id)
