"""Every failure stays one submission's (issue 21, part 4): one real `grader batch`
over a folder of submissions that cannot be read, listed, decoded, unpacked or
parsed, beside an honest one. The files are made here, in tmp, with the bytes
that break things: names that are not UTF-8 or hold a newline (os.fsencode), a
zip with a corrupted CRC, a password-protected zip (`zip -P`), nbformat-3 and
broken notebooks, empty, binary, UTF-16 and NUL-holding files, and symbolic
links that leave the folder. The honest submission is graded as normal; each
bad one has its own failed report.json saying what is wrong; the batch exits 0."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from grader.fsutil import safe_name
from grader.submission import LoadError, load

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "cases"
HONEST = (CASES / "correct_functional.py").read_bytes()

#: id -> words the failed report's message must hold (what is wrong, in the student's terms)
BAD = {
    "bad_crc": ["corrupt", "CRC"],
    "encrypted": ["password-protected"],
    "not_a_zip": ["not a readable zip"],
    "nb3_broken": ["nbformat 3"],
    "invalid_json": ["not a valid notebook"],
    "cells_not_a_list": ["no list of cells"],
    "cell_source_number": ["code cell 1", "not text"],
    "top_level_list": ["not a notebook"],
    "empty": ["is empty"],
    "binary": ["NUL bytes"],
    "utf16": ["UTF-16"],
    "nul_inside": ["NUL bytes", "byte 5"],
    "latin1": ["not UTF-8"],
    "link_out": ["symbolic link", "outside its folder"],
    "dir_link_out": ["symbolic link", "outside its folder"],
    "dangling_link": ["symbolic link", "leads nowhere"],
}
#: graded as normal despite a hostile name, or a notebook of the old format
GOOD = ["honest", "nb3", "bad\\xffname", "new\\nline", "[bold red]x", "=cmd|' calc'!A0", "folder_with_link"]


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def make_class(d: Path) -> Path:
    d.mkdir()
    (d / "honest.py").write_bytes(HONEST)
    with open(os.path.join(os.fsencode(d), b"bad\xffname.py"), "wb") as f:  # not UTF-8
        f.write(HONEST)
    (d / "new\nline.py").write_bytes(HONEST)
    (d / "[bold red]x").mkdir()
    (d / "[bold red]x" / "googlenet.py").write_bytes(HONEST)
    (d / "=cmd|' calc'!A0.py").write_bytes(HONEST)
    data = bytearray(_zip({"googlenet.py": HONEST}))
    data[data.index(b"import keras")] ^= 0x20  # one byte of the stored file: its CRC no longer matches
    (d / "bad_crc.zip").write_bytes(bytes(data))
    src = d.parent / "to_encrypt"
    src.mkdir()
    (src / "googlenet.py").write_bytes(HONEST)
    subprocess.run(["zip", "-q", "-P", "secret", str(d / "encrypted.zip"), "googlenet.py"], cwd=src, check=True)
    (d / "not_a_zip.zip").write_bytes(b"PK\x03\x04 this is not a zip at all")
    nb3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "markdown", "source": "# GoogLeNet"},
        {"cell_type": "code", "input": HONEST.decode().splitlines(True), "language": "python", "outputs": []}]}]}
    (d / "nb3.ipynb").write_text(json.dumps(nb3))
    (d / "nb3_broken.ipynb").write_text(json.dumps({"nbformat": 3, "worksheets": [{"cells": []}, "not a sheet"]}))
    (d / "invalid_json.ipynb").write_text('{"cells": [')
    (d / "cells_not_a_list.ipynb").write_text(json.dumps({"nbformat": 4, "cells": {"0": "x"}}))
    (d / "cell_source_number.ipynb").write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}))
    (d / "top_level_list.ipynb").write_text("[1, 2, 3]")
    (d / "empty.py").write_bytes(b"")
    (d / "binary.py").write_bytes(bytes(range(256)) * 8)
    (d / "utf16.py").write_bytes(HONEST.decode().encode("utf-16"))
    (d / "nul_inside.py").write_bytes(b"x = 1\0\nprint(x)\n")
    (d / "latin1.py").write_bytes("# caf\u00e9\nimport keras\n".encode("latin-1"))
    os.symlink("/etc/passwd", d / "link_out.py")
    os.symlink("/etc", d / "dir_link_out")
    os.symlink(d / "nowhere.py", d / "dangling_link.py")
    (d / "folder_with_link").mkdir()
    (d / "folder_with_link" / "googlenet.py").write_bytes(HONEST)
    os.symlink("/etc/passwd", d / "folder_with_link" / "secrets.py")  # left out of the submission, not followed
    return d


@pytest.fixture(scope="module")
def intake(tmp_path_factory, use_sandbox):
    if shutil.which("zip") is None:
        pytest.skip("the encrypted zip is made with `zip -P` (apt-get install zip)")
    root = tmp_path_factory.mktemp("intake")
    d = make_class(root / "class")
    out = root / "out"
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    p = subprocess.run([sys.executable, "-m", "grader.cli", "batch", str(d), "--out", str(out), "--jobs", "2",
                        "--timeout", "120", *([] if use_sandbox else ["--unsafe-no-sandbox"])],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    reports = {}
    for f in out.glob("*/report.json"):
        r = json.loads(f.read_text(encoding="utf-8"))
        reports[r["submission"]["id"]] = r
    return {"proc": p, "out": out, "reports": reports}


def _message(r) -> str:
    return " ".join(f["message"] for f in r["findings"])


def test_the_batch_ends_normally_with_a_report_for_everyone(intake):
    p = intake["proc"]
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Traceback" not in p.stderr
    assert set(intake["reports"]) == set(BAD) | set(GOOD), sorted(intake["reports"])


@pytest.mark.parametrize("sid", GOOD)
def test_an_honest_file_with_a_hostile_name_is_graded_as_normal(intake, sid):
    r = intake["reports"][sid]
    assert (r["status"], r["score"]) == ("graded", 100), _message(r)


@pytest.mark.parametrize("sid", sorted(BAD))
def test_each_bad_submission_has_its_own_failed_report(intake, sid):
    r = intake["reports"][sid]
    assert r["status"] == "failed" and r["score"] == 0
    assert [f["code"] for f in r["findings"] if f["caused_by"] is None] == ["build_error"]
    msg = r["error"]["message"]
    for word in BAD[sid]:
        assert word in msg, msg
    assert "the grader failed" not in msg  # a verdict on the file, not a crash of the grader
    assert (intake["out"] / sid / "report.html").is_file()


def test_a_link_out_of_the_folder_is_never_read(intake):
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    for sid in ("link_out", "folder_with_link"):
        folder = intake["out"] / sid
        for f in folder.iterdir():
            assert passwd not in f.read_text(encoding="utf-8", errors="replace"), f
    r = intake["reports"]["folder_with_link"]
    assert r["submission"]["kind"] == "folder"


def test_names_are_escaped_in_the_console_the_csv_and_the_html(intake):
    out, stdout = intake["out"], intake["proc"].stdout
    assert "[bold red]x" in stdout  # rich markup in a name printed as it is, not as style
    assert "bad\\xffname" in stdout and "new\\nline" in stdout
    assert (out / "bad\\xffname" / "report.json").is_file() and (out / "new\\nline" / "report.json").is_file()
    csv = (out / "grades.csv").read_text(encoding="utf-8")
    assert "\n'=cmd|' calc'!A0," in csv  # a spreadsheet shows the text instead of running the formula
    assert "\n=cmd" not in csv
    frame = pd.read_csv(out / "grades.csv", dtype=str, keep_default_na=False)
    assert len(frame) == len(BAD) + len(GOOD)  # the newline in a name did not split a row
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "[bold red]x" in index and "<bold" not in index


# ---------------------------------------------------------------------------- the loader alone (no grading)


def test_safe_name_escapes_what_is_not_text():
    assert safe_name(os.fsdecode(b"bad\xffname")) == "bad\\xffname"
    assert safe_name("new\nline\t") == "new\\nline\\t"
    assert safe_name("\ud55c\uad6d\uc5b4_ok") == "\ud55c\uad6d\uc5b4_ok"
    assert safe_name("a\u2028b") == "a\\u2028b"


def test_a_zip_entry_of_a_method_zipfile_cannot_unpack_is_a_load_error(tmp_path):
    data = bytearray(_zip({"googlenet.py": HONEST}))
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # compression method 9: deflate64
        i = data.index(sig)
        data[i + off:i + off + 2] = (9).to_bytes(2, "little")
    (tmp_path / "deflate64.zip").write_bytes(bytes(data))
    with pytest.raises(LoadError, match="cannot unpack"):
        load(tmp_path / "deflate64.zip")


def test_a_file_name_inside_a_folder_that_is_not_utf8_is_left_out(tmp_path):
    d = tmp_path / "sub"
    d.mkdir()
    (d / "googlenet.py").write_bytes(HONEST)
    with open(os.path.join(os.fsencode(d), b"data\xfe.py"), "wb") as f:
        f.write(b"x = 1\n")
    sub = load(d)
    assert list(sub.files) == ["googlenet.py"]
    assert sub.skipped == [("data\\xfe.py", "file name not UTF-8 or with control characters")]
