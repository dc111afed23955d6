import jax
import pytest

import lmtheory as lmt


def test_defaults_and_environment_overrides(monkeypatch):
    run = lmt.setup("c", seed=5)
    assert (run.seed, run.scale) == (5, "ci")
    monkeypatch.setenv("LMTHEORY_SEED", "123")
    monkeypatch.setenv("LMTHEORY_SCALE", "full")
    run = lmt.setup("c", seed=5)
    assert (run.seed, run.scale, run.pick(ci=1, full=2)) == (123, "full", 2)


def test_run_id_is_shared_through_the_environment(monkeypatch):
    monkeypatch.setenv("LMTHEORY_RUN_ID", "build-42")
    assert lmt.setup("a").run_id == lmt.setup("b").run_id == "build-42"


@pytest.mark.parametrize("var,value", [("LMTHEORY_SEED", "-1"), ("LMTHEORY_SEED", "abc"),
                                       ("LMTHEORY_SCALE", "huge")])
def test_bad_environment_is_rejected(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=var):
        lmt.setup("c")


def test_bad_run_arguments():
    with pytest.raises(ValueError):
        lmt.Run("", 0)
    with pytest.raises(ValueError):
        lmt.Run("c", -2)
    with pytest.raises(ValueError):
        lmt.Run("c", 0, scale="medium")


def test_key_is_deterministic_in_the_seed():
    a, b = lmt.Run("c", 7).key, lmt.Run("c", 7).key
    assert (jax.random.key_data(a) == jax.random.key_data(b)).all()
    assert not (jax.random.key_data(a) == jax.random.key_data(lmt.Run("c", 8).key)).all()


def test_progress_is_a_plain_iterator():
    assert list(lmt.progress([1, 2], desc="x", disable=True)) == [1, 2]
