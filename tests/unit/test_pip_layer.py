import pytest
from aws_cdk import aws_lambda as lambda_

from headless_commerce.constructs.pip_layer import LayerBuildError, PipLayer, build_layer

from .helpers import new_stack


def test_unpinned_requirements_are_refused():
    stack, _ = new_stack()
    with pytest.raises(ValueError, match="pin every requirement with ==, got requests"):
        PipLayer(stack, "Layer", requirements=["requests", "six==1.17.0"], description="x",
                 compatible_runtimes=[lambda_.Runtime.PYTHON_3_14],
                 compatible_architectures=[lambda_.Architecture.ARM_64])


def test_failed_build_names_the_requirements_and_leaves_no_cache(tmp_path):
    with pytest.raises(LayerBuildError, match="could not build the layer"):
        build_layer([str(tmp_path / "missing-1.0-py3-none-any.whl")], cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_build_is_cached(tmp_path):
    wheel_dir = tmp_path / "pkg"
    (wheel_dir / "tinylib").mkdir(parents=True)
    (wheel_dir / "tinylib" / "__init__.py").write_text("VALUE = 1\n")
    (wheel_dir / "pyproject.toml").write_text(
        '[build-system]\nrequires=["setuptools"]\nbuild-backend="setuptools.build_meta"\n'
        '[project]\nname="tinylib"\nversion="1.0"\n')
    first = build_layer([str(wheel_dir)], cache_dir=tmp_path / "cache")
    assert (first / "python" / "tinylib" / "__init__.py").exists()
    (first / "python" / "marker").write_text("kept")
    assert build_layer([str(wheel_dir)], cache_dir=tmp_path / "cache") == first
    assert (first / "python" / "marker").read_text() == "kept"


def test_wheels_target_the_lambda_runtime_not_the_build_machine():
    from headless_commerce.constructs.pip_layer import target_platform

    assert target_platform(lambda_.Runtime.PYTHON_3_14, lambda_.Architecture.ARM_64) == (
        "--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.14")
    assert "manylinux2014_x86_64" in target_platform(lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.X86_64)
    stack, _ = new_stack()
    with pytest.raises(ValueError, match="one runtime and one architecture"):
        PipLayer(stack, "Two", requirements=["six==1.17.0"], description="x",
                 compatible_runtimes=[lambda_.Runtime.PYTHON_3_13, lambda_.Runtime.PYTHON_3_14],
                 compatible_architectures=[lambda_.Architecture.ARM_64])
