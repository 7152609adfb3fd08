#!/usr/bin/env python
"""grader.check() in a notebook: the first call and the later ones (run by hand; not a test).

    .venv/bin/python benchmarks/bench_notebook.py [--later 10] [--json benchmarks/out/bench_notebook.json]

Executes a real notebook in a real kernel (nbclient + ipykernel): a student's
GoogLeNet in four cells (the notebook of ``tests/test_notebook.py``), then one
cell that times ``grader.check()`` as a student calls it (report shown in the
output cell): the first call, which starts the warm worker (TensorFlow imported
once, in a separate process), and ``--later`` calls after it, which reuse it.
Twice: in a kernel whose reference graph is not on disk yet (the very first
check on a machine) and in one whose is (every first check after that).  For
comparison, ``grader check FILE`` from a shell (a fresh process each time,
reference cached).  Prints the figures with the machine's load average and
writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

TIMING_CELL = """\
import json, time
import grader
t0 = time.monotonic()
report = grader.check()
first = time.monotonic() - t0
later = []
for _ in range({later}):
    t = time.monotonic()
    r = grader.check()
    later.append(time.monotonic() - t)
    assert r.score == report.score
print("BENCH " + json.dumps({{"first_s": first, "later_s": later, "score": report.score,
                              "session": grader.notebook.session_info()}}))
"""


def _kernel_run(later: int, cache: Path, folder: Path) -> dict:
    import nbformat
    from nbclient import NotebookClient

    import test_notebook as nbt

    nb = nbformat.v4.new_notebook()
    cells = [nbt.IMPORTS, nbt.INCEPTION, nbt.STEM.format(stride=1), nbt.BODY, TIMING_CELL.format(later=later)]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    old = os.environ.get("GRADER_CACHE")
    os.environ["GRADER_CACHE"] = str(cache)  # the kernel inherits it
    try:
        t0 = time.monotonic()
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}).execute()
        total = time.monotonic() - t0
    finally:
        if old is None:
            os.environ.pop("GRADER_CACHE", None)
        else:
            os.environ["GRADER_CACHE"] = old
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    line = next(l for l in out.splitlines() if l.startswith("BENCH "))
    res = json.loads(line[6:])
    res["notebook_s"] = total
    return res


def _cli_check(cache: Path, reps: int) -> list[float]:
    sub = ROOT / "tests" / "data" / "cases" / "correct_functional.py"
    grader = str(Path(sys.executable).with_name("grader"))
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(reps):
            t0 = time.monotonic()
            subprocess.run([grader, "check", str(sub), "--quiet", "--out", out], check=True,
                           env={**os.environ, "GRADER_CACHE": str(cache)}, capture_output=True)
            times.append(time.monotonic() - t0)
    return times


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--later", type=int, default=10, help="calls after the first (default 10)")
    ap.add_argument("--cli-reps", type=int, default=3)
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "out" / "bench_notebook.json"))
    args = ap.parse_args()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="grader-bench-nb-") as tmp:
        tmp = Path(tmp)
        cold = _kernel_run(args.later, tmp / "cache", tmp)  # no reference graph on disk yet
        warm = _kernel_run(args.later, tmp / "cache", tmp)  # reference graph cached by the first run
        cli = _cli_check(tmp / "cache", args.cli_reps)
    load1 = os.getloadavg()
    res = {
        "machine": {"cores": os.cpu_count(), "cpu": _cpu(),
                    "load_avg_start": [round(x, 2) for x in load0], "load_avg_end": [round(x, 2) for x in load1]},
        "first_call_no_reference_cache_s": round(cold["first_s"], 3),
        "first_call_s": round(warm["first_s"], 3),
        "later_calls_s": [round(x, 3) for x in warm["later_s"] + cold["later_s"]],
        "later_median_s": round(statistics.median(warm["later_s"] + cold["later_s"]), 3),
        "later_max_s": round(max(warm["later_s"] + cold["later_s"]), 3),
        "cli_check_median_s": round(statistics.median(cli), 3),
        "sandboxed": warm["session"]["sandboxed"], "warm_worker": warm["session"]["warm_worker"],
        "score": warm["score"],
    }
    print(f"machine: {res['machine']['cores']} cores ({res['machine']['cpu']}), "
          f"load average {load0[0]:.2f} -> {load1[0]:.2f}")
    print(f"first grader.check() in a kernel, no reference on disk yet:  {res['first_call_no_reference_cache_s']:.2f} s")
    print(f"first grader.check() in a kernel (reference cached on disk): {res['first_call_s']:.2f} s")
    print(f"later calls (warm worker, report shown), n={len(res['later_calls_s'])}: "
          f"median {res['later_median_s']:.2f} s, max {res['later_max_s']:.2f} s "
          f"(target: within 1 s) -> {'met' if res['later_max_s'] <= 1.0 else 'NOT met'}")
    print(f"for comparison, `grader check FILE` from a shell (fresh process): median {res['cli_check_median_s']:.2f} s")
    print(f"worker sandboxed: {res['sandboxed']}; score {res['score']:g}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
