"""Tests of grader.collect on real git repositories built here with GitPython."""

from __future__ import annotations

import csv
import http.server
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import git
import pytest

from grader.collect import (
    CSV_COLUMNS,
    STATUSES,
    CollectError,
    CollectRecord,
    RosterEntry,
    _classify,
    _resolve_relative_url,
    collect,
    parse_deadline,
    read_roster,
)

CEST = timezone(timedelta(hours=2))
EST = timezone(timedelta(hours=-5))
DEADLINE = datetime(2025, 5, 31, 23, 59, tzinfo=CEST)
LATE_UNTIL = datetime(2025, 6, 2, 23, 59, tzinfo=CEST)

# Commit dates used by the "history" repository.
D_A = datetime(2025, 5, 30, 10, 0, tzinfo=CEST)  # on time
D_B = datetime(2025, 5, 31, 20, 0, tzinfo=CEST)  # on time, newest before the deadline
D_B_AUTHOR = datetime(2025, 5, 29, 9, 30, tzinfo=EST)  # authored earlier, another offset
D_C = datetime(2025, 6, 1, 10, 0, tzinfo=CEST)  # late window
D_D = datetime(2025, 6, 3, 8, 0, tzinfo=CEST)  # after the late window


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory, monkeypatch):
    """Each test sees a clean global git config (no hooks, no credential helper)."""
    home = tmp_path_factory.mktemp("gitconfig")
    config = home / "config"
    config.write_text(
        "[user]\n\tname = Test Student\n\temail = student@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[protocol \"file\"]\n\tallow = always\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GIT_TEMPLATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return config


def new_repo(path: Path) -> git.Repo:
    path.mkdir(parents=True, exist_ok=True)
    return git.Repo.init(path, initial_branch="main")


def commit(repo: git.Repo, when: datetime, files: dict | None = None, *, author_date: datetime | None = None,
           msg: str = "work", links: dict | None = None) -> str:
    """Write ``files`` (None deletes), create ``links`` (name -> target), commit at ``when``."""
    root = Path(repo.working_tree_dir)
    for name, content in (files or {}).items():
        target = root / name
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    for name, dest in (links or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(dest, root / name)
    repo.git.add("-A")
    env = {
        "GIT_COMMITTER_DATE": when.isoformat(),
        "GIT_AUTHOR_DATE": (author_date or when).isoformat(),
    }
    repo.git.commit("-q", "--no-verify", "--allow-empty", "-m", msg, env=env)
    return repo.head.commit.hexsha


def bare_copy(src: git.Repo, dest: Path) -> Path:
    git.Repo.clone_from(src.working_tree_dir, dest, bare=True)
    return dest


def history_repo(path: Path) -> tuple[git.Repo, dict[str, str]]:
    """A(on time) - B(on time) - C(late window) - D(after the window), linear."""
    repo = new_repo(path)
    shas = {
        "A": commit(repo, D_A, {"model.py": "version = 'A'\n", "notes.txt": "draft\n"}),
        "B": commit(repo, D_B, {"model.py": "version = 'B'\n", "notes.txt": None}, author_date=D_B_AUTHOR),
        "C": commit(repo, D_C, {"model.py": "version = 'C'\n"}),
        "D": commit(repo, D_D, {"model.py": "version = 'D'\n"}),
    }
    return repo, shas


def read_csv(into: Path) -> list[dict]:
    with open(into / "collect.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CSV_COLUMNS
        return list(reader)


def files_of(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)).replace(os.sep, "/"): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


# --------------------------------------------------------------------------- dates & roster


def test_parse_deadline_accepts_offsets_and_z():
    assert parse_deadline("2025-05-31T23:59:00+02:00") == DEADLINE
    assert parse_deadline(" 2025-05-31T21:59:00Z ") == DEADLINE
    assert parse_deadline("2025-05-31T21:59:00Z").utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["2025-05-31T23:59:00", "2025-05-31", "tomorrow", ""])
def test_parse_deadline_rejects_ambiguous_or_garbage(text):
    with pytest.raises(CollectError, match=r"2025-05-31T23:59:00\+02:00"):
        parse_deadline(text)


def test_read_roster(tmp_path):
    (tmp_path / "repos").mkdir()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "\ufeffId , Repo,branch,path\n"
        "alice,repos/alice,,\n"
        "\n"
        "bob,https://example.com/bob/hw.git,dev,hw/part1/\n"
        "# carol,ignored,,\n"
        "dave,git@example.com:dave/hw.git,,\n"
    )
    entries = read_roster(roster)
    assert entries == [
        RosterEntry("alice", str(tmp_path / "repos" / "alice")),
        RosterEntry("bob", "https://example.com/bob/hw.git", "dev", "hw/part1"),
        RosterEntry("dave", "git@example.com:dave/hw.git"),
    ]


