"""Issue 24, part 5: grade every GoogLeNet golden fixture (``# assignment:
default``) against the dedicated architecture's reference model read as a
solution file (tests/data/solutions/googlenet/assignment.toml) and compare
the root findings with the dedicated architecture's: same code at the same
location, root by root.

    python scripts/crosscheck_solution.py OUT.json [--dedicated SNAPSHOT.json] [-k SUBSTRING]

``--dedicated``: the dedicated side read from a snapshot of
scripts/snapshot_cases.py (the same tree's), instead of grading it again.
Prints the agreement and every difference; writes both sides to OUT.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

SOLUTION = ROOT / "tests" / "data" / "solutions" / "googlenet" / "assignment.toml"


def roots(report: dict) -> list:
    return sorted({(f["code"], f["location"], f["severity"]) for f in report["findings"] if f["caused_by"] is None})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--dedicated", type=Path, help="a snapshot_cases.py JSON of the dedicated side")
    ap.add_argument("-k", default="", help="only the fixtures whose name has this")
    args = ap.parse_args(argv)

    from test_cases import CASE_LIST, graded_against

    from grader import check
    from grader.assignment import load
    from grader.workers import WarmPool

    cases = [(p, n, f) for p, n, f in CASE_LIST if n == "default" and args.k in p.name]
    snap = json.loads(args.dedicated.read_text()) if args.dedicated else None
    A_sol = load(SOLUTION)
    ref_sol = check.reference_graph(A_sol)
    result, same, errors_same, n = {}, 0, 0, 0
    with WarmPool(1) as pool:  # one warm worker: TensorFlow is imported once
        for path, name, file in cases:
            n += 1
            a, b, ded, sol = _both(path, name, file, snap, A_sol, ref_sol, pool, check, graded_against)
            ea = [r for r in a if r[2] == "error"]
            eb = [r for r in b if r[2] == "error"]
            same += a == b
            errors_same += ea == eb
            result[path.name] = {"dedicated": a, "solution": b, "score_dedicated": ded["score"],
                                 "score_solution": sol["score"]}
            mark = "=" if a == b else ("~" if ea == eb else "x")
            print(f"{mark} {path.name}: {ded['score']} / {sol['score']}", flush=True)
            if a != b:
                print(f"    dedicated only: {sorted(set(a) - set(b))}\n    solution only:  {sorted(set(b) - set(a))}",
                      flush=True)
    summary = {"fixtures": n, "same_roots": same, "same_root_errors": errors_same}
    args.out.write_text(json.dumps({"summary": summary, "cases": result}, indent=1) + "\n")
    print(f"{n} fixtures: all roots the same in {same}, root errors the same in {errors_same}")
    return 0


def _both(path, name, file, snap, A_sol, ref_sol, pool, check, graded_against):
    """(dedicated roots, solution roots, the two reports) of one fixture."""
    key = f"{path.name}::{file or ''}::{name}"
    if snap is not None and key in snap:
        ded = snap[key]
    else:
        A, ref = graded_against(name)
        ded = json.loads(check.grade(path, A, ref=ref, pool=pool)[0].to_json())
    sol = json.loads(check.grade(path, A_sol, ref=ref_sol, pool=pool)[0].to_json())
    return roots(ded), roots(sol), ded, sol


if __name__ == "__main__":
    sys.exit(main())
