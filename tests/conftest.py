import os

# Unit tests compile many small XLA programs and run each for milliseconds, so compilation dominates the suite:
# skip LLVM's expensive optimizations (the same programs, compiled ~35% faster; results agree to rounding).
# Set before jax creates its CPU backend; appended to any XLA_FLAGS of the caller. Notebooks are not affected.
os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), "--xla_backend_optimization_level=0",
                                    "--xla_llvm_disable_expensive_passes=true"]).strip()
# The tests' matrices are small: a second OpenBLAS thread only spins (set before numpy is imported).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)


@pytest.fixture(autouse=True)
def _no_records(monkeypatch):
    """Unit tests never write into a real records folder unless they ask to."""
    monkeypatch.delenv("LMTHEORY_RECORDS", raising=False)
    monkeypatch.delenv("LMTHEORY_SEED", raising=False)
    monkeypatch.delenv("LMTHEORY_SCALE", raising=False)