@pytest.mark.parametrize(
    "content, pattern",
    [
        ("id,url\na,/x\n", r"no 'repo' column.*id,repo"),
        ("repo\n/x\n", r"no 'id' column"),
        ("id,repo\na,/x\nb,/y\nA,/z\n", r"line 4.*'A' already appears on line 2"),
        ("id,repo\n,/x\n", r"line 2.*is empty"),
        ("id,repo\na/b,/x\n", r"path separator"),
        ("id,repo\na\\b,/x\n", r"path separator"),
        ("id,repo\n..,/x\n", r"'\.\.'"),
        ("id,repo\nx..y,/x\n", r"'\.\.'"),
        ("id,repo\n.repos,/x\n", r"starts with '\.'"),
        ("id,repo\ncollect.csv,/x\n", r"reserved"),
        ("id,repo\na,\n", r"no repo for 'a'"),
        ("id,repo,path\na,/x,../up\n", r"must not contain '\.\.'"),
        ("", r"is empty"),
    ],
)
def test_read_roster_errors(tmp_path, content, pattern):
    roster = tmp_path / "roster.csv"
    roster.write_text(content)
    with pytest.raises(CollectError, match=pattern):
        read_roster(roster)


def test_read_roster_missing_file(tmp_path):
    with pytest.raises(CollectError, match=r"not found.*id,repo"):
        read_roster(tmp_path / "nope.csv")


def test_collect_rejects_caller_mistakes(tmp_path):
    entry = [RosterEntry("a", str(tmp_path))]
    with pytest.raises(CollectError, match="time zone"):
        collect(entry, tmp_path / "out", deadline=datetime(2025, 5, 31))
    with pytest.raises(CollectError, match="needs a deadline"):
        collect(entry, tmp_path / "out", deadline=None, late_until=LATE_UNTIL)
    with pytest.raises(CollectError, match="before the deadline"):
        collect(entry, tmp_path / "out", deadline=LATE_UNTIL, late_until=DEADLINE)
    with pytest.raises(CollectError, match="appears twice"):
        collect(entry * 2, tmp_path / "out", deadline=DEADLINE)
    with pytest.raises(CollectError, match="path separator"):
        collect([RosterEntry("../x", str(tmp_path))], tmp_path / "out", deadline=DEADLINE)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "collect.csv").write_text("name,score\nx,1\n")
    with pytest.raises(CollectError, match="no 'id' column.*move it away"):
        collect(entry, tmp_path / "other", deadline=DEADLINE)


# --------------------------------------------------------------------------- choosing the commit


