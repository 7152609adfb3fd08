"""The grader as a new user installs it, outside this repository: a fresh venv,
the grader's own wheel from the Gradescope zip, pip's real resolver, PyPI.

One story in one test (its steps build on each other, so it must not be split
across xdist workers):

1. ``grader gradescope --zip`` builds the zip with the running grader's wheel.
2. pip's own resolver (``--dry-run --report``, in a fresh venv) installing the
   grader together with the real ``tensorflow`` distribution, as in Colab: no
   second TensorFlow distribution (the old dependency on ``tensorflow-cpu`` would
   show up here); only the ``[cpu]`` extra would add one.  The dry run reads
   PyPI's metadata only, without the 570 MB download.
3. The fresh venv gets the wheel alone (Keras and the rest, no TensorFlow): every
   command that needs TensorFlow says which extra to install; the others work.
4. The venv gets a TensorFlow of its own first (``tensorflow-cpu``, what
   ``make setup`` installs here), then the zip's ``setup.sh`` installs the
   grader from the zip: still one TensorFlow; the venv grades a submission, and
   the zip's ``run_autograder`` writes Gradescope's results.json.
5. ``grader gradescope`` run from that (non-editable) installation packs its
   wheel from the installed files: the same package files as the original.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from grader import __version__
from grader.dist import DISTRIBUTION
from grader.tfenv import TF_DISTRIBUTIONS

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "cases"
GRADER = [sys.executable, "-m", "grader.cli"]


def _tf_version() -> str:
    for name in TF_DISTRIBUTIONS:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    pytest.fail("the test environment has no TensorFlow (make setup installs the [cpu] extra)")


def _run(cmd, *, env=None, timeout=900, cwd=None, check=True) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    e.update(NO_COLOR="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **(env or {}))
    p = subprocess.run([str(c) for c in cmd], env=e, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check:
        assert p.returncode == 0, (cmd, p.stdout[-3000:], p.stderr[-3000:])
    return p


def _dists(python: Path) -> dict[str, str]:
    code = ("import json, importlib.metadata as m; "
            "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version for d in m.distributions()}))")
    return json.loads(_run([python, "-I", "-c", code]).stdout)  # -I: the checkout's *.egg-info is not on the path


def _dry_run(python: Path, specs: list[str], report: Path) -> list[dict]:
    _run([python, "-m", "pip", "install", "--dry-run", "--quiet", "--report", report, *specs])
    return json.loads(report.read_text())["install"]


def _installed_here() -> set[str]:
    return {d.metadata["Name"].lower().replace("_", "-") for d in metadata.distributions()}


def _names(items: list[dict]) -> set[str]:
    return {i["metadata"]["name"].lower().replace("_", "-") for i in items}


def _package_files(wheel: bytes) -> dict[str, bytes]:
    import io

    with zipfile.ZipFile(io.BytesIO(wheel)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.split("/")[0].endswith(".dist-info")}


def test_fresh_venv_from_the_gradescope_zip_on_top_of_tensorflow(tmp_path):
    # 1. the zip, built by the running (editable) grader from its source tree
    zpath = tmp_path / "autograder.zip"
    p = _run(GRADER + ["gradescope", "--zip", "--out", zpath])
    assert "source tree" in p.stdout
    src = tmp_path / "source"  # where Gradescope unpacks it: /autograder/source
    with zipfile.ZipFile(zpath) as zf:
        zf.extractall(src)
    wheels = sorted(src.glob("*.whl"))
    assert [w.name for w in wheels] == [f"keras_arch_grader-{__version__}-py3-none-any.whl"]
    wheel = wheels[0]
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    # only `grader` at the top of site-packages: the architectures and the assignment
    # files install inside it (no generic `reference` package to shadow a course's own)
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"grader"}
    assert {"grader/architectures/googlenet/model.py", "grader/architectures/googlenet/table1.csv",
            "grader/assignments/assignment.toml", "grader/assignments/resnet50.toml"} <= set(names)
    for script in ("setup.sh", "run_autograder"):
        (src / script).chmod(0o755)
        assert "pip install grader" not in (src / script).read_text()

    # 2. pip's resolver, in a fresh venv: the grader beside the real `tensorflow` distribution
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])
    py, grader = venv / "bin" / "python", venv / "bin" / "grader"
    tf = f"tensorflow=={_tf_version()}"
    plan = _dry_run(py, [tf, str(wheel)], tmp_path / "plain.json")
    names = _names(plan)
    assert {DISTRIBUTION, "tensorflow", "keras"} <= names
    assert [d for d in TF_DISTRIBUTIONS if d in names] == ["tensorflow"], sorted(names)  # no second TensorFlow
    ours = next(i for i in plan if i["metadata"]["name"].lower().replace("_", "-") == DISTRIBUTION)
    assert ours["download_info"]["url"] == wheel.as_uri()  # from the zip, no index
    if sys.platform == "linux" and os.uname().machine == "x86_64":
        # what the [cpu] extra is for (a bare machine), and what it would do here:
        # the resolver's report does show a second TensorFlow when one is pulled
        cpu = _names(_dry_run(py, [tf, f"{wheel}[cpu]"], tmp_path / "cpu.json"))
        assert {"tensorflow", "tensorflow-cpu"} <= cpu

    # 3. the grader's wheel alone: Keras and the rest, no TensorFlow
    _run([py, "-m", "pip", "install", "--quiet", wheel])
    have = _dists(py)
    assert have[DISTRIBUTION] == __version__ and "keras" in have
    assert not set(have) & set(TF_DISTRIBUTIONS), sorted(have)
    assert _run([grader, "--version"]).stdout.strip() == f"grader {__version__} ({DISTRIBUTION})"
    shutil.copy(CASES / "fails_stride_conv2.py", tmp_path / "alice.py")
    for args in (["check", tmp_path / "alice.py"], ["reference"], ["trace", tmp_path / "alice.py"],
                 ["batch", tmp_path, "--out", tmp_path / "out"]):
        q = _run([grader, *args], check=False)
        assert q.returncode == 2, (args, q.stdout, q.stderr)
        assert "TensorFlow is not installed" in q.stderr and f"pip install '{DISTRIBUTION}[cpu]'" in q.stderr, q.stderr
    # commands that need no TensorFlow still work
    _run([grader, "init-ci", "--repo", tmp_path / "repo"])
    assert f"{DISTRIBUTION}[cpu]=={__version__}" in (tmp_path / "repo" / ".github/workflows/grader.yml").read_text()

    # 4. a TensorFlow first (the one `make setup` brings on this platform), then the zip's setup.sh
    _run([py, "-m", "pip", "uninstall", "--quiet", "-y", DISTRIBUTION])
    own_tf = next(d for d in TF_DISTRIBUTIONS if d in _installed_here())
    _run([py, "-m", "pip", "install", "--quiet", f"{own_tf}=={_tf_version()}"])
    before = _dists(py)
    assert [d for d in TF_DISTRIBUTIONS if d in before] == [own_tf]
    p = _run(["bash", src / "setup.sh"], env={"GRADER_VENV": str(venv), "GRADER_NO_APT": "1"})
    assert p.stdout.strip().splitlines()[-1] == f"grader {__version__} ({DISTRIBUTION})"
    after = _dists(py)
    assert [d for d in TF_DISTRIBUTIONS if d in after] == [own_tf], sorted(after)
    assert after[own_tf] == before[own_tf] and after[DISTRIBUTION] == __version__
    url = json.loads(_run([py, "-I", "-c", "import importlib.metadata as m; "
                                     f"print(m.distribution('{DISTRIBUTION}').read_text('direct_url.json'))"]).stdout)
    assert url["url"] == wheel.as_uri()
    # ... and grades a submission there
    q = _run([grader, "check", tmp_path / "alice.py", "--json", tmp_path / "alice.json", "--out", tmp_path / "r"],
             check=False)
    assert q.returncode == 1, q.stdout + q.stderr
    rep = json.loads((tmp_path / "alice.json").read_text())
    roots = [(f["code"], f["location"]) for f in rep["findings"] if f["caused_by"] is None and f["severity"] == "error"]
    assert roots == [("strides", "conv2/3x3")] and rep["score"] == 90 and rep["grader_version"] == __version__
    # the zip's run_autograder, with the grader setup.sh installed
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(CASES / "fails_stride_conv2.py", root / "submission" / "googlenet.py")
    runner = tmp_path / "run_autograder"
    runner.write_text((src / "run_autograder").read_text().replace("/autograder", str(root)))
    runner.chmod(0o755)
    _run([runner], env={"GRADER_VENV": str(venv)})
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 90 and results["extra_data"]["grader_version"] == __version__
    assert any("strides" in t["output"] and "conv2/3x3" in t["output"] for t in results["tests"])

    # 5. the installed (non-editable) grader packs its own wheel from its installed files
    p = _run([grader, "gradescope", "--zip", "--out", tmp_path / "again.zip"])
    assert "installed files" in p.stdout
    with zipfile.ZipFile(tmp_path / "again.zip") as zf:
        again = zf.read(wheel.name)
    assert _package_files(again) == _package_files(wheel.read_bytes())
    # ... and that wheel installs and runs like the original
    (tmp_path / "w2").mkdir()
    (tmp_path / "w2" / wheel.name).write_bytes(again)
    _run([py, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", tmp_path / "w2" / wheel.name])
    assert _run([grader, "--version"]).stdout.strip() == f"grader {__version__} ({DISTRIBUTION})"
