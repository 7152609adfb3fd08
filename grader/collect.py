"""Collect students' submissions from their git repositories at the deadline.

The roster (a CSV file with columns ``id, repo`` and optional ``branch, path``)
names one repository per student.  :func:`collect` keeps a bare cache of every
repository (``into/.repos/<id>.git`` by default: cloned once, fetched on later
runs), picks the commit that counts as the submission from the committer
dates, and extracts that commit's files from the git object database into
``into/<id>/``.  One row per student is kept in ``into/collect.csv``.

Collection never runs student code:

* no checkout ever happens: files are read from the object database and
  written as plain regular files (no symlinks, no executable bits);
* every git command runs with ``core.hooksPath`` pointing at an empty folder,
  with the Git LFS smudge/process filters emptied and ``GIT_LFS_SKIP_SMUDGE=1``,
  without submodule recursion, and with ``GIT_TERMINAL_PROMPT=0`` so a password
  prompt fails at once instead of hanging;
* the cache repositories are created by us (``git init --bare --template=``), so
  no configuration, hook or attribute of the student's repository applies.

The module returns data and never prints; per-student problems become
:class:`CollectRecord` rows, never exceptions.  Only mistakes of the caller
(bad roster, bad deadline, unreadable ``collect.csv``) raise :class:`CollectError`.
"""

from __future__ import annotations

import csv
import hashlib
import os
import posixpath
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable

import git  # GitPython

__all__ = [
    "CSV_COLUMNS",
    "STATUSES",
    "CollectError",
    "CollectRecord",
    "RosterEntry",
    "collect",
    "parse_deadline",
    "read_roster",
]

#: Every status a :class:`CollectRecord` can have.
STATUSES = (
    "ok",
    "late",
    "not_found",
    "auth_failed",
    "empty_repo",
    "no_commit_before_deadline",
    "branch_missing",
    "path_missing",
    "too_large",
    "error",
)

#: Columns of ``into/collect.csv``, in order.
CSV_COLUMNS = [
    "id",
    "repo",
    "branch",
    "commit",
    "committed_at",
    "authored_at",
    "late",
    "newer_commits",
    "flags",
    "status",
    "message",
]

COLLECT_CSV = "collect.csv"
REPOS_DIR = ".repos"

#: How long one git network command (ls-remote, fetch) may run, in seconds.
GIT_TIMEOUT = 15 * 60
#: A committer date this far past "now" is flagged ``future_date``.
FUTURE_TOLERANCE = timedelta(minutes=5)
#: How deep nested submodules are followed when ``submodules=True``.
MAX_SUBMODULE_DEPTH = 3
#: How many symlink hops are followed inside a submission.
MAX_SYMLINK_HOPS = 8

_DEADLINE_EXAMPLE = "2025-05-31T23:59:00+02:00"
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"


class CollectError(Exception):
    """A mistake of the caller (roster, deadline, output folder); the message says what to do."""


@dataclass(frozen=True)
class RosterEntry:
    """One student: ``repo`` is any URL or local path git understands.

    ``branch`` None means the branch the remote HEAD points to; ``path`` None
    means the whole repository (otherwise a folder inside it, ``/``-separated).
    """

    id: str
    repo: str
    branch: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class CollectRecord:
    """What happened for one student; one row of ``collect.csv``.

    String fields are ``""`` when unknown (e.g. ``commit`` of a failed student).
    ``committed_at``/``authored_at`` are ISO-8601 with the commit's own UTC offset.
    ``flags`` is a ``;``-joined subset of ``future_date`` and ``before_parent``.
    """

    id: str
    repo: str
    branch: str = ""
    commit: str = ""
    committed_at: str = ""
    authored_at: str = ""
    late: bool = False
    newer_commits: int = 0
    flags: str = ""
    status: str = "error"
    message: str = ""

    def to_dict(self) -> dict:
        """The record as a dict in ``CSV_COLUMNS`` order (``late`` bool, ``newer_commits`` int)."""
        data = asdict(self)
        return {name: data[name] for name in CSV_COLUMNS}


# --------------------------------------------------------------------------- dates


def parse_deadline(text: str) -> datetime:
    """Parse an ISO-8601 date-time that carries a UTC offset (``Z`` allowed).

    Raises :class:`CollectError` (with an example) for anything else,
    including a date-time without an offset, which would be ambiguous.
    """
    raw = (text or "").strip()
    example = f"write it as ISO-8601 with a UTC offset, e.g. {_DEADLINE_EXAMPLE} (or ...T21:59:00Z)"
    if not raw:
        raise CollectError(f"empty deadline: {example}")
    candidate = raw[:-1] + "+00:00" if raw[-1:] in ("Z", "z") else raw
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        raise CollectError(f"cannot read the deadline {raw!r}: {example}") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise CollectError(f"the deadline {raw!r} has no UTC offset, so it is ambiguous: {example}")
    return value