def test_deadline_late_window_and_tip(tmp_path):
    repo, shas = history_repo(tmp_path / "src" / "alice")
    bare = bare_copy(repo, tmp_path / "src" / "alice.git")
    url = bare.as_uri()  # file:// URL of a bare repository
    roster = [RosterEntry("alice", url)]

    # Deadline only: B, the newest commit on or before the deadline.
    out = tmp_path / "on-time"
    (record,) = collect(roster, out, deadline=DEADLINE)
    assert record == CollectRecord(
        id="alice", repo=url, branch="main", commit=shas["B"],
        committed_at="2025-05-31T20:00:00+02:00", authored_at="2025-05-29T09:30:00-05:00",
        late=False, newer_commits=2, flags="", status="ok", message="",
    )
    assert files_of(out / "alice") == {"model.py": "version = 'B'\n"}
    assert read_csv(out) == [{
        "id": "alice", "repo": url, "branch": "main", "commit": shas["B"],
        "committed_at": "2025-05-31T20:00:00+02:00", "authored_at": "2025-05-29T09:30:00-05:00",
        "late": "False", "newer_commits": "2", "flags": "", "status": "ok", "message": "",
    }]

    # With a late window: C (after the deadline, within the window) wins, marked late.
    out = tmp_path / "late"
    (record,) = collect(roster, out, deadline=DEADLINE, late_until=LATE_UNTIL)
    assert (record.commit, record.late, record.status, record.newer_commits) == (shas["C"], True, "late", 1)
    assert record.committed_at == "2025-06-01T10:00:00+02:00"
    assert "10h 1min after the deadline" in record.message
    assert files_of(out / "alice") == {"model.py": "version = 'C'\n"}
    (row,) = read_csv(out)
    assert row == {**{k: str(v) for k, v in record.to_dict().items()}, "late": "True", "newer_commits": "1"}
    assert row["status"] == "late" and row["late"] == "True"

    # A late window holding no commit: the on-time commit, not late.
    out = tmp_path / "empty-window"
    (record,) = collect(roster, out, deadline=DEADLINE, late_until=DEADLINE + timedelta(hours=1))
    assert (record.commit, record.late, record.status, record.newer_commits) == (shas["B"], False, "ok", 2)

    # No deadline: the tip.
    out = tmp_path / "tip"
    (record,) = collect(roster, out, deadline=None)
    assert (record.commit, record.late, record.status, record.newer_commits) == (shas["D"], False, "ok", 0)
    assert files_of(out / "alice") == {"model.py": "version = 'D'\n"}


def test_no_commit_before_deadline(tmp_path):
    repo = new_repo(tmp_path / "src" / "late")
    commit(repo, D_D, {"model.py": "x\n"})
    out = tmp_path / "out"
    (record,) = collect([RosterEntry("late", repo.working_tree_dir)], out, deadline=DEADLINE, late_until=LATE_UNTIL)
    assert record.status == "no_commit_before_deadline"
    assert record.commit == "" and record.committed_at == "" and record.late is False
    assert "2025-05-31T23:59:00+02:00" in record.message and "2025-06-03T08:00:00+02:00" in record.message
    assert "late window" in record.message
    assert not (out / "late").exists()
    (row,) = read_csv(out)
    assert row == {
        "id": "late", "repo": repo.working_tree_dir, "branch": "main", "commit": "", "committed_at": "",
        "authored_at": "", "late": "False", "newer_commits": "0", "flags": "",
        "status": "no_commit_before_deadline", "message": record.message,
    }


def test_future_dated_commit_is_flagged(tmp_path):
    repo = new_repo(tmp_path / "src" / "fut")
    first = commit(repo, D_A, {"model.py": "ok\n"})
    future = commit(repo, datetime(2099, 1, 1, 12, 0, tzinfo=CEST), {"model.py": "from the future\n"})
    roster = [RosterEntry("fut", repo.working_tree_dir)]

    (tip,) = collect(roster, tmp_path / "a", deadline=None)
    assert (tip.commit, tip.flags, tip.committed_at) == (future, "future_date", "2099-01-01T12:00:00+02:00")
    assert "in the future" in tip.message

    # With a deadline the future commit is not taken, but the choice looked at it: still flagged.
    (rec,) = collect(roster, tmp_path / "b", deadline=DEADLINE)
    assert (rec.commit, rec.newer_commits, rec.flags, rec.status) == (first, 1, "future_date", "ok")
    assert read_csv(tmp_path / "b")[0]["flags"] == "future_date"


