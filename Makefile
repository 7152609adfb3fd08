# Two commands on a fresh machine: `make grade` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
JOBS    ?= 2

.PHONY: grade test setup sysdeps bench clean

# [cpu]: a fresh venv has no TensorFlow, so it takes the extra that brings one
# (tensorflow-cpu on Linux x86-64, tensorflow elsewhere). The uninstall drops
# this project's former distribution name from a venv made before the rename.
$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip uninstall -q -y grader >/dev/null 2>&1 || true
	$(PY) -m pip install -q -e '.[cpu,test]'
	@touch $(STAMP)

setup: $(STAMP) sysdeps

sysdeps:
	@bash scripts/sysdeps.sh

# Grade every sample in submissions/ into reports/.
grade: setup
	$(VENV)/bin/grader batch submissions --out reports
	@echo "Open reports/index.html (class overview) and reports/<id>/report.html (each student)."

# The whole test suite.
test: setup
	$(VENV)/bin/pytest -n $(JOBS) -q

# Speed figures (not a test): see benchmarks/README.md.
bench: setup
	$(PY) benchmarks/bench_batch.py

clean:
	find reports -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .pytest_cache tests/artifacts
