"""pytest fixtures around ``CtgovTestServer``; import them into a test module or conftest.py::

    from tests.support.ctgov_fixtures import ctgov_server, ctgov_studies, make_ctgov_server  # noqa: F401
"""
from __future__ import annotations

import pytest

from .ctgov_server import CtgovTestServer, load_fixture_studies


@pytest.fixture(scope="session")
def ctgov_studies() -> list[dict]:
    """The ~170 ClinicalTrials.gov v2 fixture studies (dicts), in NCT id order."""
    return load_fixture_studies()


@pytest.fixture
def make_ctgov_server(ctgov_studies):
    """Factory: ``make_ctgov_server(studies=None, faults=None, **kw)`` -> a started server,
    stopped at teardown (``studies`` defaults to the fixture studies)."""
    servers: list[CtgovTestServer] = []

    def make(studies=None, faults=None, **kw) -> CtgovTestServer:
        srv = CtgovTestServer(ctgov_studies if studies is None else studies, faults, **kw).start()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.stop()


@pytest.fixture
def ctgov_server(make_ctgov_server) -> CtgovTestServer:
    """A started fault-free server over the fixture studies (``srv.set_faults`` to script faults)."""
    return make_ctgov_server()
