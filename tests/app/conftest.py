"""Fixtures of the AppTest suites: the app opened on its first page."""

import pytest
from streamlit.testing.v1 import AppTest

from helpers.data import MNIST_DIR, ROOT, has_mnist


@pytest.fixture
def app(monkeypatch):
    monkeypatch.chdir(ROOT)
    if has_mnist:
        monkeypatch.setenv("VAE_DATA_DIR", str(MNIST_DIR))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
