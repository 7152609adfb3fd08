"""The command line: the only module that parses arguments and prints.

Everything below returns data; this module turns it into terminal output, files
and exit statuses (0: no error-severity finding, 1: there is one, 2: could not
grade at all).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import tfenv
from ._version import __version__
from .assignment import AssignmentError
from .dist import CPU_EXTRA, DISTRIBUTION
from .assignment import load as load_assignment
from .fsutil import write_atomic

EXIT_OK, EXIT_FINDINGS, EXIT_UNGRADABLE = 0, 1, 2
TRACE_KEYS = ("filters", "kernel_size", "strides", "padding", "activation", "pool_size", "units", "rate",
              "axis", "depth_radius", "ksize")
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


class UsageError(Exception):
    """A problem with the command's input: printed as one clear message, exit 2."""


def _console(args, stderr=False) -> Console:
    no_color = getattr(args, "no_color", False) or bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False,
                   force_terminal=None if not no_color else False)


def _require_keras():
    """TensorFlow with Keras 3 is needed to grade.  The grader brings no TensorFlow
    of its own (it uses the installed one), so say which extra brings one."""
    st = tfenv.status()
    if st.ok:
        return
    raise UsageError(
        f"{st.problem}. The grader uses the TensorFlow already installed and installs none itself; "
        f"on a machine without one, install the grader with its [{CPU_EXTRA}] extra: "
        f"pip install '{DISTRIBUTION}[{CPU_EXTRA}]' (tensorflow-cpu on Linux x86-64, tensorflow elsewhere), "
        "or install TensorFlow 2.16+ yourself (pip install tensorflow)")


def _assignment(args):
    given = getattr(args, "assignment", None)
    if isinstance(given, list):
        if len(given) > 1:
            raise UsageError("one --assignment only here; several (or a unit file) are for `grader batch`")
        given = given[0]
    try:
        return load_assignment(given, solution=getattr(args, "solution", None))
    except AssignmentError as e:
        raise UsageError(f"invalid assignment file: {e}") from None


def _tasks(args) -> list:
    """(name, assignment) of every task the --assignment files name (a unit file names several)."""
    from .assignment import load_tasks

    try:
        return load_tasks(args.assignment) if args.assignment else []
    except AssignmentError as e:
        raise UsageError(f"invalid assignment file: {e}") from None


# -- check ---------------------------------------------------------------------------------


def find_submission(folder: Path, entry_names) -> Path:
    """The submission in ``folder`` for `grader check` with no argument."""
    for name in entry_names:
        if (folder / name).is_file():
            return folder / name
    cands = sorted(p.name for p in folder.iterdir() if p.suffix in (".py", ".ipynb") and not p.name.startswith("."))
    if len(cands) == 1:
        return folder / cands[0]
    if not cands:
        raise UsageError(f"no .py or .ipynb file in {folder}; run `grader check FILE`")
    raise UsageError(f"several candidates in {folder}: {', '.join(cands)}. Run `grader check FILE`, "
                     f"or name your file one of: {', '.join(entry_names[:4])}")


def _sandbox_choice(args, console, *, batch: bool) -> bool:
    from . import sandbox

    if getattr(args, "no_sandbox", False) or getattr(args, "unsafe_no_sandbox", False):
        return False
    st = sandbox.sandbox_status()
    if st.available:
        return True
    if batch:
        raise UsageError(f"refusing to run untrusted code without a sandbox: {st.reason}. "
                         "Install bubblewrap, or pass --unsafe-no-sandbox to run anyway.")
    if not getattr(args, "quiet", False):
        console.print(f"[yellow]note:[/] running without a sandbox ({escape(str(st.reason))}).", highlight=False)
    return False


