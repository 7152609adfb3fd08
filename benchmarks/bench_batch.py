#!/usr/bin/env python
"""Batch grading benchmark (run by hand; not a test).

    .venv/bin/python benchmarks/bench_batch.py [--n 40] [--jobs NPROC] [--json benchmarks/out/bench.json]

Generates N varied submissions (mutants of the single-file submissions in
``submissions/`` and ``tests/data/cases/``: a filter number changed, a stride
changed, a ReLU dropped, the style varied) in a temporary folder and measures,
in the same run on the same machine:

(a)  naive: every submission as ``python submission.py`` in a fresh interpreter,
     ``--jobs`` at a time;
(b0) ``grader batch DIR --jobs J`` through the real CLI in a subprocess (today:
     one fresh sandboxed interpreter per submission);
(b)  the same batch with warm workers: ``grader.batch.run(plan, ..., pool=WarmPool(J))``
     called as a library (the CLI does not pass a pool yet), the pool's start
     included in the time;
(c)  the floor: one warm process that imports TensorFlow once and execs every
     submission, counting the model's parameters;
and ``grader check`` on one submission (reference graph cached on disk) against
``python submission.py`` (plus the same check with a warm worker started first,
the proposed wiring of ``grader check``, and where the check's time goes).

Prints per-submission figures, the ratios a/b and b/c, the check ratio and the
peak RSS per worker, and writes them all as JSON.  The benchmark process itself
never imports TensorFlow.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PY = sys.executable
GRADER = str(Path(sys.executable).with_name("grader"))
SOURCES = [ROOT / "submissions", ROOT / "tests" / "data" / "cases"]
#: sources that train, download or sleep would measure that, not grading
SKIP_RE = re.compile(r"\.fit\(|fit_generator|load_data|get_file|urlopen|time\.sleep|\.predict\(")
SKIP_NAMES = {"fails_timeout.py"}
OTHER_ASSIGNMENT = re.compile(r"^#\s*assignment:\s*(?!default\s*$|variant\s*$)\S+", re.M)


# --------------------------------------------------------------------------- submissions


def _sources() -> list[Path]:
    out = []
    for d in SOURCES:
        for p in sorted(d.glob("*.py")):
            if p.name in SKIP_NAMES:
                continue
            text = p.read_text(encoding="utf-8", errors="replace")
            if SKIP_RE.search(text) or OTHER_ASSIGNMENT.search(text):
                continue  # training, downloading or sleeping; or another architecture than the batch's GoogLeNet
            out.append(p)
    return out


def _m_filter(src: str, rng: random.Random) -> str | None:
    ms = list(re.finditer(r"(Conv2D\(\s*)(\d+)|(filters\s*=\s*)(\d+)", src))
    if not ms:
        return None
    m = rng.choice(ms)
    g = 2 if m.group(2) else 4
    v = int(m.group(g))
    new = str(max(1, v + rng.choice((-16, -8, 8, 16, v))))
    return src[: m.start(g)] + new + src[m.end(g):]


def _m_stride(src: str, rng: random.Random) -> str | None:
    ms = list(re.finditer(r"strides\s*=\s*\(\s*(\d)\s*,\s*(\d)\s*\)|strides\s*=\s*(\d)\b", src))
    if not ms:
        return None
    m = rng.choice(ms)
    if m.group(1):
        v = "1" if m.group(1) == "2" else "2"
        return src[: m.start()] + f"strides=({v}, {v})" + src[m.end():]
    v = "1" if m.group(3) == "2" else "2"
    return src[: m.start()] + f"strides={v}" + src[m.end():]


def _m_relu(src: str, rng: random.Random) -> str | None:
    ms = list(re.finditer(r",\s*activation\s*=\s*['\"]relu['\"]", src))
    if not ms:
        return None
    m = rng.choice(ms)
    return src[: m.start()] + src[m.end():]


def _m_style(src: str, rng: random.Random) -> str | None:
    k = rng.randrange(4)
    if k == 0:
        return f'"""Assignment 3: GoogLeNet. Student {rng.randrange(10**6):06d}."""\n' + src
    if k == 1:
        return src.replace("'", '"') if "'''" not in src and '"""' not in src else None
    if k == 2:
        return "# -*- coding: utf-8 -*-\nimport os\nimport sys\n\n" + src + "\n\nprint('done building', file=sys.stderr)\n"
    return re.sub(r"\n\n", "\n\n\n", src, count=rng.randrange(1, 5))


MUTATORS = (_m_filter, _m_stride, _m_relu, _m_style)