def _check_aware(name: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise CollectError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise CollectError(
            f"{name} {value.isoformat()} has no time zone: give a timezone-aware datetime "
            f"(e.g. parse_deadline('{_DEADLINE_EXAMPLE}'))"
        )


# --------------------------------------------------------------------------- roster

_RESERVED_IDS = {COLLECT_CSV.lower()}


def _id_problem(student_id: str) -> str | None:
    """Why ``student_id`` cannot name a folder under ``into/``, or None when it can."""
    if not student_id:
        return "is empty"
    if "/" in student_id or "\\" in student_id:
        return "contains a path separator"
    if ".." in student_id:
        return "contains '..'"
    if student_id.startswith("."):
        return "starts with '.' (names starting with '.' are kept for the grader's own files)"
    if any(ord(ch) < 32 or ch == "\x7f" for ch in student_id):
        return "contains a control character"
    if student_id.lower() in _RESERVED_IDS:
        return f"is reserved ({COLLECT_CSV} is the grader's own file)"
    return None


def _looks_local(repo: str) -> bool:
    """True for a local path (not a URL, not scp-like ``host:path``)."""
    if "://" in repo:
        return False
    first = repo.split("/", 1)[0]
    return ":" not in first


def _check_subpath(path: str) -> str | None:
    if path.startswith("/") or path.startswith("\\"):
        return "must be relative to the repository root"
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return "must not contain '..'"
    return None


def _norm_subpath(path: str | None) -> str | None:
    if path is None:
        return None
    parts = [p for p in path.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts) or None


def read_roster(path) -> list[RosterEntry]:
    """Read the roster CSV: columns ``id, repo`` and optional ``branch, path``.

    Blank rows and rows whose id starts with ``#`` are skipped.  Empty
    ``branch``/``path`` cells become None.  A relative local repository path is
    resolved against the roster's folder.  Raises :class:`CollectError` for a
    missing file, a missing column, an empty/duplicate/unsafe id or an empty repo.
    """
    roster_path = Path(path)
    hint = "the roster is a CSV file with the header id,repo (optional columns: branch,path)"
    if not roster_path.is_file():
        raise CollectError(f"roster {roster_path} not found: {hint}")
    try:
        text = roster_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CollectError(f"cannot read roster {roster_path}: {exc}; save it as UTF-8 CSV") from None
    reader = csv.reader(text.splitlines())
    header: list[str] | None = None
    entries: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if header is None:
            if not any(cell.strip() for cell in row):
                continue
            header = [cell.strip().lower() for cell in row]
            missing = [col for col in ("id", "repo") if col not in header]
            if missing:
                raise CollectError(
                    f"roster {roster_path} has no {' and no '.join(repr(m) for m in missing)} column "
                    f"(columns found: {', '.join(header) or 'none'}): {hint}"
                )
            continue
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        student_id = cells.get("id", "")
        if student_id.startswith("#"):
            continue
        problem = _id_problem(student_id)
        if problem:
            raise CollectError(
                f"roster {roster_path}, line {line}: the id {student_id!r} {problem}; "
                "ids name the folders submissions are written to: use letters, digits, '-', '_', '.' or '@'"
            )
        key = student_id.casefold()
        if key in seen:
            raise CollectError(
                f"roster {roster_path}, line {line}: the id {student_id!r} already appears on line "
                f"{seen[key]} (ids are compared ignoring case); give each student exactly one row"
            )
        seen[key] = line
        repo = cells.get("repo", "")
        if not repo:
            raise CollectError(
                f"roster {roster_path}, line {line}: no repo for {student_id!r}; "
                "give a git URL (https://..., git@host:owner/repo.git) or a local path"
            )
        if _looks_local(repo):
            local = Path(os.path.expanduser(repo))
            if not local.is_absolute():
                local = roster_path.resolve().parent / local
            repo = str(local)
        sub = cells.get("path") or None
        if sub is not None:
            problem = _check_subpath(sub)
            if problem:
                raise CollectError(f"roster {roster_path}, line {line}: the path {sub!r} {problem}")
            sub = _norm_subpath(sub)
        entries.append(RosterEntry(id=student_id, repo=repo, branch=cells.get("branch") or None, path=sub))
    if header is None:
        raise CollectError(f"roster {roster_path} is empty: {hint}")
    return entries


# --------------------------------------------------------------------------- git plumbing


class _Fail(Exception):
    """A per-student failure: becomes a record, never escapes :func:`collect`."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Git:
    """Runs git with the safety settings shared by every command of one collect() call."""

    def __init__(self, hooks_dir: Path):
        self.config = [
            f"core.hooksPath={hooks_dir}",
            "core.fsmonitor=false",
            "filter.lfs.smudge=",
            "filter.lfs.process=",
            "filter.lfs.required=false",
            "submodule.recurse=false",
            "fetch.recurseSubmodules=false",
            "protocol.ext.allow=never",
            "credential.interactive=false",
            "http.lowSpeedLimit=1000",
            "http.lowSpeedTime=120",
        ]
        self.env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "GCM_INTERACTIVE": "never",
            "LC_ALL": "C",
            "LANGUAGE": "C",
        }

    def argv(self, *args: str) -> list[str]:
        out = ["git"]
        for item in self.config:
            out += ["-c", item]
        return out + list(args)

    def run(
        self,
        args: Iterable[str],
        cwd: Path,
        *,
        timeout: float = GIT_TIMEOUT,
        watch: Path | None = None,
        cap_bytes: int | None = None,
    ) -> tuple[int, str, str]:
        """Run git; return (returncode, stdout, stderr).

        With ``watch``/``cap_bytes`` the size of ``watch`` is polled while the
        command runs, and the command is stopped (``_Fail('too_large')``) once
        it exceeds the cap.  A command running past ``timeout`` is stopped too.
        """
        env = dict(os.environ)
        env.update(self.env)
        # Never let the caller's environment point git at another repository.
        for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
            env.pop(var, None)
        proc = subprocess.Popen(
            self.argv(*args),
            cwd=str(cwd),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # A new session has no controlling terminal: ssh cannot prompt either.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        out_b, err_b = b"", b""
        while True:
            try:
                out_b, err_b = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if watch is not None and cap_bytes is not None and _dir_size(watch) > cap_bytes:
                _kill(proc)
                raise _Fail(
                    "too_large",
                    f"the repository is larger than the size cap of {cap_bytes // 2**20} MB; "
                    "the download was stopped (raise size_cap_mb if this repository is expected to be that big)",
                )
            if time.monotonic() > deadline:
                _kill(proc)
                raise _Fail("error", f"git {' '.join(list(args)[:1])} did not finish within {int(timeout)} s; try again later")
        return proc.returncode, out_b.decode("utf-8", "replace"), err_b.decode("utf-8", "replace")


def _kill(proc: subprocess.Popen) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except OSError:
        pass
    try:
        proc.communicate(timeout=10)
    except Exception:  # pragma: no cover
        pass


def _dir_size(path: Path) -> int:
    total = 0
    stack = [str(path)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                for item in it:
                    try:
                        if item.is_dir(follow_symlinks=False):
                            stack.append(item.path)
                        else:
                            total += item.stat(follow_symlinks=False).st_size
                    except OSError:
                        pass
        except OSError:
            pass
    return total


def _last_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.lower().startswith(("fatal:", "error:", "remote:"))]
    chosen = (fatal or lines or ["(no output)"])[0]
    return chosen[:300]


_AUTH_MARKERS = (
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "authentication failed",
    "invalid username or password",
    "permission denied (publickey",
    "permission denied, please try again",
    "returned error: 401",
    "returned error: 403",
    "http 401",
    "http 403",
    "access denied",
    "access to the requested resource was denied",
)
_NOT_FOUND_MARKERS = (
    "does not appear to be a git repository",
    "repository not found",
    "returned error: 404",
    "http 404",
    "no such file or directory",
    "not a git repository",
    "project you were looking for could not be found",
)


def _classify(stderr: str, url: str) -> _Fail:
    """Turn the stderr of a failed ls-remote/fetch into a per-student failure."""
    low = stderr.lower()
    detail = _last_line(stderr)
    if "host key verification failed" in low:
        return _Fail(
            "auth_failed",
            f"the SSH host key of the server of {url} is not trusted yet: add it once with "
            f"ssh-keyscan <host> >> ~/.ssh/known_hosts, then collect again (git said: {detail})",
        )
    if any(marker in low for marker in _AUTH_MARKERS):
        return _Fail(
            "auth_failed",
            f"authentication refused for {url}: use an SSH URL (git@host:owner/repo.git) with a deploy key, "
            f"or an HTTPS URL with a token or a git credential helper (git said: {detail})",
        )
    if any(marker in low for marker in _NOT_FOUND_MARKERS) or re.search(r"repository '.*' not found", low):
        return _Fail(
            "not_found",
            f"repository not found: {url}; check the URL in the roster (a private repository you have "
            f"no access to can also look missing) (git said: {detail})",
        )
    if "could not resolve host" in low or "connection refused" in low or "timed out" in low:
        return _Fail("error", f"cannot reach the server of {url}; check the network and try again (git said: {detail})")
    return _Fail("error", f"git failed for {url}: {detail}")


def _resolve_url(repo: str) -> str:
    if _looks_local(repo):
        return os.path.abspath(os.path.expanduser(repo))
    return repo


def _is_local_url(url: str) -> bool:
    return _looks_local(url) or url.lower().startswith("file://")


def _resolve_relative_url(base: str, rel: str) -> str:
    """Resolve a ``./`` or ``../`` submodule URL against the superproject's URL, as git does."""
    base = base.rstrip("/")
    while True:
        if rel.startswith("./"):
            rel = rel[2:]
        elif rel.startswith("../"):
            rel = rel[3:]
            cut = max(base.rfind("/"), base.rfind(":"))
            if cut <= 0:
                base = "."
            else:
                base = base[:cut]
        else:
            break
    sep = "" if base.endswith(":") else "/"
    return f"{base}{sep}{rel}" if rel else base


# --------------------------------------------------------------------------- the collector


@dataclass
class _Choice:
    commit: git.Commit
    late: bool
    newer: int
    flags: list[str]
    notes: list[str]


class _Collector:
    def __init__(
        self,
        into: Path,
        cache_dir: Path,
        deadline: datetime | None,
        late_until: datetime | None,
        cap_bytes: int,
        submodules: bool,
    ):
        self.into = into
        self.cache_dir = cache_dir
        self.deadline = deadline
        self.late_until = late_until
        self.cap_bytes = cap_bytes
        self.submodules = submodules
        self.hooks_dir = cache_dir / ".no-hooks"
        self.git = _Git(self.hooks_dir)

    # -- repositories -------------------------------------------------------

    def _open(self, cache: Path) -> git.Repo:
        repo = git.Repo(str(cache))
        repo.git.set_persistent_git_options(c=list(self.git.config))
        repo.git.update_environment(**self.git.env)
        return repo

    def _ensure_cache(self, cache: Path, url: str) -> bool:
        """Create the bare cache repository if needed; return True when created now."""
        if cache.is_dir() and (cache / "HEAD").is_file() and (cache / "objects").is_dir():
            rc, _, err = self.git.run(["config", "remote.origin.url", url], cwd=cache)
            if rc == 0:
                return False
        if cache.exists():
            shutil.rmtree(cache, ignore_errors=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        rc, _, err = self.git.run(["init", "--bare", "--quiet", "--template=", str(cache)], cwd=cache.parent)
        if rc != 0:
            raise _Fail("error", f"cannot create the cache repository {cache}: {_last_line(err)}")
        rc, _, err = self.git.run(["config", "remote.origin.url", url], cwd=cache)
        if rc != 0:
            raise _Fail("error", f"cannot configure the cache repository {cache}: {_last_line(err)}")
        return True

    def _ls_remote(self, cache: Path, url: str) -> tuple[dict[str, str], str | None, str | None]:
        """Return ({branch: sha}, branch HEAD points to or None, sha of HEAD or None)."""
        rc, out, err = self.git.run(["ls-remote", "--symref", "origin", "HEAD", "refs/heads/*"], cwd=cache)
        if rc != 0:
            raise _classify(err, url)
        heads: dict[str, str] = {}
        head_branch = head_sha = None
        for line in out.splitlines():
            if line.startswith("ref: "):
                target, _, name = line[5:].partition("\t")
                if name == "HEAD" and target.startswith("refs/heads/"):
                    head_branch = target[len("refs/heads/"):]
                continue
            sha, _, name = line.partition("\t")
            if name == "HEAD":
                head_sha = sha
            elif name.startswith("refs/heads/"):
                heads[name[len("refs/heads/"):]] = sha
        return heads, head_branch, head_sha

    def _fetch(self, cache: Path, url: str, refspecs: list[str]) -> None:
        rc, _, err = self.git.run(
            ["fetch", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", "--prune", "origin", *refspecs],
            cwd=cache,
            watch=cache,
            cap_bytes=self.cap_bytes,
        )
        if rc != 0:
            raise _classify(err, url)
        if _dir_size(cache) > self.cap_bytes:
            raise _Fail(
                "too_large",
                f"the repository is larger than the size cap of {self.cap_bytes // 2**20} MB "
                "(raise size_cap_mb if this repository is expected to be that big)",
            )

    @staticmethod
    def _pick_branch(heads: dict[str, str], head_branch: str | None, head_sha: str | None) -> str | None:
        if head_branch and head_branch in heads:
            return head_branch
        same = [name for name, sha in heads.items() if sha == head_sha]
        for pool in (same, list(heads)):
            for preferred in ("main", "master"):
                if preferred in pool:
                    return preferred
            if len(pool) == 1:
                return pool[0]
        return None

    # -- choosing the commit -------------------------------------------------

    def _choose(self, repo: git.Repo, tip: git.Commit, branch: str, now: datetime) -> _Choice:
        chain: list[git.Commit] = []
        taken: git.Commit | None = None
        limit = self.late_until or self.deadline
        commit: git.Commit | None = tip
        while commit is not None:
            chain.append(commit)
            if limit is None or commit.committed_datetime <= limit:
                taken = commit
                break
            commit = commit.parents[0] if commit.parents else None
        if taken is None:
            oldest = chain[-1]
            window = f" or within the late window (until {self.late_until.isoformat()})" if self.late_until else ""
            raise _Fail(
                "no_commit_before_deadline",
                f"no commit on branch {branch!r} is dated on or before the deadline ({self.deadline.isoformat()}){window}; "
                f"its oldest commit is dated {oldest.committed_datetime.isoformat()} and its newest "
                f"{tip.committed_datetime.isoformat()}",
            )
        late = self.deadline is not None and taken.committed_datetime > self.deadline
        if taken.binsha == tip.binsha:
            newer = 0
        else:
            newer = int(repo.git.rev_list("--count", f"{taken.hexsha}..{tip.hexsha}").strip() or 0)
        flags: list[str] = []
        notes: list[str] = []
        # Flags look at every commit the choice looked at: the tip down to the taken commit.
        future = [c for c in chain if c.committed_datetime > now + FUTURE_TOLERANCE]
        if future:
            flags.append("future_date")
            c = future[-1]
            notes.append(f"future_date: commit {c.hexsha[:12]} is dated {c.committed_datetime.isoformat()}, in the future")
        backward = []
        for c in chain:
            older = [p for p in c.parents if c.committed_datetime < p.committed_datetime]
            if older:
                backward.append((c, older[0]))
        if backward:
            flags.append("before_parent")
            c, p = backward[-1]
            notes.append(
                f"before_parent: commit {c.hexsha[:12]} ({c.committed_datetime.isoformat()}) is dated before its "
                f"parent {p.hexsha[:12]} ({p.committed_datetime.isoformat()})"
            )
        return _Choice(commit=taken, late=late, newer=newer, flags=flags, notes=notes)

    # -- one student ---------------------------------------------------------

    def collect_one(self, entry: RosterEntry) -> CollectRecord:
        url = _resolve_url(entry.repo)
        base = dict(id=entry.id, repo=entry.repo)
        branch = entry.branch or ""
        self._clean_leftovers(entry.id)
        try:
            cache = self.cache_dir / f"{entry.id}.git"
            created = self._ensure_cache(cache, url)
            try:
                heads, head_branch, head_sha = self._ls_remote(cache, url)
            except _Fail:
                if created:
                    shutil.rmtree(cache, ignore_errors=True)
                raise
            if not heads:
                raise _Fail("empty_repo", f"the repository {url} is empty (no branch has any commit yet)")
            if not branch:
                picked = self._pick_branch(heads, head_branch, head_sha)
                if picked is None:
                    raise _Fail(
                        "branch_missing",
                        "the remote HEAD names no branch; set the branch column of the roster "
                        f"(branches: {', '.join(sorted(heads))})",
                    )
                branch = picked
            if branch not in heads:
                raise _Fail(
                    "branch_missing",
                    f"branch {branch!r} does not exist in {url}; existing branches: {', '.join(sorted(heads))} "
                    "(fix the branch column of the roster)",
                )
            try:
                self._fetch(cache, url, [f"+refs/heads/{branch}:refs/remotes/origin/{branch}"])
            except _Fail as fail:
                if fail.status == "too_large":
                    shutil.rmtree(cache, ignore_errors=True)
                raise
            now = datetime.now(timezone.utc)
            repo = self._open(cache)
            try:
                tip = repo.commit(f"refs/remotes/origin/{branch}")
                choice = self._choose(repo, tip, branch, now)
                notes = list(choice.notes)
                notes += self._materialize(repo, choice.commit, entry, url)
            finally:
                repo.close()
            c = choice.commit
            if choice.late:
                late_by = c.committed_datetime - self.deadline
                notes.insert(0, f"committed {_human(late_by)} after the deadline, within the late window")
            return CollectRecord(
                **base,
                branch=branch,
                commit=c.hexsha,
                committed_at=c.committed_datetime.isoformat(),
                authored_at=c.authored_datetime.isoformat(),
                late=choice.late,
                newer_commits=choice.newer,
                flags=";".join(choice.flags),
                status="late" if choice.late else "ok",
                message="; ".join(notes),
            )
        except _Fail as fail:
            message = fail.message
            if self._remove_submission(entry.id):
                message += f" (the previous {entry.id}/ folder was removed so that it matches this row)"
            return CollectRecord(**base, branch=branch, status=fail.status, message=message)
        except Exception as exc:  # never let one student stop the others
            message = f"unexpected error: {type(exc).__name__}: {exc}"
            if self._remove_submission(entry.id):
                message += f" (the previous {entry.id}/ folder was removed so that it matches this row)"
            return CollectRecord(**base, branch=branch, status="error", message=message[:1000])

    # -- files ---------------------------------------------------------------

    def _clean_leftovers(self, student_id: str) -> None:
        for pattern in (f".{student_id}.tmp-*", f".{student_id}.old-*"):
            for stale in self.into.glob(pattern):
                shutil.rmtree(stale, ignore_errors=True)

    def _remove_submission(self, student_id: str) -> bool:
        target = self.into / student_id
        if not target.exists() and not target.is_symlink():
            return False
        trash = self.into / f".{student_id}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, trash)
        shutil.rmtree(trash, ignore_errors=True)
        return True

    def _materialize(self, repo: git.Repo, commit: git.Commit, entry: RosterEntry, url: str) -> list[str]:
        tree = commit.tree
        sub = _norm_subpath(entry.path)
        if sub:
            try:
                obj = tree / sub
            except KeyError:
                top = sorted(item.name + ("/" if item.type == "tree" else "") for item in tree)
                shown = ", ".join(top[:15]) + (", ..." if len(top) > 15 else "")
                raise _Fail(
                    "path_missing",
                    f"folder {sub!r} does not exist in commit {commit.hexsha[:12]}; its top level has: {shown or 'nothing'} "
                    "(fix the path column of the roster)",
                ) from None
            if obj.type != "tree":
                raise _Fail("path_missing", f"{sub!r} is a file, not a folder, in commit {commit.hexsha[:12]} (fix the path column)")
            tree = obj
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.id}.tmp-", dir=self.into))
        try:
            extractor = _Extractor(self, entry, tmp, commit.committed_datetime.timestamp())
            extractor.extract(repo, commit, tree, rel_prefix="", repo_prefix=sub or "", url=url, depth=0)
            target = self.into / entry.id
            if target.exists() or target.is_symlink():
                trash = self.into / f".{entry.id}.old-{uuid.uuid4().hex[:8]}"
                os.replace(target, trash)
                os.replace(tmp, target)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return extractor.summary()


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}min")
    if not parts:
        parts.append(f"{seconds}s")
    return " ".join(parts)


def _bad_name(name: str) -> bool:
    return (
        name in ("", ".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or name.lower() == ".git"
    )


class _Extractor:
    """Writes a tree as regular files, following the safety rules of the module."""

    def __init__(self, collector: _Collector, entry: RosterEntry, dest: Path, mtime: float):
        self.c = collector
        self.entry = entry
        self.dest = dest
        self.mtime = mtime
        self.written = 0
        self.skipped_links: list[str] = []
        self.copied_links: list[str] = []
        self.skipped_names: list[str] = []
        self.skipped_submodules: list[str] = []
        self.submodule_notes: list[str] = []
        self.lfs: list[str] = []

    def summary(self) -> list[str]:
        notes = []

        def listing(items: list[str]) -> str:
            return ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")

        if self.skipped_links:
            notes.append(f"skipped {len(self.skipped_links)} symlink(s) not written: {listing(self.skipped_links)}")
        if self.copied_links:
            notes.append(f"{len(self.copied_links)} symlink(s) written as copies of their targets: {listing(self.copied_links)}")
        if self.skipped_names:
            notes.append(f"skipped {len(self.skipped_names)} entr(ies) with unsafe names: {listing(self.skipped_names)}")
        if self.skipped_submodules:
            notes.append(
                f"submodule(s) not collected (submodules are off): {listing(self.skipped_submodules)}"
            )
        notes += self.submodule_notes
        if self.lfs:
            notes.append(f"{len(self.lfs)} file(s) are Git LFS pointers (LFS content not downloaded): {listing(self.lfs)}")
        return notes

    def _too_large(self, size: int) -> _Fail:
        return _Fail(
            "too_large",
            f"the submission's files add up to {size / 2**20:.1f} MB, over the size cap of "
            f"{self.c.cap_bytes // 2**20} MB (raise size_cap_mb if that is expected)",
        )

    def extract(self, repo: git.Repo, commit: git.Commit, tree, *, rel_prefix: str, repo_prefix: str, url: str, depth: int) -> None:
        files: dict[str, object] = {}  # rel path -> blob
        dirs: set[str] = {""}
        links: dict[str, object] = {}
        gitlinks: list[tuple[str, str, str]] = []  # (rel path, path in repo, sha)

        def walk(t, rel: str, in_repo: str) -> None:
            for item in t:
                # item.path, not item.name: a Submodule's name would read .gitmodules through HEAD.
                name = posixpath.basename(item.path)
                rel_path = f"{rel}{name}" if not rel else f"{rel}/{name}"
                repo_path = f"{in_repo}/{name}" if in_repo else name
                if _bad_name(name):
                    self.skipped_names.append(rel_prefix + rel_path)
                    continue
                if item.type == "tree":
                    dirs.add(rel_path)
                    walk(item, rel_path, repo_path)
                elif item.type == "blob":
                    if item.mode & 0o170000 == 0o120000:
                        links[rel_path] = item
                    else:
                        files[rel_path] = item
                elif item.type == "submodule":
                    gitlinks.append((rel_path, repo_path, item.hexsha))

        walk(tree, "", repo_prefix)

        total = self.written + sum(blob.size for blob in files.values())
        if total > self.c.cap_bytes:
            raise self._too_large(total)

        for rel, blob in files.items():
            self._write(rel_prefix + rel, blob)

        for rel, blob in links.items():
            target = blob.data_stream.read().decode("utf-8", "replace")
            resolved = self._follow(rel, target, files, links, dirs)
            shown = f"{rel_prefix}{rel} -> {target}"
            if isinstance(resolved, str):
                self.skipped_links.append(f"{shown} ({resolved})")
            else:
                if self.written + resolved.size > self.c.cap_bytes:
                    raise self._too_large(self.written + resolved.size)
                self._write(rel_prefix + rel, resolved)
                self.copied_links.append(shown)

        for rel, repo_path, sha in gitlinks:
            if not self.c.submodules:
                self.skipped_submodules.append(rel_prefix + rel)
                continue
            self._submodule(repo, commit, rel_prefix + rel, repo_path, sha, url, depth)

    @staticmethod
    def _follow(rel: str, target: str, files: dict, links: dict, dirs: set):
        """The blob a symlink resolves to inside the submission, or a str saying why not."""
        current, dest = rel, target
        for _ in range(MAX_SYMLINK_HOPS):
            if dest.startswith("/") or dest.startswith("\\") or re.match(r"^[A-Za-z]:", dest):
                return "points outside the submission"
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(current), dest))
            if joined == ".." or joined.startswith("../"):
                return "points outside the submission"
            if joined in files:
                return files[joined]
            if joined in links:
                current = joined
                dest = links[joined].data_stream.read().decode("utf-8", "replace")
                continue
            if joined in dirs or joined == ".":
                return "points to a folder"
            return "target missing"
        return "too many levels of symlinks"

    def _write(self, rel: str, blob) -> None:
        path = self.dest.joinpath(*rel.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = blob.data_stream
        head = b""
        with open(path, "wb") as out:
            first = True
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    break
                if first:
                    head = chunk[:64]
                    first = False
                out.write(chunk)
        os.chmod(path, 0o644)
        os.utime(path, (self.mtime, self.mtime))
        self.written += blob.size
        if blob.size < 1024 and head.startswith(_LFS_POINTER):
            self.lfs.append(rel)

    def _submodule(self, repo: git.Repo, commit: git.Commit, rel: str, repo_path: str, sha: str, url: str, depth: int) -> None:
        if depth >= MAX_SUBMODULE_DEPTH:
            self.submodule_notes.append(f"submodule {rel} not collected: nested deeper than {MAX_SUBMODULE_DEPTH} levels")
            return
        sub_url = None
        try:
            listing = repo.git.config("-z", "--blob", f"{commit.hexsha}:.gitmodules", "--list")
        except git.GitCommandError:
            listing = ""
        pairs = {}
        for item in listing.split("\x00"):
            key, _, value = item.partition("\n")
            if key:
                pairs[key] = value
        for key, value in pairs.items():
            if key.startswith("submodule.") and key.endswith(".path") and value.strip("/") == repo_path:
                sub_url = pairs.get(key[: -len(".path")] + ".url")
                break
        if not sub_url:
            self.submodule_notes.append(f"submodule {rel} not collected: no URL for it in .gitmodules")
            return
        if sub_url.startswith(("./", "../")):
            sub_url = _resolve_relative_url(url, sub_url)
        if sub_url.startswith("-") or "::" in sub_url.split("/", 1)[0] or sub_url.lower().startswith("ext::"):
            self.submodule_notes.append(f"submodule {rel} not collected: unsupported URL {sub_url!r}")
            return
        if _is_local_url(sub_url) and not _is_local_url(url):
            self.submodule_notes.append(
                f"submodule {rel} not collected: its URL {sub_url!r} is a local path of this machine, "
                "which a remote repository may not refer to"
            )
            return
        if _looks_local(sub_url):
            sub_url = _resolve_url(sub_url)
        key = hashlib.sha1(sub_url.encode()).hexdigest()[:16]
        cache = self.c.cache_dir / f"{self.entry.id}.modules" / f"{key}.git"
        try:
            self.c._ensure_cache(cache, sub_url)
            self.c._fetch(cache, sub_url, ["+refs/heads/*:refs/remotes/origin/*"])
            sub_repo = self.c._open(cache)
            try:
                try:
                    sub_commit = sub_repo.commit(sha)
                    _ = sub_commit.tree
                except (ValueError, git.BadName, git.BadObject):
                    self.c._fetch(cache, sub_url, [sha])
                    sub_commit = sub_repo.commit(sha)
                self.extract(
                    sub_repo, sub_commit, sub_commit.tree, rel_prefix=f"{rel}/", repo_prefix="", url=sub_url, depth=depth + 1
                )
            finally:
                sub_repo.close()
        except _Fail as fail:
            if fail.status == "too_large":
                raise
            self.submodule_notes.append(f"submodule {rel} not collected: {fail.message}")
        except (ValueError, git.BadName, git.BadObject, git.GitCommandError):
            self.submodule_notes.append(f"submodule {rel} not collected: commit {sha[:12]} not found in {sub_url}")


# --------------------------------------------------------------------------- collect.csv


def _read_csv(path: Path):
    import pandas as pd

    if not path.exists():
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise CollectError(
            f"cannot read {path}: {exc}; move it away (collect writes a new one) and collect again"
        ) from None
    if "id" not in frame.columns:
        raise CollectError(
            f"{path} has no 'id' column, so it was not written by collect; move it away and collect again"
        )
    return frame


def _write_csv(path: Path, existing, records: list[CollectRecord]):
    """Replace the rows of ``records`` in place, keep the others, write atomically. Returns the new frame."""
    import pandas as pd

    new_rows = {}
    for record in records:
        row = record.to_dict()
        row["late"] = str(bool(row["late"]))
        row["newer_commits"] = str(int(row["newer_commits"]))
        new_rows[record.id] = row
    extra: list[str] = []
    rows: list[dict] = []
    if existing is not None:
        extra = [col for col in existing.columns if col not in CSV_COLUMNS]
        for row in existing.to_dict("records"):
            rid = str(row.get("id", ""))
            if rid in new_rows:
                merged = {col: row.get(col, "") for col in extra}
                merged.update(new_rows.pop(rid))
                rows.append(merged)
            else:
                rows.append(row)
    rows += list(new_rows.values())
    frame = pd.DataFrame(rows, columns=CSV_COLUMNS + extra).fillna("")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return frame


# --------------------------------------------------------------------------- entry point


def collect(
    roster: list[RosterEntry],
    into: Path,
    *,
    deadline: datetime | None,
    late_until: datetime | None = None,
    jobs: int = 4,
    cache_dir: Path | None = None,
    size_cap_mb: int = 200,
    submodules: bool = False,
    on_progress: Callable[[CollectRecord], None] | None = None,
) -> list[CollectRecord]:
    """Collect every student of ``roster`` into ``into/<id>/``; return records in roster order.

    The submission is the newest commit (walking the branch's first-parent
    history from its tip) whose committer date is <= ``deadline``.  With
    ``late_until``, a commit dated after the deadline but <= ``late_until`` is
    taken instead when there is one, with ``late=True`` (status ``late``).
    ``deadline=None`` takes the branch tip.  ``newer_commits`` counts the commits
    on the branch that are not in the taken one.

    ``into/collect.csv`` gets one row per student (rows of students not in
    ``roster`` are kept).  A student who fails gets a record with a status and a
    message and their ``into/<id>/`` folder is removed (the cache is kept).
    ``on_progress`` is called in the calling thread after each student.
    Raises :class:`CollectError` only for caller mistakes: naive datetimes,
    ``late_until`` without or before ``deadline``, duplicate or unsafe ids,
    an unreadable ``collect.csv``.
    """
    _check_aware("deadline", deadline)
    _check_aware("late_until", late_until)
    if late_until is not None:
        if deadline is None:
            raise CollectError("late_until needs a deadline: give the deadline too")
        if late_until < deadline:
            raise CollectError(
                f"late_until ({late_until.isoformat()}) is before the deadline ({deadline.isoformat()}): "
                "the late window must end after the deadline"
            )
    if jobs < 1:
        raise CollectError(f"jobs must be at least 1, not {jobs}")
    if size_cap_mb <= 0:
        raise CollectError(f"size_cap_mb must be positive, not {size_cap_mb}")
    seen: dict[str, str] = {}
    for entry in roster:
        problem = _id_problem(entry.id)
        if problem:
            raise CollectError(f"the id {entry.id!r} {problem}; fix the roster")
        key = entry.id.casefold()
        if key in seen:
            raise CollectError(f"the id {entry.id!r} appears twice in the roster (as {seen[key]!r} too); give each student one row")
        seen[key] = entry.id

    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cache_dir) if cache_dir is not None else into / REPOS_DIR
    cache_dir.mkdir(parents=True, exist_ok=True)
    csv_path = into / COLLECT_CSV
    existing = _read_csv(csv_path)

    collector = _Collector(
        into=into,
        cache_dir=cache_dir,
        deadline=deadline,
        late_until=late_until,
        cap_bytes=size_cap_mb * 2**20,
        submodules=submodules,
    )
    hooks = collector.hooks_dir
    if hooks.exists() and (not hooks.is_dir() or any(hooks.iterdir())):
        shutil.rmtree(hooks) if hooks.is_dir() else hooks.unlink()
    hooks.mkdir(exist_ok=True)

    results: dict[int, CollectRecord] = {}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="collect") as pool:
        futures = {pool.submit(collector.collect_one, entry): index for index, entry in enumerate(roster)}
        for future in as_completed(futures):
            index = futures[future]
            record = future.result()  # collect_one never raises
            results[index] = record
            existing = _write_csv(csv_path, existing, [record])
            if on_progress is not None:
                on_progress(record)
    if not roster and existing is None:
        _write_csv(csv_path, None, [])
    return [results[i] for i in range(len(roster))]