def cmd_check(args) -> int:
    console = _console(args)
    err = _console(args, stderr=True)
    A = _assignment(args)
    _require_keras()
    ci = args.ci or os.environ.get("CI", "").lower() == "true"
    path = Path(args.submission) if args.submission else find_submission(Path.cwd(), A.entry_files)
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    from . import check
    from .render import write_html
    from .submission import LoadError, load

    try:
        sub = load(path, A.entry_files)
    except LoadError as e:
        raise UsageError(str(e)) from None
    use_sandbox = _sandbox_choice(args, err, batch=False)
    report, sub = check.grade(path, A, use_sandbox=use_sandbox, timeout_s=args.timeout, submission=sub)
    out = Path(args.out) if args.out else Path("reports") / report.submission.id
    write_atomic(out / "report.json", report.to_json())
    html = write_html(report, out / "report.html", lang=args.lang, source_files=sub.source_texts() if sub else None,
                      part_titles=A.titles(args.lang))
    if args.json:
        write_atomic(args.json, report.to_json())
    if ci:
        _ci_outputs(args, report, path)
    if not args.quiet:
        print_report(console, report)
        console.print(Text(f"report: {html}"))
    roots_err = [f for f in report.roots() if f.severity == "error"]
    if args.min_score is not None:
        return EXIT_OK if report.score >= args.min_score else EXIT_FINDINGS
    return EXIT_FINDINGS if roots_err else EXIT_OK


