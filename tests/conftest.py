"""Fixtures that tests of more than one folder use: the app's, the share's."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from helpers import free_port

from sockviz.core import Session, StepArgs, endpoint
from sockviz.share.server import ShareServer


@pytest.fixture
def shared() -> Iterator[tuple[Session, ShareServer, StepArgs]]:
    """A session with its share on an ephemeral port, and the args that point its steps at a free loopback
    port; the share and the session are closed after the test."""
    session = Session()
    share = ShareServer("127.0.0.1", 0)
    share.start()
    where = endpoint("127.0.0.1", str(free_port()), socket.AF_INET)
    share.share(session, where)
    yield session, share, StepArgs(endpoint=where)
    share.stop()
    session.close()
