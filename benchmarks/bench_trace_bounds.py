#!/usr/bin/env python
"""The grader's own cost on pathological traces (run by hand; not a test).

    .venv/bin/python benchmarks/bench_trace_bounds.py [--tree PATH] [--mem-mb 1500] [--json FILE]

A trace can only come from the sandboxed child (it is sealed), so these traces
are made here as dicts and given to what the parent does with one: validation
(``trace.validate`` and ``trace.check_wiring``, as ``run_trace`` does) and the
report (``check.build_report``, the graph work and the diagnosis). Each case
runs in a fresh interpreter with its address space limited to ``--mem-mb``
(so a blow-up ends as a MemoryError instead of taking the machine), and reports
its wall time, its peak RSS and how it ended. ``--tree`` grades with another
checkout of the grader (e.g. the tree before the structure check) for comparison.

Cases: parents in a loop (ten containers in a ring holding 9,990 layers), a dangling parent, chains of identity
layers (1,000, 3,000, 3,001 and 10,000: below, at and above the layer cap), and
a layer name, class and config value of several MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASE = r'''
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (MEM * 2**20, MEM * 2**20))
from pathlib import Path
from grader import check, trace
from grader.assignment import load as load_assignment
from grader.submission import load

def chain(n):
    nodes = [{"id": f"n{i}", "kind": "layer", "class": "Activation", "name": f"identity_{i}",
              "config": {"activation": "linear"}, "inputs": [f"t{i}"], "outputs": [f"t{i + 1}"],
              "in_shapes": [[None, 56, 56, 64]], "out_shapes": [[None, 56, 56, 64]], "params": 0,
              "source": {"file": "googlenet.py", "line": 12}, "ctor": None, "stack": []} for i in range(n)]
    return {"schema": "grader.trace/1", "status": "ok",
            "graph": {"nodes": nodes, "aliases": [], "inputs": ["t0"], "outputs": [f"t{n}"]}}

def make(kind):
    if kind == "parent_loop":  # ten containers inside each other in a ring, 9,990 layers inside the first
        doc = chain(10_000)
        for i, n in enumerate(doc["graph"]["nodes"]):
            n["parent"] = f"n{(i + 1) % 10}" if i < 10 else "n0"
            n["container"] = i < 10
        return doc
    if kind == "dangling_parent":
        doc = chain(10_000)
        doc["graph"]["nodes"][-1]["parent"] = "n_missing"
        return doc
    if kind.startswith("chain_"):
        return chain(int(kind[6:]))
    if kind == "huge_strings":
        doc = chain(50)
        n = doc["graph"]["nodes"][0]
        n["name"], n["class"] = "x" * 8_000_000, "Activation" + "C" * 4_000_000
        n["config"] = {"activation": "y" * 8_000_000}
        return doc
    raise SystemExit(kind)

A = load_assignment()
ref = check.reference_graph(A)
sub = load(Path(ROOT) / "tests/data/cases/correct_functional.py", A.entry_files)
doc = make(KIND)
t0 = time.perf_counter()
outcome = "?"
size = None
try:
    trace.validate(doc)
    trace.check_wiring(doc)
    r = check.build_report(sub, trace.TraceResult("ok", doc), A, ref, time.time())
    roots = [f.code for f in r.findings if f.caused_by is None]
    size = len(r.to_json())
    outcome = f"graded: {r.status}, roots {roots[:3]}"
except trace.TraceInvalid as e:
    outcome = f"refused: {str(e)[:90]}"
except MemoryError:
    outcome = "MemoryError"
except RecursionError:
    outcome = "RecursionError"
took = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": round(took, 3), "peak_rss_mb": round(rss / 2**20, 1), "outcome": outcome,
                  "report_json_bytes": size}))
'''

CASES = ["parent_loop", "dangling_parent", "chain_1000", "chain_3000", "chain_3001", "chain_10000", "huge_strings"]


def run_case(kind: str, tree: Path, mem_mb: int, timeout: float) -> dict:
    code = CASE.replace("MEM", str(mem_mb)).replace("KIND", repr(kind)).replace("Path(ROOT)", f"Path({str(ROOT)!r})")
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.time()
    try:
        # cwd: `python -c` puts the current folder first on sys.path
        p = subprocess.run([sys.executable, "-c", code], env=env, cwd=tree, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"case": kind, "outcome": f"still running after {timeout:.0f} s", "seconds": timeout}
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"case": kind, "outcome": f"died: {tail[:120]}", "seconds": round(time.time() - t0, 1)}
    return {"case": kind, **json.loads(lines[-1])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=ROOT, help="the grader checkout to measure (default: this one)")
    ap.add_argument("--mem-mb", type=int, default=1500, help="address-space limit of each case")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "out" / "bench_trace_bounds.json")
    args = ap.parse_args()
    rows = []
    load0 = os.getloadavg()
    for kind in args.cases.split(","):
        row = run_case(kind, args.tree.resolve(), args.mem_mb, args.timeout)
        rows.append(row)
        print(f"{row['case']:<16} {row.get('seconds', '?'):>8} s  {row.get('peak_rss_mb', '?'):>7} MB  "
              f"report {row.get('report_json_bytes') or '-'}  {row['outcome']}", flush=True)
    result = {"tree": str(args.tree), "mem_mb": args.mem_mb, "load_average": [load0, os.getloadavg()],
              "cores": os.cpu_count(), "cases": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f}; wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
