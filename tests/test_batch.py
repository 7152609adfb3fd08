"""`grader batch` and `grader merge`: real batches over real fixtures, no mocks.

Every grade starts TensorFlow in a sandboxed child (3-5 s), so the file grades
few submissions: one class of eight (run once, reused by most tests), a subset
of four for interrupt/kill/resume and --force, and a subset of four for shards.
The subsets are copies of the same files, so their rows must equal the full
run's rows for those ids (apart from graded_at and duration_s).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from importlib import util
from pathlib import Path

import html5lib
import pandas as pd
import pytest

from grader import __version__, batch, sandbox
from grader.assignment import load as load_assignment
from grader.report import Report

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "cases"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ON_CI = os.environ.get("CI", "").lower() == "true"

if util.find_spec("tensorflow") is None and not ON_CI:
    pytest.skip("TensorFlow is not installed (pip install -e '.[cpu,test]', as make setup does)", allow_module_level=True)

A = load_assignment()
SANDBOX = sandbox.sandbox_status()
if not SANDBOX.available and ON_CI:
    raise RuntimeError(f"bubblewrap sandbox unavailable on CI: {SANDBOX.reason}")
# as the CLI does: a batch refuses to run without the sandbox unless told to
USE_SANDBOX = SANDBOX.available
CLI_SANDBOX = [] if USE_SANDBOX else ["--unsafe-no-sandbox"]

CLASS = {  # id -> fixture
    "correct_functional": "correct_functional.py",
    "correct_notebook": "correct_notebook.ipynb",
    "correct_variant_folder": "correct_variant_folder",
    "fails_no_model": "fails_no_model.py",
    "fails_no_relu_reduce": "fails_no_relu_reduce.py",
    "fails_stride_conv2": "fails_stride_conv2.py",
    "fails_syntax_error": "fails_syntax_error.py",
    "relu_zip": None,  # a zip of fails_no_relu_reduce.py: the same mistake by a second student
}
KILL_SET = ["correct_functional", "fails_no_model", "fails_stride_conv2", "fails_syntax_error"]
SHARD_SET = ["correct_notebook", "correct_variant_folder", "fails_no_relu_reduce", "relu_zip"]
COLLECT_CSV = (
    "id,repo,branch,commit,committed_at,authored_at,late,newer_commits,flags,status,message\n"
    "correct_functional,https://git.example/a.git,main,abc123def4567890,2025-05-01T10:00:00+02:00,"
    "2025-05-01T10:00:00+02:00,False,0,,ok,\n"
    "fails_stride_conv2,https://git.example/b.git,main,fedcba9876543210,2025-05-02T10:00:00+02:00,"
    "2025-05-02T10:00:00+02:00,True,1,,late,\n"
    "ghost_student,https://git.example/ghost.git,,,,,False,0,,not_found,repository not found: check the URL\n"
)
VOLATILE = ["graded_at", "duration_s"]


def make_dir(d: Path, ids) -> Path:
    d.mkdir(parents=True)
    for sid in ids:
        src = CLASS[sid]
        if src is None:
            with zipfile.ZipFile(d / f"{sid}.zip", "w") as zf:
                info = zipfile.ZipInfo("googlenet.py", date_time=(2020, 1, 1, 0, 0, 0))
                zf.writestr(info, (CASES / "fails_no_relu_reduce.py").read_bytes())
        elif (CASES / src).is_dir():
            shutil.copytree(CASES / src, d / src)
        else:
            shutil.copy2(CASES / src, d / src)
    (d / "collect.csv").write_text(COLLECT_CSV)
    (d / "README.txt").write_text("not a submission")
    return d


def cli(*args, **kw) -> subprocess.Popen:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "grader.cli", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def counts(stdout: str) -> tuple[int, int, int]:
    m = re.search(r"graded (\d+), reused (\d+), failed (\d+)", stdout)
    assert m, stdout[-3000:]
    return tuple(int(x) for x in m.groups())


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def stable(path: Path, ids=None) -> pd.DataFrame:
    """grades.csv as text, without the columns that change from run to run."""
    f = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=VOLATILE)
    if ids is not None:
        f = f[f["id"].isin(ids)]
    return f.sort_values("id").reset_index(drop=True)


def files_under(out: Path):
    return sorted(p for p in out.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """One real batch over the class of eight, through the API as the CLI calls it."""
    base = tmp_path_factory.mktemp("batch")
    d = make_dir(base / "class", CLASS)
    out = base / "out"
    p = batch.plan(d, out, A)
    rows = []
    t0 = time.time()
    res = batch.run(p, A, jobs=2, use_sandbox=USE_SANDBOX, on_result=rows.append)
    return {"dir": d, "out": out, "plan": p, "res": res, "rows": rows, "seconds": time.time() - t0}


# ---------------------------------------------------------------------------
# planning: no grading
# ---------------------------------------------------------------------------
def test_parse_shard():
    assert batch.parse_shard("1/1") == (1, 1)
    assert batch.parse_shard(" 2/4 ") == (2, 4)
    for bad in ("0/2", "3/2", "2", "a/b", "1/0", "-1/2", "", "1/2/3"):
        with pytest.raises(batch.BatchError, match="K/N"):
            batch.parse_shard(bad)


def test_shards_are_a_stable_partition():
    ids = [f"student_{i:03d}" for i in range(200)]
    for n in (1, 2, 3, 7):
        shards = [{s for s in ids if batch.shard_of(s, n) == k} for k in range(1, n + 1)]
        assert set().union(*shards) == set(ids) and sum(map(len, shards)) == len(ids)
        assert all(shards), n  # a hash, not list order: every shard gets some of 200
    # independent of what else is there and of the order
    assert [batch.shard_of(s, 3) for s in reversed(ids)] == [batch.shard_of(s, 3) for s in ids][::-1]


def test_plan_errors(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(batch.BatchError, match="does not exist"):
        batch.plan(tmp_path / "nope", out, A)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "collect.csv").write_text("id\n")
    (tmp_path / "empty" / ".hidden.py").write_text("x = 1\n")
    (tmp_path / "empty" / "__pycache__").mkdir()
    with pytest.raises(batch.BatchError, match="no submissions in"):
        batch.plan(tmp_path / "empty", out, A)
    f = tmp_path / "one.py"
    f.write_text("x = 1\n")
    with pytest.raises(batch.BatchError, match="grader check"):
        batch.plan(f, out, A)
    dup = tmp_path / "dup"
    dup.mkdir()
    (dup / "ana.py").write_text("x = 1\n")
    (dup / "ana.ipynb").write_text("{}")
    with pytest.raises(batch.BatchError, match=r"ana\.ipynb and ana\.py"):
        batch.plan(dup, out, A)
    (dup / "ana.ipynb").unlink()
    (dup / "gradescope.py").write_text("x = 1\n")
    with pytest.raises(batch.BatchError, match="reserved"):
        batch.plan(dup, out, A)
    (dup / "gradescope.py").unlink()
    (tmp_path / "afile").write_text("")
    with pytest.raises(batch.BatchError, match="is a file"):
        batch.plan(dup, tmp_path / "afile", A)
    with pytest.raises(batch.BatchError, match="cannot write"):
        batch.plan(dup, Path("/proc/grader-batch-out"), A)
    with pytest.raises(batch.BatchError, match="K <= N"):
        batch.plan(dup, out, A, shard=(3, 2))
    (dup / "collect.csv").write_text("name,repo\nana,x\n")
    with pytest.raises(batch.BatchError, match="no 'id' column"):
        batch.plan(dup, out, A)
    (dup / "collect.csv").unlink()
    # what is and is not a submission; the OUT folder inside DIR is skipped
    (dup / "notes.md").write_text("hi")
    (dup / "bo.zip").write_bytes(b"not a zip")
    (dup / "chidi").mkdir()
    (dup / "reports").mkdir()
    p = batch.plan(dup, dup / "reports", A)
    assert [(e.id, e.kind) for e in p.all] == [("ana", "py"), ("bo", "zip"), ("chidi", "folder")]
    assert p.todo == p.all and not p.cached and all(e.reason == "new" for e in p.todo)
    assert ("notes.md", "not a .py, .ipynb or .zip file or a folder") in p.ignored
    assert ("reports", "the --out folder") in p.ignored
    bo = next(e for e in p.all if e.id == "bo")
    assert bo.load_error and "zip" in bo.load_error and len(bo.sha256) == 64
    (dup / "old-reports").mkdir()
    (dup / "old-reports" / "grades.csv").write_text("id\n")
    assert ("old-reports", "the output of an earlier grader batch") in batch.plan(dup, out, A).ignored
    (dup / "reports").rmdir()
    # a shard sees only its own share
    shares = [batch.plan(dup, out, A, shard=(k, 3)) for k in (1, 2, 3)]
    assert sorted(e.id for s in shares for e in s.all) == ["ana", "bo", "chidi"]
    assert all(s.other_shards == 3 - len(s.all) for s in shares)


def test_cli_reports_plan_errors(tmp_path):
    proc = cli("batch", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), *CLI_SANDBOX)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, (stdout, stderr)
    assert "does not exist" in stderr and "Traceback" not in stderr


# ---------------------------------------------------------------------------
# the full run
# ---------------------------------------------------------------------------
def test_full_run_results(full):
    res, rows, p = full["res"], full["rows"], full["plan"]
    print(f"\nfull run: {len(CLASS)} submissions, jobs=2, {full['seconds']:.1f} s")
    assert (res.graded, res.reused, res.failed) == (len(CLASS), 0, 2)
    assert not res.interrupted
    assert sorted(r["id"] for r in rows) == sorted(CLASS)
    for r in rows:
        assert {"id", "score", "max_score", "status", "duration_s"} <= set(r)
        assert isinstance(r["score"], float) and r["duration_s"] > 0
    by = {r["id"]: r for r in rows}
    assert by["fails_syntax_error"]["status"] == "failed" and by["fails_no_model"]["status"] == "failed"
    assert by["correct_functional"]["score"] == A.max_score
    assert res.grades_csv == full["out"] / "grades.csv" and res.index_html == full["out"] / "index.html"
    assert [e.id for e in p.all] == sorted(CLASS)
    assert ("README.txt", "not a .py, .ipynb or .zip file or a folder") in p.ignored


def test_grades_csv(full):
    frame = read_csv(full["res"].grades_csv)
    parts = [f"part_{n}" for n in ("stem", "inception", "blocks", "layout", "aux", "head", "params")]
    must = ["id", "score", "max_score", "percent", "status", "errors", "warnings", "total_params", "sha256",
            "commit", "committed_at", "late", "duration_s", "graded_at"]
    assert set(must + parts) <= set(frame.columns)
    assert list(frame["id"]) == sorted(CLASS)
    for col in ["score", "max_score", "percent", "duration_s"] + parts:
        assert pd.api.types.is_float_dtype(frame[col]), (col, frame[col].dtype)
    for col in ("errors", "warnings"):
        assert pd.api.types.is_integer_dtype(frame[col]), (col, frame[col].dtype)
    for col in ("id", "status", "sha256", "graded_at"):
        assert pd.api.types.is_string_dtype(frame[col]) or frame[col].dtype == object, col
    f = frame.set_index("id")
    for sid in ("correct_functional", "correct_notebook"):
        assert f.loc[sid, "score"] == f.loc[sid, "max_score"] == A.max_score
        assert f.loc[sid, "percent"] == 100.0 and f.loc[sid, "status"] == "graded"
        assert f.loc[sid, "errors"] == 0
    for sid in ("fails_syntax_error", "fails_no_model"):
        assert f.loc[sid, "status"] == "failed" and f.loc[sid, "score"] == 0 and f.loc[sid, "errors"] >= 1
        assert all(f.loc[sid, c] == 0 for c in parts)
    assert f.loc["fails_stride_conv2", "score"] < A.max_score
    assert "strides@conv2/3x3" in f.loc["fails_stride_conv2", "root_findings"]
    # the part columns add up to the score
    assert ((frame[parts].sum(axis=1) - frame["score"]).abs() < 1e-6).all()
    assert (frame["sha256"].str.len() == 64).all()
    # joined with DIR/collect.csv: commit and lateness
    assert f.loc["correct_functional", "commit"] == "abc123def4567890"
    assert bool(f.loc["fails_stride_conv2", "late"]) is True
    assert str(f.loc["correct_functional", "late"]) == "False"
    assert pd.isna(f.loc["correct_notebook", "commit"])
    # the commit reached the report too (check.grade(commit=...))
    rep = Report.from_json((full["out"] / "fails_stride_conv2" / "report.json").read_text())
    assert rep.submission.commit == "fedcba9876543210" and rep.submission.late is True
    assert (full["out"] / "collect.csv").read_text() == COLLECT_CSV


def test_files_written(full):
    out = full["out"]
    for sid in CLASS:
        rep = Report.from_json((out / sid / "report.json").read_text(encoding="utf-8"))
        assert rep.submission.id == sid and len(rep.submission.sha256) == 64
        html = (out / sid / "report.html").read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>") and sid in html
        key = json.loads((out / sid / ".key").read_text())
        assert key["sha256"] == rep.submission.sha256 and key["grader_version"] == __version__
        assert key["assignment_sha256"] == A.sha256
        assert (out / "gradescope" / f"{sid}.json").is_file()
    assert not [p for p in files_under(out) if p.name.endswith(".tmp")]
    # the student's own code is in the feedback page
    assert "conv2_3x3" in (out / "fails_stride_conv2" / "report.html").read_text(encoding="utf-8")


def test_gradescope_json(full):
    out = full["out"]
    for sid in CLASS:
        g = json.loads((out / "gradescope" / f"{sid}.json").read_text(encoding="utf-8"))
        rep = Report.from_json((out / sid / "report.json").read_text(encoding="utf-8"))
        assert g["score"] == pytest.approx(rep.score) and isinstance(g["output"], str) and g["output"]
        assert len(g["tests"]) == len(rep.parts)
        for t in g["tests"]:
            assert {"name", "score", "max_score", "output", "visibility"} <= set(t)
            assert t["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
        assert sum(t["score"] for t in g["tests"]) == pytest.approx(g["score"])
    g = json.loads((out / "gradescope" / "fails_syntax_error.json").read_text())
    assert g["score"] == 0 and "SyntaxError" in g["output"]


def test_rerun_reuses_everything_and_changes_are_noticed(full, tmp_path):
    out, d = full["out"], full["dir"]
    before = {p: p.read_bytes() for p in files_under(out)}
    p = batch.plan(d, out, A)
    assert not p.todo and [e.id for e in p.cached] == sorted(CLASS)
    rows = []
    res = batch.run(p, A, jobs=2, use_sandbox=USE_SANDBOX, on_result=rows.append)
    assert (res.graded, res.reused, res.failed) == (0, len(CLASS), 0) and rows == []
    after = {p: p.read_bytes() for p in files_under(out)}
    assert after == before  # nothing regraded: grades.csv even byte for byte
    # --force, another assignment file, another commit, or another file: regraded
    assert [e.reason for e in batch.plan(d, out, A, force=True).todo] == ["forced"] * len(CLASS)
    other = replace(A, sha256="0" * 64)
    assert len(batch.plan(d, out, other).todo) == len(CLASS)
    d2 = tmp_path / "class2"
    shutil.copytree(d, d2)
    with open(d2 / "fails_syntax_error.py", "a") as f:
        f.write("\n# edited\n")
    (d2 / "collect.csv").write_text(COLLECT_CSV.replace("abc123def4567890", "0123456789abcdef"))
    p2 = batch.plan(d2, out, A)
    assert {e.id: e.reason for e in p2.todo} == {"fails_syntax_error": "changed", "correct_functional": "changed"}
    # a report whose key is missing (killed before the key was written) is graded again
    key = out / "fails_no_model" / ".key"
    saved = key.read_bytes()
    key.unlink()
    try:
        assert [(e.id, e.reason) for e in batch.plan(d, out, A).todo] == [("fails_no_model", "incomplete")]
        # and one a grader of the same version but other code wrote (installed again from git)
        key.write_text(json.dumps({**json.loads(saved), "grader_build": "0" * 16}))
        assert [e.id for e in batch.plan(d, out, A).todo] == ["fails_no_model"]
    finally:
        key.write_bytes(saved)


# ---------------------------------------------------------------------------
# the class overview
# ---------------------------------------------------------------------------
def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def text_of(el) -> str:
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip() if el is not None else ""


def test_index_html(full):
    out = full["out"]
    raw = (out / "index.html").read_text(encoding="utf-8")
    doc = html5lib.parse(raw, namespaceHTMLElements=False)
    assert doc.get("lang") == "en"
    assert len(doc.findall(".//h1")) == 1
    h2 = [text_of(h) for h in doc.iter("h2")]
    for want in ("Summary", "Score distribution", "Average per part", "Most common problems",
                 "Could not be graded (2)", "Collection problems (1)", "All students (8)"):
        assert want in h2, (want, h2)
    # self-contained: no external resource of any kind
    for el in doc.iter():
        tag = local(el.tag)
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
        if tag == "script":
            assert el.get("src") is None
        for attr in ("src", "href", "srcset", "action", "data"):
            v = el.get(attr)
            if v is not None and attr == "href":
                assert not re.match(r"^[a-z]+:|^//", v), v
            elif v is not None:
                assert not re.match(r"^(https?:)?//", v), (tag, attr, v)
    assert "@import" not in raw and "url(" not in raw
    assert sum(local(el.tag) == "svg" for el in doc.iter()) == 2
    # the students' table: every id linked to its report, numbers to sort by, header cells
    table = doc.find(".//table[@id='students-table']")
    heads = [text_of(th) for th in table.find("thead").iter("th")]
    assert heads[:4] == ["Student", "Score", "%", "Status"]
    body = table.find("tbody").findall("tr")
    assert [text_of(tr.find("th")) for tr in body] == sorted(CLASS)
    for tr in body:
        href = tr.find(".//a").get("href")
        assert (out / href).is_file(), href
    # failed submissions
    failed = doc.find(".//table[@id='failed-table']")
    ft = text_of(failed)
    assert "fails_syntax_error" in ft and "SyntaxError" in ft and "fails_no_model" in ft and "no_model" in ft
    assert "correct_functional" not in ft
    # the most common root findings: the ReLU mistake of two students comes first
    common = doc.find(".//table[@id='common-table']").find("tbody").findall("tr")
    first = text_of(common[0])
    assert "activation at inception/" in first and "2 of 8" in first
    assert "fails_no_relu_reduce" in first and "relu_zip" in first
    ct = text_of(doc.find(".//table[@id='common-table']"))
    assert "strides at conv2/3x3" in ct
    # collection failures from collect.csv
    coll = text_of(doc.find(".//table[@id='collect-table']"))
    assert "ghost_student" in coll and "not_found" in coll
    assert "correct_functional" not in coll


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not ON_CI,
                                    reason="headless Chromium is not installed (Debian package: chromium)")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
CONSOLE_ERRORS = re.compile(r"Uncaught|CONSOLE[:(]\d+|Failed to load resource|net::ERR_|Refused to|"
                            r"Not allowed to load", re.I)


def chromium(*args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is not installed (apt-get install chromium)"
    with tempfile.TemporaryDirectory(prefix="grader-chromium-") as profile:
        proc = subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@needs_chromium
def test_index_in_chromium(full):
    page = (full["out"] / "index.html").as_uri()
    proc = chromium("--dump-dom", page)
    bad = [line for line in proc.stderr.splitlines() if CONSOLE_ERRORS.search(line)]
    assert not bad, bad
    dom = html5lib.parse(proc.stdout, namespaceHTMLElements=False)
    table = dom.find(".//table[@id='students-table']")
    # the inline script ran: one sort button per column, the hint shown
    assert len(table.findall(".//th/button")) == len(table.find("thead").findall(".//th"))
    assert dom.find(".//p[@id='sort-hint']").get("hidden") is None
    assert "fails_syntax_error" in text_of(dom.find(".//table[@id='failed-table']"))
    # sorting: a click on "Score" sorts ascending, a second click descending (ties by id)
    frame = read_csv(full["res"].grades_csv)
    raw = (full["out"] / "index.html").read_text(encoding="utf-8")
    for clicks, asc in ((1, True), (2, False)):
        clicker = ("<script>var b = document.querySelectorAll('#students-table thead button')[1];"
                   + "b.click();" * clicks + "</script></body>")
        page2 = full["out"] / f".sorted{clicks}.html"
        page2.write_text(raw.replace("</body>", clicker), encoding="utf-8")
        try:
            dom2 = html5lib.parse(chromium("--dump-dom", page2.as_uri()).stdout, namespaceHTMLElements=False)
        finally:
            page2.unlink()
        t2 = dom2.find(".//table[@id='students-table']")
        got = [text_of(tr.find("th")) for tr in t2.find("tbody").findall("tr")]
        want = sorted(frame.itertuples(), key=lambda r: ((r.score if asc else -r.score), r.id))
        assert got == [r.id for r in want], (clicks, got)
        th = t2.find("thead").findall(".//th")[1]
        assert th.get("aria-sort") == ("ascending" if asc else "descending")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = [(ARTIFACTS / "index.png", "1280,2600"), (ARTIFACTS / "index_phone.png", "390,2400")]
    for png, size in shots:
        png.unlink(missing_ok=True)
        chromium(f"--screenshot={png}", f"--window-size={size}", page)
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
        assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == \
            tuple(int(x) for x in size.split(","))


# ---------------------------------------------------------------------------
# Ctrl-C, SIGKILL, resume, --force
# ---------------------------------------------------------------------------
def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_reports(out: Path, more_than: int, proc: subprocess.Popen, timeout: float = 240) -> int:
    t0 = time.time()
    while time.time() - t0 < timeout:
        n = len(list(out.glob("*/report.json")))
        if n > more_than:
            return n
        if proc.poll() is not None:
            pytest.fail(f"batch ended before a report was written: {proc.communicate()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("no report.json appeared")


def assert_whole_files(out: Path):
    """What a reader picks up is whole: temporary files (if any) are hidden names."""
    for p in files_under(out):
        if p.name.endswith(".tmp"):
            assert p.name.startswith("."), p
    for p in out.glob("*/report.json"):
        Report.from_json(p.read_text(encoding="utf-8"))
    for p in out.glob("*/report.html"):
        assert p.read_text(encoding="utf-8").rstrip().endswith("</html>"), p
    for p in out.glob("gradescope/*.json"):
        json.loads(p.read_text(encoding="utf-8"))
    if (out / "grades.csv").exists():
        read_csv(out / "grades.csv")


def test_interrupt_kill_and_resume(full, tmp_path):
    d = make_dir(tmp_path / "class", KILL_SET)
    out = tmp_path / "out"
    args = ["batch", str(d), "--out", str(out), "--jobs", "1", *CLI_SANDBOX]
    # 1. Ctrl-C once a report exists: exit 130, what finished is summarised.  The child
    # gets SIGINT as a terminal's foreground process has it: a test run started in the
    # background of a shell would otherwise hand it down ignored (and Python keeps that)
    proc = cli(*args, preexec_fn=_default_sigint)
    wait_for_reports(out, 0, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted" in stdout and "Traceback" not in stderr
    assert_whole_files(out)
    done = {p.parent.name for p in out.glob("*/report.json")}
    csv_ids = set(read_csv(out / "grades.csv")["id"])
    assert csv_ids and csv_ids <= done and (out / "index.html").is_file()
    assert len(done) < len(KILL_SET)
    # 2. SIGKILL as soon as one more report appears
    proc = cli(*args)
    wait_for_reports(out, len(done), proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert_whole_files(out)
    keyed = {p.parent.name for p in out.glob("*/.key")}
    assert len(keyed) >= len(done)
    marks = {sid: (out / sid / "report.json").stat().st_mtime_ns for sid in keyed}
    # 3. the same command again grades only the rest
    proc = cli(*args)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, (stdout, stderr)
    graded, reused, _ = counts(stdout)
    assert (graded, reused) == (len(KILL_SET) - len(keyed), len(keyed)), stdout
    assert {sid: (out / sid / "report.json").stat().st_mtime_ns for sid in keyed} == marks
    assert not [p for p in files_under(out) if p.name.endswith(".tmp")]
    assert_whole_files(out)
    # ... and the gradebook equals the clean full run's rows for these students
    clean = full["res"].grades_csv
    pd.testing.assert_frame_equal(stable(out / "grades.csv"), stable(clean, KILL_SET))
    # 4. --force regrades everything
    p = batch.plan(d, out, A, force=True)
    res = batch.run(p, A, jobs=2, use_sandbox=USE_SANDBOX)
    assert (res.graded, res.reused) == (len(KILL_SET), 0)
    assert all((out / sid / "report.json").stat().st_mtime_ns != m for sid, m in marks.items())
    pd.testing.assert_frame_equal(stable(out / "grades.csv"), stable(clean, KILL_SET))


# ---------------------------------------------------------------------------
# shards and merge
# ---------------------------------------------------------------------------
def test_two_shards_merged_equal_the_full_run(full, tmp_path):
    shares = {k: [s for s in SHARD_SET if batch.shard_of(s, 2) == k] for k in (1, 2)}
    assert shares[1] and shares[2], shares  # both shards have work
    d = make_dir(tmp_path / "class", SHARD_SET)
    outs = [tmp_path / "shard1", tmp_path / "shard2"]
    procs = [cli("batch", str(d), "--out", str(o), "--jobs", "1", "--shard", f"{k}/2", *CLI_SANDBOX)
             for k, o in zip((1, 2), outs)]
    for k, proc in zip((1, 2), procs):
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, (stdout, stderr)
        assert counts(stdout)[:2] == (len(shares[k]), 0)
    for k, o in zip((1, 2), outs):
        assert sorted(read_csv(o / "grades.csv")["id"]) == sorted(shares[k])
    merged = tmp_path / "merged"
    proc = cli("merge", *map(str, outs), "--out", str(merged))
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, (stdout, stderr)
    assert f"merged {len(SHARD_SET)} submissions" in stdout
    pd.testing.assert_frame_equal(stable(merged / "grades.csv"), stable(full["res"].grades_csv, SHARD_SET))
    frame = read_csv(merged / "grades.csv")
    for sid in SHARD_SET:
        assert (merged / sid / "report.html").is_file() and (merged / sid / ".key").is_file()
        assert (merged / "gradescope" / f"{sid}.json").is_file()
    assert (merged / "collect.csv").read_text() == COLLECT_CSV
    idx = html5lib.parse((merged / "index.html").read_text(encoding="utf-8"), namespaceHTMLElements=False)
    assert "All students (4)" in [text_of(h) for h in idx.iter("h2")]
    assert "ghost_student" in text_of(idx.find(".//table[@id='collect-table']"))
    # merging again is idempotent; the same id graded from other files is refused
    again = batch.merge(outs, merged)
    assert again.count == len(SHARD_SET)
    pd.testing.assert_frame_equal(read_csv(again.grades_csv), frame)
    bad = tmp_path / "bad"
    shutil.copytree(outs[0], bad)
    sid = shares[1][0]
    key = json.loads((bad / sid / ".key").read_text())
    key["sha256"] = "f" * 64
    (bad / sid / ".key").write_text(json.dumps(key))
    with pytest.raises(batch.BatchError, match=re.escape(sid)):
        batch.merge([outs[0], bad], tmp_path / "never")
    with pytest.raises(batch.BatchError, match="not a folder"):
        batch.merge([tmp_path / "missing"], tmp_path / "never2")


# ---------------------------------------------------------------------------
# Korean: the class overview and the reports, through the CLI
# ---------------------------------------------------------------------------
GLYPH_PROBE = """<script>
(function () {
  // the body's own font stack draws two Hangul syllables and an unassigned code point:
  // with no Hangul font both syllables are the same "tofu" box (or nothing)
  var font = getComputedStyle(document.body).fontFamily;
  var c = document.createElement("canvas"); c.width = 240; c.height = 70;
  var x = c.getContext("2d");
  function ink(t) {
    x.clearRect(0, 0, c.width, c.height); x.font = "48px " + font; x.fillText(t, 4, 54);
    var d = x.getImageData(0, 0, c.width, c.height).data, n = 0, h = 7;
    for (var i = 3; i < d.length; i += 4) { if (d[i] > 96) { n++; h = (h * 31 + i) % 1000000007; } }
    return [n, h];
  }
  document.body.setAttribute("data-probe", JSON.stringify({font: font, ga: ink("\\uAC00"), na: ink("\\uB098"),
                                                            tofu: ink("\\u0378")}));
})();
</script></body>"""


def test_batch_in_korean(tmp_path):
    d = tmp_path / "class"
    d.mkdir()
    shutil.copy2(CASES / "fails_stride_conv2.py", d / "minsu.py")
    shutil.copy2(CASES / "correct_functional.py", d / "jiwoo.py")
    own = tmp_path / "assignment.toml"
    own.write_text((ROOT / "reference" / "assignment.toml").read_text(encoding="utf-8")
                   + '\n[part_titles.ko]\nstem = "줄기 (conv1부터 pool2까지)"\n', encoding="utf-8")
    out = tmp_path / "out"
    p = cli("batch", str(d), "--out", str(out), "--lang", "ko", "--jobs", "1", "--assignment", str(own), *CLI_SANDBOX)
    stdout, stderr = p.communicate(timeout=600)
    assert p.returncode == 0, stderr
    raw = (out / "index.html").read_text(encoding="utf-8")
    doc = html5lib.parse(raw, namespaceHTMLElements=False)
    assert doc.get("lang") == "ko"
    assert text_of(doc.find(".//h1")) == "학급 전체 보기"
    h2 = [text_of(h) for h in doc.iter("h2")]
    for want in ("요약", "점수 분포", "항목별 평균", "가장 흔한 문제", "채점하지 못한 제출물 (0)", "전체 학생 (2)"):
        assert want in h2, (want, h2)
    body = text_of(doc.find(".//body"))
    for english in ("Class overview", "Most common problems", "All students", "Score distribution", "mean score",
                    "Generated by grader", " at conv2/3x3"):
        assert english not in body, english
    common = text_of(doc.find(".//table[@id='common-table']"))
    assert "conv2/3x3의 strides" in common and "스트라이드" in common  # the finding's message in Korean too
    # part titles: the assignment's own for the stem, the catalog's for the others
    chart = text_of(doc.find(".//section[@id='parts']"))
    assert "줄기 (conv1부터 pool2까지)" in chart and "인셉션 모듈" in chart and "보조 분류기" in chart
    assert "Stem" not in chart and "Inception module" not in chart
    # the student's report in Korean with the same titles
    rep = html5lib.parse((out / "minsu" / "report.html").read_text(encoding="utf-8"), namespaceHTMLElements=False)
    assert rep.get("lang") == "ko"
    parts = text_of(rep.find(".//table[@class='parts']"))
    assert "줄기 (conv1부터 pool2까지)" in parts and "인셉션 모듈" in parts and "Inception module" not in parts
    # the font stack names a Hangul face for Windows, macOS and Linux
    for face in ('"Malgun Gothic"', '"Apple SD Gothic Neo"', '"Noto Sans CJK KR"', '"NanumGothic"'):
        assert face in raw
    # the same batch again in English: the cached grades are rendered again, in English
    p = cli("batch", str(d), "--out", str(out), "--lang", "en", "--jobs", "1", "--assignment", str(own),
            *CLI_SANDBOX)
    stdout2, stderr2 = p.communicate(timeout=600)
    assert p.returncode == 0, stderr2
    en = html5lib.parse((out / "index.html").read_text(encoding="utf-8"), namespaceHTMLElements=False)
    assert en.get("lang") == "en" and text_of(en.find(".//h1")) == "Class overview"
    assert "Stem (conv1, pool1, conv2, pool2)" in text_of(en.find(".//section[@id='parts']"))
    grades = read_csv(out / "grades.csv")
    assert dict(zip(grades["id"], grades["score"])) == {"jiwoo": 100.0, "minsu": 90.0}
    assert counts(stdout2) == (2, 0, 0)  # graded again for the language (the grades are the same)
    if CHROMIUM is None:
        return  # the browser check below needs Chromium (always there on CI: needs_chromium)
    page = out / ".ko_probe.html"
    page.write_text(raw.replace("</body>", GLYPH_PROBE), encoding="utf-8")
    proc = chromium("--dump-dom", page.as_uri())
    page.unlink()
    probe = json.loads(html5lib.parse(proc.stdout, namespaceHTMLElements=False).find(".//body").get("data-probe"))
    assert "Malgun Gothic" in probe["font"] and "Apple SD Gothic Neo" in probe["font"], probe["font"]
    ga, na, tofu = probe["ga"], probe["na"], probe["tofu"]
    assert ga[0] > 200 and na[0] > 200, probe  # ink
    assert ga != na and ga != tofu, probe  # real, different glyphs: a Hangul font drew them
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (out / "index_ko.html").write_text(raw, encoding="utf-8")
    png = ARTIFACTS / "index_ko.png"
    png.unlink(missing_ok=True)
    chromium(f"--screenshot={png}", "--window-size=1280,1800", (out / "index_ko.html").as_uri())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