def test_commit_dated_before_its_parent_is_flagged(tmp_path):
    repo = new_repo(tmp_path / "src" / "skew")
    commit(repo, datetime(2025, 5, 31, 10, 0, tzinfo=CEST), {"model.py": "1\n"})
    commit(repo, datetime(2025, 5, 31, 12, 0, tzinfo=CEST), {"model.py": "2\n"})
    backdated = commit(repo, datetime(2025, 5, 31, 9, 0, tzinfo=CEST), {"model.py": "3\n"})
    out = tmp_path / "out"
    (rec,) = collect([RosterEntry("skew", repo.working_tree_dir)], out,
                     deadline=datetime(2025, 5, 31, 11, 0, tzinfo=CEST))
    # The branch as it stands: the tip's date is before the deadline, so it is taken, and flagged.
    assert (rec.commit, rec.flags, rec.status, rec.newer_commits) == (backdated, "before_parent", "ok", 0)
    assert "before_parent" in rec.message
    assert files_of(out / "skew") == {"model.py": "3\n"}
    assert read_csv(out)[0]["flags"] == "before_parent"


# --------------------------------------------------------------------------- failures


def test_failures_become_records(tmp_path):
    src = tmp_path / "src"
    empty = git.Repo.init(src / "empty.git", bare=True)
    good = new_repo(src / "good")
    commit(good, D_A, {"hw/model.py": "m\n", "README.md": "r\n"})
    entries = [
        RosterEntry("empty", empty.git_dir),
        RosterEntry("missing", str(src / "does-not-exist")),
        RosterEntry("missing_url", (src / "nope.git").as_uri()),
        RosterEntry("nobranch", good.working_tree_dir, branch="submission"),
        RosterEntry("nopath", good.working_tree_dir, path="homework"),
        RosterEntry("filepath", good.working_tree_dir, path="README.md"),
        RosterEntry("subdir", good.working_tree_dir, path="hw"),
    ]
    out = tmp_path / "out"
    seen: list[str] = []
    records = collect(entries, out, deadline=DEADLINE, jobs=3, on_progress=lambda r: seen.append(r.id))
    assert [r.id for r in records] == [e.id for e in entries]
    assert sorted(seen) == sorted(e.id for e in entries)
    by_id = {r.id: r for r in records}
    assert {i: r.status for i, r in by_id.items()} == {
        "empty": "empty_repo",
        "missing": "not_found",
        "missing_url": "not_found",
        "nobranch": "branch_missing",
        "nopath": "path_missing",
        "filepath": "path_missing",
        "subdir": "ok",
    }
    assert all(r.status in STATUSES for r in records)
    assert "is empty" in by_id["empty"].message
    assert "repository not found" in by_id["missing"].message and "check the URL" in by_id["missing"].message
    assert "'submission' does not exist" in by_id["nobranch"].message
    assert "existing branches: main" in by_id["nobranch"].message
    assert "'homework' does not exist" in by_id["nopath"].message
    assert "README.md, hw/" in by_id["nopath"].message
    assert "is a file" in by_id["filepath"].message
    assert files_of(out / "subdir") == {"model.py": "m\n"}
    for failed in ("empty", "missing", "missing_url", "nobranch", "nopath", "filepath"):
        assert not (out / failed).exists()
        assert by_id[failed].commit == "" and by_id[failed].committed_at == ""
    # Failed clones leave no cache behind; collect.csv lists everyone.
    assert not (out / ".repos" / "missing.git").exists()
    rows = read_csv(out)
    assert sorted(r["id"] for r in rows) == sorted(e.id for e in entries)
    assert {r["id"]: r["status"] for r in rows} == {i: r.status for i, r in by_id.items()}
    assert {r["id"]: r["message"] for r in rows} == {i: r.message for i, r in by_id.items()}
    assert {r["id"]: r["branch"] for r in rows}["nobranch"] == "submission"
    # No temporary folders left behind.
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [".repos"]