def generate(n: int, folder: Path, seed: int = 1234) -> list[Path]:
    rng = random.Random(seed)
    bases = _sources()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        base = bases[i % len(bases)]
        src = base.read_text(encoding="utf-8")
        applied = []
        for mut in rng.sample(MUTATORS, rng.randrange(1, 3)):
            new = mut(src, rng)
            if new is None:
                continue
            try:
                compile(new, base.name, "exec")
            except SyntaxError:
                if "syntax" not in base.name:
                    continue
            src = new
            applied.append(mut.__name__[3:])
        p = folder / f"s{i:03d}_{base.stem}.py"
        p.write_text(src, encoding="utf-8")
        out.append(p)
    return out


# --------------------------------------------------------------------------- helpers


def _median(xs):
    return round(statistics.median(xs), 3) if xs else None


def _machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "mem_total": mem, "kernel": platform.release(),
            "python": platform.python_version(), "loadavg_start": os.getloadavg()}


def _quiet_env() -> dict:
    env = dict(os.environ)
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


# --------------------------------------------------------------------------- (a) naive


def run_naive(files: list[Path], jobs: int, work: Path, threads: int | None = None) -> dict:
    import resource

    env = _quiet_env()
    if threads:  # like the grader's children: no oversubscription of the cores
        env.update({"OMP_NUM_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads),
                    "TF_NUM_INTEROP_THREADS": str(threads)})
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)

    def one(p: Path):
        d = work / p.stem
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, d / p.name)
        t = time.monotonic()
        try:
            rc = subprocess.run([PY, p.name], cwd=d, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=300).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        return time.monotonic() - t, rc

    t0 = time.monotonic()
    with ThreadPoolExecutor(jobs) as ex:
        res = list(ex.map(one, files))
    total = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"total_s": round(total, 2), "per_submission_s": round(total / len(files), 3),
            "median_latency_s": _median([r[0] for r in res]),
            "cpu_s": round(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime, 2),
            "threads": threads or "TF default",
            "exit_codes": {str(k): sum(1 for r in res if r[1] == k) for k in {r[1] for r in res}}}


# --------------------------------------------------------------------------- (b0) CLI batch


def _csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run_cli_batch(folder: Path, out: Path, jobs: int) -> dict:
    t0 = time.monotonic()
    p = subprocess.run([GRADER, "batch", str(folder), "--out", str(out), "--jobs", str(jobs), "-q", "--force"],
                       capture_output=True, text=True)
    total = time.monotonic() - t0
    rows = _csv_rows(out / "grades.csv") if (out / "grades.csv").is_file() else []
    return {"total_s": round(total, 2), "per_submission_s": round(total / max(1, len(rows)), 3),
            "median_latency_s": _median([float(r["duration_s"]) for r in rows if r.get("duration_s")]),
            "returncode": p.returncode, "stderr_tail": p.stderr[-500:],
            "scores": {r["id"]: r["score"] for r in rows}, "how": "grader batch (CLI subprocess)"}


# --------------------------------------------------------------------------- (b) warm batch


def run_warm_batch(folder: Path, out: Path, jobs: int) -> dict:
    from grader import batch, check
    from grader.assignment import load as load_assignment
    from grader.workers import WarmPool

    A = load_assignment(None)
    check.reference_graph(A)  # cached on disk already (see main); not part of the timing
    t0 = time.monotonic()
    cpu0 = time.process_time()
    with WarmPool(jobs) as pool:
        plan = batch.plan(folder, out, A, force=True)
        res = batch.run(plan, A, jobs=jobs, use_sandbox=True, pool=pool)
        peak = pool.peak_rss_bytes()
        replaced = pool.replaced
        stats = pool.stats()
    total = time.monotonic() - t0
    grader_cpu = time.process_time() - cpu0
    rows = res.rows
    return {"total_s": round(total, 2), "per_submission_s": round(total / max(1, len(rows)), 3),
            "median_latency_s": _median([r["duration_s"] for r in rows]),
            "scores": {r["id"]: str(r["score"]) for r in rows}, "peak_rss_per_worker_bytes": peak,
            "workers_replaced": replaced, "failed": res.failed,
            "grader_process_cpu_s": round(grader_cpu, 2), "children_cpu_s": stats["child_cpu_s"],
            "worker_warm_up_s": stats["warm_s"],
            "how": "grader.batch.run(plan, A, jobs=J, use_sandbox=True, pool=WarmPool(J)) in this process, "
                   "pool start included"}


# --------------------------------------------------------------------------- (c) floor

