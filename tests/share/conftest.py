"""The share's tests' fixture: a session and its share, on real loopback sockets."""

from __future__ import annotations

import socket

import pytest
from helpers import free_port

from sockviz.core import Session, StepArgs, endpoint
from sockviz.share.server import ShareServer


@pytest.fixture
def shared():
    """A session with its share on an ephemeral port; both closed after the test."""
    session = Session()
    share = ShareServer("127.0.0.1", 0)
    share.start()
    where = endpoint("127.0.0.1", str(free_port()), socket.AF_INET)
    share.share(session, where)
    yield session, share, StepArgs(endpoint=where)
    share.stop()
    session.close()