class _AuthHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        if "missing" in self.path:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_http_auth_refused_and_not_found(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AuthHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        records = collect(
            [RosterEntry("private", f"{base}/private.git"), RosterEntry("gone", f"{base}/missing.git")],
            tmp_path / "out", deadline=DEADLINE,
        )
    finally:
        server.shutdown()
        server.server_close()
    private, gone = records
    assert private.status == "auth_failed"
    assert "SSH URL" in private.message and "deploy key" in private.message and "token" in private.message
    assert "credential helper" in private.message
    assert gone.status == "not_found"


@pytest.mark.parametrize(
    "stderr, status",
    [
        ("fatal: could not read Username for 'https://github.com': terminal prompts disabled", "auth_failed"),
        ("git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.", "auth_failed"),
        ("remote: HTTP Basic: Access denied\nfatal: Authentication failed for 'https://x/'", "auth_failed"),
        ("Host key verification failed.\nfatal: Could not read from remote repository.", "auth_failed"),
        ("remote: Repository not found.\nfatal: repository 'https://github.com/a/b.git/' not found", "not_found"),
        ("ERROR: Repository not found.\nfatal: Could not read from remote repository.", "not_found"),
        ("fatal: unable to access 'https://x/': Could not resolve host: x", "error"),
    ],
)
def test_classify_git_errors(stderr, status):
    assert _classify(stderr, "URL").status == status


def test_size_cap(tmp_path):
    big = new_repo(tmp_path / "src" / "big")
    commit(big, D_A, {"weights.bin": os.urandom(3 * 2**20)})  # incompressible: the download is too big
    zeros = new_repo(tmp_path / "src" / "zeros")
    commit(zeros, D_A, {"zeros.bin": bytes(3 * 2**20)})  # tiny download, but 3 MB of files
    out = tmp_path / "out"
    big_rec, zeros_rec = collect(
        [RosterEntry("big", big.working_tree_dir), RosterEntry("zeros", zeros.working_tree_dir)],
        out, deadline=DEADLINE, size_cap_mb=1,
    )
    assert big_rec.status == "too_large" and "size cap of 1 MB" in big_rec.message
    assert not (out / ".repos" / "big.git").exists()
    assert zeros_rec.status == "too_large" and "3.0 MB" in zeros_rec.message
    assert not (out / "big").exists() and not (out / "zeros").exists()


# --------------------------------------------------------------------------- safety


def test_no_student_code_runs(tmp_path, isolated_git, monkeypatch):
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    hook = "#!/bin/sh\necho ran >> {}\n"

    # The student's own hooks.
    student = new_repo(tmp_path / "src" / "evil")
    commit(student, D_A, {"model.py": "m\n", ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n",
                          "data.bin": "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 3\n"})
    for name in ("post-checkout", "post-merge", "post-rewrite", "reference-transaction"):
        path = Path(student.git_dir) / "hooks" / name
        path.write_text(hook.format(marker_dir / f"student-{name}"))
        path.chmod(0o755)

    # A grader machine whose global config has hooks and an LFS smudge that would run programs.
    global_hooks = tmp_path / "global-hooks"
    global_hooks.mkdir()
    for name in ("post-checkout", "post-merge", "reference-transaction", "post-update"):
        (global_hooks / name).write_text(hook.format(marker_dir / f"global-{name}"))
        (global_hooks / name).chmod(0o755)
    evil_config = tmp_path / "evil-gitconfig"
    evil_config.write_text(
        isolated_git.read_text()
        + f"[core]\n\thooksPath = {global_hooks}\n"
        + f"[filter \"lfs\"]\n\tsmudge = sh -c 'echo ran >> {marker_dir / 'smudge'}; cat'\n"
        + f"\tprocess = sh -c 'echo ran >> {marker_dir / 'process'}'\n\trequired = true\n"
        + f"[init]\n\ttemplateDir = {tmp_path / 'no-template'}\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(evil_config))
    out = tmp_path / "out"
    (rec,) = collect([RosterEntry("evil", student.working_tree_dir)], out, deadline=DEADLINE)
    (rec2,) = collect([RosterEntry("evil", student.working_tree_dir)], out, deadline=DEADLINE)  # fetch path too
    assert rec.status == rec2.status == "ok"
    assert list(marker_dir.iterdir()) == []
    assert (out / "evil" / "data.bin").read_text().startswith("version https://git-lfs")
    assert "Git LFS pointers" in rec.message
    # No hook of ours or the student's made it into the cache.
    cache_hooks = out / ".repos" / "evil.git" / "hooks"
    assert not cache_hooks.exists() or list(cache_hooks.iterdir()) == []

    # The hooks were live: git runs them when asked to.
    scratch = new_repo(tmp_path / "scratch")
    commit(scratch, D_A, {"f": "f\n"})
    assert (marker_dir / "global-reference-transaction").exists()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(isolated_git))
    student.git.checkout("-q", "-b", "other")
    assert (marker_dir / "student-post-checkout").exists()


def test_symlinks_are_never_written(tmp_path):
    repo = new_repo(tmp_path / "src" / "links")
    commit(
        repo, D_A, {"hw/model.py": "m\n", "hw/data/x.txt": "x\n"},
        links={
            "hw/up": "../../../../../../etc/passwd",
            "hw/abs": "/etc/passwd",
            "hw/outside": "../README.md",  # inside the repo but outside the collected path
            "hw/alias.py": "model.py",
            "hw/chain.py": "alias.py",
            "hw/dir": "data",
        },
    )
    commit(repo, D_A + timedelta(minutes=1), {"README.md": "r\n"})
    out = tmp_path / "out"
    (rec,) = collect([RosterEntry("links", repo.working_tree_dir, path="hw")], out, deadline=DEADLINE)
    assert rec.status == "ok"
    folder = out / "links"
    assert not any(p.is_symlink() for p in folder.rglob("*"))
    assert files_of(folder) == {"model.py": "m\n", "data/x.txt": "x\n", "alias.py": "m\n", "chain.py": "m\n"}
    assert "skipped 4 symlink(s)" in rec.message
    for text in ("up -> ../../../../../../etc/passwd (points outside", "abs -> /etc/passwd", "outside -> ../README.md",
                 "dir -> data (points to a folder)"):
        assert text in rec.message
    assert "2 symlink(s) written as copies" in rec.message


def test_submodules_only_when_asked(tmp_path):
    lib = new_repo(tmp_path / "src" / "lib")
    lib_sha = commit(lib, D_A, {"layers.py": "inception\n"})
    commit(lib, D_A + timedelta(hours=1), {"layers.py": "newer, not pinned\n"})
    parent = new_repo(tmp_path / "src" / "parent")
    root = Path(parent.working_tree_dir)
    (root / ".gitmodules").write_text('[submodule "lib"]\n\tpath = vendor/lib\n\turl = ../lib\n')
    (root / "model.py").write_text("m\n")
    parent.git.add("-A")
    parent.git.update_index("--add", "--cacheinfo", f"160000,{lib_sha},vendor/lib")  # a gitlink, as `submodule add` makes
    parent.git.commit("-q", "-m", "with submodule", env={"GIT_COMMITTER_DATE": D_B.isoformat(), "GIT_AUTHOR_DATE": D_B.isoformat()})
    assert parent.git.ls_tree("HEAD", "vendor/lib").startswith("160000 commit")
    roster = [RosterEntry("p", parent.working_tree_dir)]

    (off,) = collect(roster, tmp_path / "off", deadline=DEADLINE)
    assert off.status == "ok" and "submodule(s) not collected (submodules are off): vendor/lib" in off.message
    assert files_of(tmp_path / "off" / "p") == {".gitmodules": '[submodule "lib"]\n\tpath = vendor/lib\n\turl = ../lib\n',
                                                "model.py": "m\n"}

    (on,) = collect(roster, tmp_path / "on", deadline=DEADLINE, submodules=True)
    assert on.status == "ok" and on.message == ""
    assert (tmp_path / "on" / "p" / "vendor" / "lib" / "layers.py").read_text() == "inception\n"


def test_resolve_relative_url():
    assert _resolve_relative_url("https://h/u/parent.git", "../lib.git") == "https://h/u/lib.git"
    assert _resolve_relative_url("git@h:u/parent.git", "../lib.git") == "git@h:u/lib.git"
    assert _resolve_relative_url("/srv/parent/", "./lib") == "/srv/parent/lib"


# --------------------------------------------------------------------------- re-running


def test_rerun_fetches_and_updates_in_place(tmp_path):
    alice = new_repo(tmp_path / "src" / "alice")
    first = commit(alice, D_A, {"model.py": "v1\n", "old.py": "gone soon\n"})
    bob = new_repo(tmp_path / "src" / "bob")
    bob_sha = commit(bob, D_A, {"model.py": "bob\n"})
    out = tmp_path / "out"
    roster = [RosterEntry("alice", alice.working_tree_dir), RosterEntry("bob", bob.working_tree_dir)]
    collect(roster, out, deadline=DEADLINE)
    rows_before = read_csv(out)
    assert [r["id"] for r in rows_before] in (["alice", "bob"], ["bob", "alice"])
    assert {r["id"]: r["commit"] for r in rows_before} == {"alice": first, "bob": bob_sha}

    cache = out / ".repos" / "alice.git"
    (cache / "keep-me").write_text("a re-clone would lose this file\n")
    objects_before = {p.name for p in (cache / "objects" / "pack").glob("*.pack")}

    second = commit(alice, D_B, {"model.py": "v2\n", "old.py": None, "new.py": "new\n"})
    (rec,) = collect([RosterEntry("alice", alice.working_tree_dir)], out, deadline=DEADLINE, jobs=1)
    assert (rec.commit, rec.status, rec.newer_commits) == (second, "ok", 0)
    assert (cache / "keep-me").exists()
    assert objects_before <= {p.name for p in (cache / "objects" / "pack").glob("*.pack")}
    assert files_of(out / "alice") == {"model.py": "v2\n", "new.py": "new\n"}

    rows_after = read_csv(out)
    assert [r["id"] for r in rows_after] == [r["id"] for r in rows_before]  # same order: updated in place
    after = {r["id"]: r for r in rows_after}
    assert after["bob"] == {r["id"]: r for r in rows_before}["bob"]
    assert after["alice"] == {
        "id": "alice", "repo": alice.working_tree_dir, "branch": "main", "commit": second,
        "committed_at": "2025-05-31T20:00:00+02:00", "authored_at": "2025-05-31T20:00:00+02:00",
        "late": "False", "newer_commits": "0", "flags": "", "status": "ok", "message": "",
    }
    assert sorted(p.name for p in out.iterdir()) == [".repos", "alice", "bob", "collect.csv"]

    # A later failure removes the stale folder so that it matches its row, and keeps the cache.
    (rec,) = collect([RosterEntry("alice", alice.working_tree_dir, branch="gone")], out, deadline=DEADLINE)
    assert rec.status == "branch_missing" and "folder was removed" in rec.message
    assert not (out / "alice").exists() and (cache / "keep-me").exists()
    assert {r["id"]: r["status"] for r in read_csv(out)} == {"alice": "branch_missing", "bob": "ok"}


def test_remote_head_branch_is_default(tmp_path):
    repo = new_repo(tmp_path / "src" / "m")
    commit(repo, D_A, {"f": "main\n"})
    repo.git.checkout("-q", "-b", "trunk")
    trunk = commit(repo, D_A + timedelta(minutes=5), {"f": "trunk\n"})
    (rec,) = collect([RosterEntry("m", repo.working_tree_dir)], tmp_path / "out", deadline=DEADLINE)
    assert (rec.branch, rec.commit) == ("trunk", trunk)
