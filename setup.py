"""Packaging that pyproject.toml's static tables cannot say: the repository's templates/ folder
(the fixed layout keeps it at the root) ships as the package `flowc_templates`, which
compiler.compute.container reads with importlib.resources, next to the packages found under
compiler/ and runtime_shim/. Works for wheels and editable installs alike."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["compiler", "compiler.*", "runtime_shim", "runtime_shim.*"]) + ["flowc_templates"],
    package_dir={"flowc_templates": "templates"},
)