def _repo_root(path: Path) -> Path:
    try:
        out = subprocess.run(["git", "-C", str(path if path.is_dir() else path.parent), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    return Path.cwd()


def _ci_outputs(args, report, path: Path):
    from .render import ci, junit

    root = _repo_root(path)
    sub_root = path if path.is_dir() else path.parent
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in ci.github_annotations(report, repo_root=root, submission_root=sub_root):
            print(line)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as f:
                f.write(ci.github_step_summary(report, report_link=ci.github_run_url()) + "\n")
    cq = args.codequality or ("gl-code-quality-report.json" if os.environ.get("GITLAB_CI") == "true" else None)
    if cq:
        write_atomic(cq, ci.gitlab_codequality_json(report, repo_root=root, submission_root=sub_root))
    if args.junit:
        write_atomic(args.junit, junit.junit_xml(report))


def describe_origin(origin) -> str:
    """How the graded model was obtained, as one line of the terminal report."""
    if origin is None:
        return ""
    at = f" at {origin.source.label()}" if origin.source else ""
    if origin.how == "builder":
        text = f"built by calling {origin.call or origin.name + '()'}"
        return text + (" and wrapping its outputs in a Model" if origin.wrapped else "")
    if origin.how == "object":
        return f"the global `{origin.name}` (built{at})" if at else f"the global `{origin.name}`"
    if origin.how == "global":
        return f"`{origin.name}`, the largest model among the script's globals"
    if origin.how == "task":
        return f"the block function graded alone: {origin.call or origin.name + '()'}"
    if origin.how == "wrapped":
        return f"the network the script built from its Input{at} without a Model, wrapped as {origin.call}"
    return f"the model `{origin.name}` built{at}, which the script did not keep in a global"


def print_report(console: Console, report) -> None:
    """The terminal summary: score per part, root findings first with file:line,
    consequences collapsed under their root."""
    head = Text()
    head.append(f"{report.submission.id}", style="bold")
    head.append(f"  {report.score:g}/{report.max_score:g}  ")
    head.append(report.status, style="green" if report.status == "graded" else "bold red")
    console.print(head)
    origin = describe_origin(report.model.origin)
    if origin:
        console.print(Text(f"model: {origin}", style="dim"))
    t = Table(box=box.SIMPLE, show_header=True, header_style="bold", pad_edge=False)
    t.add_column("part")
    t.add_column("score", justify="right")
    t.add_column("how it was earned", style="dim")
    for p in report.parts:
        t.add_row(Text(p.title or p.name), f"{round(p.score, 1):g}/{p.max_score:g}", Text(p.summary or ""))
    console.print(t)
    roots = report.roots()
    order = {"error": 0, "warning": 1, "info": 2}
    roots.sort(key=lambda f: (order.get(f.severity, 3), int(f.id[1:]) if f.id[1:].isdigit() else 0))
    if not roots:
        console.print("[green]No findings: the network matches GoogLeNet.[/]")
    for f in roots:
        line = Text()
        line.append(f"{f.severity:<7} ", style=SEVERITY_STYLE.get(f.severity, ""))
        line.append(f"{f.code} ", style="bold")
        line.append(f"at {f.location}")
        if f.source:
            line.append(f"  {f.source.label()}", style="dim")
        if f.deduction:
            line.append(f"  -{f.deduction:g}", style="red")
        console.print(line)
        console.print(Text("    " + f.message))
        cons = report.consequences(f)
        if cons:
            locs = ", ".join(sorted({c.location for c in cons})[:6])
            more = "" if len({c.location for c in cons}) <= 6 else ", ..."
            console.print(Text(f"    + {len(cons)} consequence(s): {locs}{more}", style="dim"))


# -- trace ----------------------------------------------------------------------------------


def cmd_trace(args) -> int:
    console = _console(args)
    A = _assignment(args)
    _require_keras()
    from . import trace
    from .submission import LoadError, load

    try:
        sub = load(args.submission, A.entry_files)
    except LoadError as e:
        raise UsageError(str(e)) from None
    res = trace.run_trace(sub, A, use_sandbox=_sandbox_choice(args, _console(args, True), batch=False),
                          timeout_s=args.timeout)
    if args.json:
        print(json.dumps({"status": res.status, "detail": res.detail, "trace": res.trace}, indent=2))
        return EXIT_OK if res.status == "ok" else EXIT_FINDINGS
    console.print(f"[bold]{escape(sub.id)}[/]  status: {res.status} {escape(str(res.detail or ''))}", highlight=False)
    t = res.trace or {}
    if t.get("error"):
        e = t["error"]
        src = e.get("source")
        where = sub.source(src["file"], src["line"]).label() if src else "?"
        console.print(Text(f"error: {e.get('type')}: {e.get('message', '')[:500]} at {where}", style="red"))
    g = t.get("graph")
    if g:
        byid = {n["id"]: n for n in g["nodes"]}

        def depth(n):
            k = 0
            while n.get("parent") in byid and k < 50:
                n = byid[n["parent"]]
                k += 1
            return k

        table = Table(box=box.SIMPLE_HEAD, header_style="bold")
        for c in ("id", "layer", "output shape", "params", "config", "source"):
            table.add_column(c)
        for n in g["nodes"]:
            src = n.get("source")
            label = sub.source(src["file"], src["line"]).label() if src else ""
            cfg = ", ".join(f"{k}={v}" for k, v in (n.get("config") or {}).items() if k in TRACE_KEYS)
            shapes = "; ".join(str(tuple(s)) for s in n.get("out_shapes") or [] if s is not None)
            table.add_row(*(Text(str(c)) for c in (n["id"], "  " * depth(n) + f"{n['class']} ({n.get('name', '')})",
                                                   shapes, n.get("params", 0), cfg[:80], label)))
        console.print(table)
    for note in t.get("notes") or []:
        src = note.get("source")
        where = sub.source(src['file'], src['line']).label() if src else '?'
        console.print(Text.assemble(("skipped", "cyan"), f" {note.get('call')} at {where}"))
    if t.get("probe"):
        p = t["probe"]
        console.print(Text(f"probe: {p.get('kind')} {p.get('name')} signature={p.get('signature')} "
                           f"arguments={p.get('arguments')}" + (f" error={p['error']}" if p.get("error") else "")))
    return EXIT_OK if res.status == "ok" else EXIT_FINDINGS


# -- reference -------------------------------------------------------------------------------


def cmd_reference(args) -> int:
    _require_keras()
    from . import reftable

    # the one command that imports TensorFlow in the grader's own process
    A = _assignment(args) if getattr(args, "assignment", None) or getattr(args, "solution", None) else None
    with tfenv.native_stderr_filtered():
        table = reftable.reference_table(A)
    if args.json:
        print(json.dumps(table.to_json(), indent=2))
        return EXIT_OK
    width = args.width or shutil.get_terminal_size((80, 24)).columns
    sys.stdout.write(reftable.render_text(table, width=width, wide=args.wide))
    return EXIT_OK


# -- batch and friends ------------------------------------------------------------------------


def cmd_batch(args) -> int:
    if getattr(args, "solution", None):  # one network: the solution's
        if args.assignment and len(args.assignment) > 1:
            raise UsageError("--solution grades one task; give at most one --assignment with it")
        return _batch_one(args, _assignment(args), Path(args.out))
    tasks = _tasks(args)
    if len(tasks) > 1:
        return _batch_unit(args, tasks)
    return _batch_one(args, tasks[0][1] if tasks else _assignment(args), Path(args.out))


def _batch_unit(args, tasks) -> int:
    """A class graded task by task, each into OUT/<task>/, then one gradebook."""
    from . import batch

    _require_keras()
    out = Path(args.out)
    use_sandbox = _sandbox_choice(args, _console(args, True), batch=True)
    plans = [(name, A, _batch_plan(args, A, out / name)) for name, A in tasks]
    jobs = args.jobs or os.cpu_count() or 1
    # one set of warm workers for every task: they hold TensorFlow, not the assignment
    todo = max(len(plan.todo) for _, _, plan in plans)
    try:
        with _warm_pool(todo, jobs, use_sandbox, _console(args), args) as pool:
            for name, A, plan in plans:
                if not args.quiet:
                    _console(args).print(f"[bold]task {escape(name)}[/]: {escape(A.name)}")
                status = _grade_plan(args, A, plan, jobs, use_sandbox, pool)
                if status != EXIT_OK:
                    return status
    except KeyboardInterrupt:
        return _interrupted(args)
    csv, index = batch.write_unit(out, tasks, lang=args.lang)
    if not args.quiet:
        _console(args).print(Text(f"unit of {len(tasks)} tasks; gradebook: {csv}; overview: {index}"))
    return EXIT_OK


def _batch_one(args, A, out: Path) -> int:
    _require_keras()
    use_sandbox = _sandbox_choice(args, _console(args, True), batch=True)
    plan = _batch_plan(args, A, out)
    jobs = args.jobs or os.cpu_count() or 1
    try:
        with _warm_pool(len(plan.todo), jobs, use_sandbox, _console(args), args) as pool:
            return _grade_plan(args, A, plan, jobs, use_sandbox, pool)
    except KeyboardInterrupt:
        return _interrupted(args)


def _interrupted(args) -> int:
    _console(args).print("[yellow]interrupted:[/] finished reports are kept; run the same command again to grade the rest.")
    return 130


def _batch_plan(args, A, out: Path):
    from . import batch

    try:
        shard = batch.parse_shard(args.shard) if args.shard else None
        return batch.plan(Path(args.dir), out, A, shard=shard, force=args.force, lang=args.lang)
    except batch.BatchError as e:
        raise UsageError(str(e)) from None


def _grade_plan(args, A, plan, jobs: int, use_sandbox: bool, pool) -> int:
    """Grade one plan with the batch's workers (``pool``, or None: a fresh interpreter each)."""
    from . import batch, check
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = _console(args)
    scores = []
    with Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[mean]}"), console=console, disable=args.quiet) as progress:
        task = progress.add_task("grading", total=len(plan.todo), mean="")

        def on_result(row):
            scores.append(row["score"])
            mean = sum(scores) / len(scores)
            progress.update(task, advance=1, mean=f"mean {mean:.1f}")
            if not args.quiet:
                style = "green" if row["status"] == "graded" else "red"
                # the id is a file name: markup in it ("[bold red]x") is printed as it is
                progress.console.print(f"{escape(row['id']):<28} {row['score']:>6g}/{row['max_score']:g}  "
                                       f"[{style}]{row['status']}[/]  {row['duration_s']:.1f}s", highlight=False)

        try:
            result = batch.run(plan, A, jobs=jobs, use_sandbox=use_sandbox, on_result=on_result,
                               timeout_s=args.timeout, pool=pool, lang=args.lang)
        except check.ReferenceError as e:
            raise UsageError(f"{e}; check the TensorFlow installation "
                             f"(pip install '{DISTRIBUTION}[{CPU_EXTRA}]' on a machine without one)") from None
    if not args.quiet:
        console.print(Text(f"graded {result.graded}, reused {result.reused}, failed {result.failed}; "
                           f"gradebook: {result.grades_csv}; overview: {result.index_html}"))
    return EXIT_OK


@contextlib.contextmanager
def _warm_pool(todo: int, jobs: int, use_sandbox: bool, console, args):
    """Warm workers for a batch (TensorFlow imported once per worker); cold
    children when there is nothing to grade or the workers cannot start."""
    from .sandbox import SandboxError
    from .workers import WarmPool, WorkerError

    if not todo or not use_sandbox:
        yield None
        return
    try:
        pool = WarmPool(min(jobs, todo), use_sandbox=True)
        pool.__enter__()
    except (WorkerError, SandboxError, OSError) as e:
        if not args.quiet:
            console.print(f"[yellow]note:[/] warm workers unavailable ({escape(str(e))}); grading each submission in a fresh interpreter.")
        yield None
        return
    try:
        yield pool
    finally:
        pool.__exit__(None, None, None)


def cmd_merge(args) -> int:
    from . import batch

    try:
        res = batch.merge([Path(p) for p in args.outs], Path(args.out), lang=args.lang)
    except batch.BatchError as e:
        raise UsageError(str(e)) from None
    _console(args).print(Text(f"merged {res.count} submissions into {res.grades_csv}"))
    return EXIT_OK


def cmd_collect(args) -> int:
    from . import collect
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = _console(args)
    try:
        roster = collect.read_roster(args.roster)
        deadline = collect.parse_deadline(args.deadline) if args.deadline else None
        late = collect.parse_deadline(args.late_until) if args.late_until else None
        with Progress(TextColumn("[bold]collecting"), BarColumn(), MofNCompleteColumn(), console=console,
                      disable=args.quiet) as progress:
            task = progress.add_task("collect", total=len(roster))

            def on_progress(rec):
                progress.update(task, advance=1)
                if not args.quiet:
                    style = "green" if rec.status in ("ok", "late") else "red"
                    progress.console.print(f"{escape(rec.id):<24} [{style}]{rec.status}[/] {escape(rec.commit[:10])} "
                                           f"{escape(rec.message[:100])}", highlight=False)

            recs = collect.collect(roster, Path(args.into), deadline=deadline, late_until=late, jobs=args.jobs,
                                   size_cap_mb=args.size_cap, submodules=args.submodules, on_progress=on_progress)
    except collect.CollectError as e:
        raise UsageError(str(e)) from None
    bad = [r for r in recs if r.status not in ("ok", "late")]
    console.print(Text(f"collected {len(recs) - len(bad)} of {len(recs)} into {args.into}; see {Path(args.into) / 'collect.csv'}"))
    return EXIT_OK


def cmd_gradescope_results(args) -> int:
    from .render.gradescope import gradescope_results
    from .report import Report

    try:
        report = Report.from_json(Path(args.report).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"cannot read report {args.report}: {e}") from None
    write_atomic(args.out, json.dumps(gradescope_results(report), indent=2))
    return EXIT_OK


def cmd_gradescope(args) -> int:
    from . import dist
    from .render import gradescope

    out = Path(args.out)
    wheel = None
    if args.install is None:
        # the running grader itself, so the image installs exactly this grader
        try:
            wheel = dist.build_wheel()
        except dist.DistError as e:
            raise UsageError(f"{e}; or pass --install SPEC to install the grader from an index or a URL") from None
    try:
        if args.zip:
            gradescope.write_autograder_zip(out, args.install, wheel=wheel)
        else:
            for name, content in gradescope.autograder_files(args.install, wheel=wheel).items():
                write_atomic(out / name, content)
                if name in ("setup.sh", "run_autograder"):
                    os.chmod(out / name, 0o755)
    except ValueError as e:
        raise UsageError(f"--install: {e}") from None
    what = f"the grader's wheel {wheel.filename} (from its {wheel.origin})" if wheel else f"pip install {args.install}"
    if args.zip:
        _console(args).print(Text(f"wrote {out} with {what}: upload it as the Gradescope autograder"))
    else:
        _console(args).print(Text(f"wrote the autograder files into {out} with {what}"))
    return EXIT_OK


def cmd_init_ci(args) -> int:
    from . import initci

    from .dist import install_spec

    kind = "gitlab" if args.gitlab else "github"
    try:
        path = initci.write_workflow(kind, Path(args.repo), install=install_spec(args.install), python=args.python,
                                     submission=args.submission, force=args.force)
    except (FileExistsError, ValueError) as e:
        raise UsageError(str(e)) from None
    _console(args).print(Text(f"wrote {path}"))
    return EXIT_OK


# -- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grader", description="Autograder for GoogLeNet (Inception v1) in Keras.")
    p.add_argument("--version", action="version", version=f"grader {__version__} ({DISTRIBUTION})")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, assignment=True):
        if assignment:
            sp.add_argument("--assignment", metavar="FILE", help="assignment file (default: the paper's GoogLeNet)")
        sp.add_argument("--no-color", action="store_true", help="no colours (also NO_COLOR)")
        sp.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")

    c = sub.add_parser("check", help="grade one submission (a .py, .ipynb, folder or .zip)")
    c.add_argument("submission", nargs="?", help="default: the submission in the current folder")
    c.add_argument("--solution", metavar="SOLUTION.py", help="grade against the network this solution file builds")
    c.add_argument("--out", metavar="DIR", help="where report.json and report.html go (default reports/<id>/)")
    c.add_argument("--json", metavar="FILE", help="also write the JSON report to FILE")
    c.add_argument("--lang", default="en", help="report language (en, ko)")
    c.add_argument("--ci", action="store_true", help="CI mode: annotations, step summary (also CI=true)")
    c.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per rubric part")
    c.add_argument("--codequality", metavar="FILE", help="write a GitLab Code Quality report")
    c.add_argument("--min-score", type=float, help="exit 1 below this score (default: exit 1 on any error)")
    c.add_argument("--timeout", type=float, help="seconds before the submission is stopped")
    c.add_argument("--no-sandbox", action="store_true", help="run without bubblewrap (your own code only)")
    common(c)
    c.set_defaults(func=cmd_check)

    t = sub.add_parser("trace", help="show the graph the submission really builds")
    t.add_argument("submission")
    t.add_argument("--json", action="store_true")
    t.add_argument("--timeout", type=float)
    t.add_argument("--no-sandbox", action="store_true")
    common(t)
    t.set_defaults(func=cmd_trace)

    r = sub.add_parser("reference", help="print the reference as the paper's Table 1, with its totals")
    r.add_argument("--solution", metavar="SOLUTION.py", help="the layer table of the network this solution file builds")
    r.add_argument("--json", action="store_true", help='an object: {"title", "rows": [...], "totals": {...}}')
    r.add_argument("--wide", action="store_true", help="every column, however wide the lines get")
    r.add_argument("--width", type=int, metavar="N",
                   help="lay the table out for N columns (default: the terminal's, 80 in a pipe)")
    common(r)
    r.set_defaults(func=cmd_reference)

    b = sub.add_parser("batch", help="grade every submission in a folder")
    b.add_argument("dir")
    b.add_argument("--solution", metavar="SOLUTION.py", help="grade against the network this solution file builds")
    b.add_argument("--out", default="reports")
    b.add_argument("--jobs", "-j", type=int)
    b.add_argument("--shard", metavar="K/N", help="grade a deterministic 1/N of the submissions (K from 1)")
    b.add_argument("--force", action="store_true", help="regrade even what is cached")
    b.add_argument("--timeout", type=float)
    b.add_argument("--unsafe-no-sandbox", action="store_true", help="run untrusted code without a sandbox")
    b.add_argument("--lang", default="en", help="language of the reports and the class overview (en, ko)")
    b.add_argument("--assignment", metavar="FILE", action="append",
                   help="assignment file (default: the paper's GoogLeNet); several, or a unit file listing "
                        "tasks, grade each task into OUT/<task>/ and write one gradebook with a column per task")
    common(b, assignment=False)
    b.set_defaults(func=cmd_batch)

    m = sub.add_parser("merge", help="merge shard outputs into one gradebook")
    m.add_argument("outs", nargs="+")
    m.add_argument("--out", required=True)
    m.add_argument("--lang", default="en", help="language of the class overview (en, ko)")
    common(m, assignment=False)
    m.set_defaults(func=cmd_merge)

    co = sub.add_parser("collect", help="collect submissions from students' git repositories")
    co.add_argument("roster", help="CSV with id, repo and optional branch, path")
    co.add_argument("--into", default="submissions")
    co.add_argument("--deadline", help="ISO-8601 with offset, e.g. 2026-12-01T23:59:00+09:00")
    co.add_argument("--late-until", help="ISO-8601 with offset")
    co.add_argument("--jobs", "-j", type=int, default=4)
    co.add_argument("--size-cap", type=int, default=200, help="MiB per repository")
    co.add_argument("--submodules", action="store_true")
    common(co, assignment=False)
    co.set_defaults(func=cmd_collect)

    gr = sub.add_parser("gradescope-results", help="turn a report.json into Gradescope's results.json")
    gr.add_argument("report")
    gr.add_argument("out")
    common(gr, assignment=False)
    gr.set_defaults(func=cmd_gradescope_results)

    gs = sub.add_parser("gradescope", help="write a Gradescope autograder (setup.sh, run_autograder)")
    gs.add_argument("--out", default="gradescope-autograder")
    gs.add_argument("--install", metavar="SPEC",
                    help="pip spec of the grader to install on Gradescope instead of the running grader's "
                         "own wheel, which the zip carries by default")
    gs.add_argument("--zip", action="store_true", help="write a zip to upload instead of a folder")
    common(gs, assignment=False)
    gs.set_defaults(func=cmd_gradescope)

    ic = sub.add_parser("init-ci", help="write a CI workflow into a student repository")
    g = ic.add_mutually_exclusive_group()
    g.add_argument("--github", action="store_true", default=True)
    g.add_argument("--gitlab", action="store_true")
    ic.add_argument("--repo", default=".")
    ic.add_argument("--install", metavar="SPEC",
                    help=f"pip spec, git+URL or path of the grader (default: {DISTRIBUTION}[{CPU_EXTRA}]=={__version__}, "
                         f"the running version); the [{CPU_EXTRA}] extra is added")
    ic.add_argument("--python", default="3.11")
    ic.add_argument("--submission", help="path of the submission inside the repo")
    ic.add_argument("--force", action="store_true")
    common(ic, assignment=False)
    ic.set_defaults(func=cmd_init_ci)
    return p


def main(argv=None) -> int:
    tfenv.quiet_defaults()  # before anything in this process can import TensorFlow
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        _console(args, stderr=True).print(Text(f"grader: {e}", style="bold red"))
        return EXIT_UNGRADABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
