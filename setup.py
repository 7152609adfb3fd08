"""The package list, which pyproject.toml cannot express: every ``grader*``
package found in ``grader/``, plus the repository's ``reference/`` folder (the
assignment files, which stay at the top of the repository for instructors to
read and copy) installed inside the grader as ``grader.assignments``."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["grader", "grader.*"]), "grader.assignments"],
    package_dir={"grader.assignments": "reference"},
)