_FLOOR = r"""
import json, os, sys, time, io, contextlib
t0 = time.monotonic()
import keras, tensorflow
t_import = time.monotonic() - t0
out = []
for path in sys.argv[1:]:
    d = os.path.dirname(path)
    os.chdir(d)
    g = {"__name__": "__main__", "__file__": path}
    t = time.monotonic()
    c = time.process_time()
    params = None
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(open(path).read(), path, "exec"), g)
            models = [v for v in g.values() if isinstance(v, keras.Model)]
            if not models:
                for name in ("build_googlenet", "googlenet", "GoogLeNet", "build_model", "create_model", "get_model"):
                    if callable(g.get(name)):
                        m = g[name]()
                        if isinstance(m, keras.Model):
                            models = [m]
                            break
            if models:
                params = max(m.count_params() for m in models)
    except BaseException as e:
        params = type(e).__name__
    out.append({"file": os.path.basename(path), "seconds": time.monotonic() - t, "cpu": time.process_time() - c,
                "params": params})
print(json.dumps({"import_s": t_import, "builds": out}))
"""


def run_floor(files: list[Path], work: Path) -> dict:
    from grader.sandbox import _child_env
    from grader.trace import child_env

    copies = []
    for p in files:
        d = work / p.stem
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, d / p.name)
        copies.append(str(d / p.name))
    env = dict(os.environ)
    env.update(_child_env(child_env(), str(work), os.environ.get("PATH", "")))
    t0 = time.monotonic()
    p = subprocess.run([PY, "-c", _FLOOR, *copies], capture_output=True, text=True, env=env, cwd=work)
    total = time.monotonic() - t0
    try:
        d = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": p.stderr[-2000:]}
    secs = [b["seconds"] for b in d["builds"]]
    return {"total_s": round(total, 2), "import_s": round(d["import_s"], 2),
            "builds_total_s": round(sum(secs), 2), "per_submission_s": round(sum(secs) / len(secs), 3),
            "median_build_s": _median(secs), "first_build_s": round(secs[0], 3) if secs else None,
            "builds_cpu_s": round(sum(b["cpu"] for b in d["builds"]), 2),
            "how": "one process, the grader children's environment (1 TF thread), import TF once, exec each file"}


# --------------------------------------------------------------------------- check


_CHECK_WARM = r"""
import functools, sys, time
t0 = time.monotonic()
from grader import sandbox, workers
pool = workers.WarmPool(1)  # starts importing TF in its sandbox now, while the CLI loads
from grader import check, cli
check.grade = functools.partial(check.grade, pool=pool)
try:
    rc = cli.main(sys.argv[1:])
finally:
    pool.close()
sys.exit(rc)
"""

_CHECK_PHASES = r"""
import json, sys, time
t0 = time.monotonic()
marks = {}
from grader import cli, trace, check
marks["import_cli"] = time.monotonic() - t0
from grader import render
orig_trace, orig_ref, orig_html = trace.run_trace, check.reference_graph, render.write_html
def timed(name, fn):
    def f(*a, **k):
        t = time.monotonic()
        try:
            return fn(*a, **k)
        finally:
            marks[name] = marks.get(name, 0) + time.monotonic() - t
    return f
trace.run_trace = timed("sandboxed_trace", orig_trace)
check.reference_graph = timed("reference_graph_cache", orig_ref)
render.write_html = timed("write_html", orig_html)
import grader.render as r2
cli_main = cli.main
rc = cli_main(sys.argv[1:])
marks["total_in_process"] = time.monotonic() - t0
print("PHASES " + json.dumps({k: round(v, 3) for k, v in marks.items()}), file=sys.stderr)
"""


