"""Tests for the package's lazy public API (inference/__init__.py): cheap to import, every name reachable."""

import subprocess
import sys

import pytest

import inference

HEAVY = ("torch", "transformers", "sklearn")


def modules_loaded_by(statement: str) -> list[str]:
    """The heavy libraries a fresh interpreter has imported after running ``statement``."""
    probe = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_importing_the_package_loads_no_heavy_library():
    assert modules_loaded_by("import inference") == []


def test_the_command_line_parses_its_arguments_before_loading_torch():
    assert modules_loaded_by("import inference.batch.cli") == []


def test_the_predictor_leaves_torch_to_the_torch_backend():
    assert "torch" not in modules_loaded_by("from inference import Predictor, predict")
    assert "torch" in modules_loaded_by("from inference.prediction.torch_backend import TorchBackend")


@pytest.mark.parametrize("name", inference.__all__)
def test_every_public_name_is_the_object_its_module_defines(name):
    module = __import__(f"inference.{inference._EXPORTS[name]}", fromlist=[name])
    assert getattr(inference, name) is getattr(module, name)


def test_the_public_names_are_the_lazy_ones():
    assert sorted(inference.__all__) == sorted(inference._EXPORTS)
    assert dir(inference) == list(inference.__all__)


def test_explain_stays_the_function_once_its_module_is_loaded():
    import inference.prediction.explain

    assert callable(inference.explain)
    assert inference.explain is sys.modules["inference.prediction.explain"].explain


def test_an_unknown_name_raises_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no attribute 'Predicter'"):
        inference.Predicter  # noqa: B018
