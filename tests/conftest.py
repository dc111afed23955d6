import jax
import pytest

jax.config.update("jax_enable_x64", True)


@pytest.fixture(autouse=True)
def _no_records(monkeypatch):
    """Unit tests never write into a real records folder unless they ask to."""
    monkeypatch.delenv("LMTHEORY_RECORDS", raising=False)
    monkeypatch.delenv("LMTHEORY_SEED", raising=False)
    monkeypatch.delenv("LMTHEORY_SCALE", raising=False)