def run_check(sub: Path, work: Path, reps: int) -> dict:
    d = work / "check"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(sub, d / sub.name)
    env = _quiet_env()
    # warm the on-disk reference cache and the page cache
    subprocess.run([GRADER, "check", sub.name, "-q", "--out", str(d / "r")], cwd=d, env=env, capture_output=True)
    times = {"python": [], "check": [], "check_warm_worker": []}
    cmds = {
        "python": [PY, sub.name],
        "check": [GRADER, "check", sub.name, "-q", "--out", str(d / "r")],
        "check_warm_worker": [PY, "-c", _CHECK_WARM, "check", sub.name, "-q", "--out", str(d / "r2")],
    }
    for _ in range(reps):
        for k, cmd in cmds.items():
            t = time.monotonic()
            subprocess.run(cmd, cwd=d, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[k].append(time.monotonic() - t)
    p = subprocess.run([PY, "-c", _CHECK_PHASES, "check", sub.name, "-q", "--out", str(d / "r3")],
                       cwd=d, env=env, capture_output=True, text=True)
    phases = {}
    for line in p.stderr.splitlines():
        if line.startswith("PHASES "):
            phases = json.loads(line[7:])
    med = {k: _median(v) for k, v in times.items()}
    return {
        "submission": sub.name, "reps": reps, "median_s": med, "all_s": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "ratio_check_over_python": round(med["check"] / med["python"], 3),
        "ratio_check_warm_worker_over_python": round(med["check_warm_worker"] / med["python"], 3),
        "check_phases_s": phases,
    }


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40, help="number of submissions (default 40)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel jobs (default: cores)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "out" / "bench.json"))
    ap.add_argument("--check-reps", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: naive,cli,warm,floor,check")
    ap.add_argument("--naive-threads", type=int, default=0,
                    help="run (a) with OMP/TF thread pools of this size (default: TF's own choice)")
    ap.add_argument("--keep", help="keep the generated submissions and outputs in this folder")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))

    from grader import check
    from grader.assignment import load as load_assignment

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="grader-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        subs = work / "subs"
        if subs.exists():
            shutil.rmtree(subs)
        files = generate(args.n, subs)
        print(f"{len(files)} submissions in {subs}; jobs={args.jobs}", flush=True)
        t = time.monotonic()
        check.reference_graph(load_assignment(None))  # the on-disk cache, as in real use
        print(f"reference graph ready ({time.monotonic() - t:.1f}s)", flush=True)
        out: dict = {"machine": _machine(), "n": len(files), "jobs": args.jobs}
        if "naive" not in skip:
            out["a_naive"] = run_naive(files, args.jobs, work / "naive", threads=args.naive_threads or None)
            print("(a) naive:", json.dumps(out["a_naive"]), flush=True)
        if "cli" not in skip:
            out["b0_cli_batch_cold"] = run_cli_batch(subs, work / "out_cli", args.jobs)
            print("(b0) CLI batch:", json.dumps({k: v for k, v in out["b0_cli_batch_cold"].items() if k != "scores"}),
                  flush=True)
        if "warm" not in skip:
            out["b_warm_batch"] = run_warm_batch(subs, work / "out_warm", args.jobs)
            print("(b) warm batch:", json.dumps({k: v for k, v in out["b_warm_batch"].items() if k != "scores"}),
                  flush=True)
        if "floor" not in skip:
            out["c_floor"] = run_floor(files, work / "floor")
            print("(c) floor:", json.dumps(out["c_floor"]), flush=True)
        if "check" not in skip:
            sub = next((f for f in files if "correct_functional" in f.name), files[0])
            out["check"] = run_check(sub, work, args.check_reps)
            print("check:", json.dumps(out["check"]), flush=True)
        out["machine"]["loadavg_end"] = os.getloadavg()

        ratios = {}
        a, b0, b, c = (out.get(k) for k in ("a_naive", "b0_cli_batch_cold", "b_warm_batch", "c_floor"))
        if a and b:
            ratios["a_over_b"] = round(a["per_submission_s"] / b["per_submission_s"], 2)
        if a and b0:
            ratios["a_over_b0"] = round(a["per_submission_s"] / b0["per_submission_s"], 2)
        if b and c and "per_submission_s" in c:
            ratios["b_over_c"] = round(b["per_submission_s"] / c["per_submission_s"], 2)
            ratios["b_over_c_incl_import"] = round(b["total_s"] / c["total_s"], 2)
        if b0 and b:
            ratios["b0_over_b"] = round(b0["per_submission_s"] / b["per_submission_s"], 2)
            same = sum(1 for k, v in b["scores"].items() if b0["scores"].get(k) is not None
                       and float(b0["scores"][k]) == float(v))
            ratios["warm_cold_same_scores"] = f"{same}/{len(b['scores'])}"
        if out.get("check"):
            ratios["check_over_python"] = out["check"]["ratio_check_over_python"]
            ratios["check_warm_worker_over_python"] = out["check"]["ratio_check_warm_worker_over_python"]
        if b:
            ratios["peak_rss_per_worker_mb"] = [round(x / 2**20) for x in b["peak_rss_per_worker_bytes"]]
        out["ratios"] = ratios
        print()
        print(textwrap.dedent(f"""\
            machine: {out['machine']['nproc']} cores, {out['machine']['cpu_model']}, load {out['machine']['loadavg_start']} -> {out['machine']['loadavg_end']}
            per submission (total wall / N):
              (a)  naive python submission.py x{args.jobs}: {a and a['per_submission_s']} s
              (b0) grader batch CLI (cold sandbox each):   {b0 and b0['per_submission_s']} s
              (b)  batch with WarmPool({args.jobs}):            {b and b['per_submission_s']} s
              (c)  floor, one warm process, builds only:  {c and c.get('per_submission_s')} s
            ratios: {json.dumps(ratios)}"""))
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2))
        print(f"wrote {path}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
