"""Shared fixtures: the assignments and their reference graphs, built once per
test session into a private cache so the tests never touch the user's cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "data" / "cases"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    if "GRADER_CACHE" not in os.environ:
        os.environ["GRADER_CACHE"] = str(tmp_path_factory.getbasetemp().parent / "grader-cache")
    yield


@pytest.fixture(scope="session")
def assignment():
    from grader.assignment import load

    return load()


@pytest.fixture(scope="session")
def variant():
    from grader.assignment import VARIANT_PATH, load

    return load(VARIANT_PATH)


@pytest.fixture(scope="session")
def ref_graph(assignment):
    from grader.check import reference_graph

    return reference_graph(assignment)


@pytest.fixture(scope="session")
def variant_ref_graph(variant):
    from grader.check import reference_graph

    return reference_graph(variant)


@pytest.fixture(scope="session")
def use_sandbox():
    """Grade in bubblewrap as an instructor would; without it (a laptop without
    user namespaces) the grading tests still run, unsandboxed; CI must have it."""
    from grader import sandbox

    st = sandbox.sandbox_status()
    if not st.available and os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the sandbox: {st.reason}")
    return st.available
