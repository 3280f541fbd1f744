"""deploy/: two app processes behind HAProxy on 127.0.0.1, sticky by cookie (never by address:
a classroom's phones share one address behind NAT), WebSockets through the proxy. Skips where
HAProxy is not installed (.ci/run installs it)."""

import asyncio
import urllib.request
from pathlib import Path

import pytest

from bench.protocol import ProtocolVisitor
from deploy.replicas import CONFIG, HAPROXY, Replicas, haproxy_config

needs_haproxy = pytest.mark.skipif(not Path(HAPROXY).is_file(),
                                   reason=f"HAProxy is not installed ({HAPROXY}); .ci/run installs it")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with Replicas(2, log_dir=tmp_path_factory.mktemp("replicas")) as running:
        yield running


def get(url: str, cookie: str | None = None) -> tuple[str | None, str, bytes]:
    """(the proxy's sticky cookie, when it set one; the replica that answered; the body)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        sticky = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [] if c.startswith("VAE_REPLICA=")]
        return (sticky[0] if sticky else None), response.headers["X-VAE-Replica"], response.read()


def test_the_config_has_one_server_per_process_and_cookie_stickiness():
    text = haproxy_config([8501, 8502])
    assert text.startswith(CONFIG.read_text())
    assert text.endswith("    server r1 127.0.0.1:8501 cookie r1 check inter 2s\n"
                         "    server r2 127.0.0.1:8502 cookie r2 check inter 2s\n")
    assert "cookie VAE_REPLICA insert indirect nocache" in text and "balance source" not in text
    assert "timeout tunnel" in text  # WebSockets outlive the HTTP timeouts


@needs_haproxy
def test_first_visits_from_one_address_spread_over_the_processes(site):
    first = [get(site.url + "/") for _ in range(4)]  # one address (127.0.0.1), like phones behind NAT
    replicas = [replica for _, replica, _ in first]
    assert sorted(replicas) == ["r1", "r1", "r2", "r2"] and replicas[0] != replicas[1]  # in turn
    assert [cookie for cookie, _, _ in first] == [f"VAE_REPLICA={r}" for r in replicas]  # each told where it is
    assert b"<title>" in first[0][2]


@needs_haproxy
def test_a_visitor_stays_with_its_process(site):
    for cookie in ("VAE_REPLICA=r2", "VAE_REPLICA=r1"):
        answers = [get(site.url + path, cookie) for path in ("/", "/_stcore/health", "/_stcore/host-config") * 3]
        assert {replica for _, replica, _ in answers} == {cookie.rsplit("=", 1)[1]}
        assert all(sticky is None for sticky, _, _ in answers)  # already placed: no new cookie


@needs_haproxy
def test_the_app_runs_over_a_websocket_through_the_proxy(site):
    async def visit(cookie):
        async with ProtocolVisitor(site.url, "through the proxy", cookie=cookie) as visitor:
            await visitor.run_page(None, timeout=120)
            await visitor.run_page("Train", timeout=120)
            return visitor

    for cookie in ("VAE_REPLICA=r1", "VAE_REPLICA=r2"):
        visitor = asyncio.run(visit(cookie))
        assert visitor.errors == [] and "train_start" in visitor.widgets
        assert visitor.text_with("Train your own model")


def test_a_missing_proxy_is_one_sentence(tmp_path):
    with pytest.raises(FileNotFoundError) as missing:
        Replicas(2, haproxy=str(tmp_path / "haproxy"))
    assert str(missing.value) == f"HAProxy is not installed ({tmp_path / 'haproxy'} is missing): apt-get install haproxy"
