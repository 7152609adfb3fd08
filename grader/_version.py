"""The grader's version: one place, read by setuptools (``pyproject.toml``) and
by every module that reports it, none of which then imports the package root."""

__version__ = "0.1.0"
