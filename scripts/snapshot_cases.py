"""Grade every golden fixture of tests/data/cases and write each report, without
what changes from run to run (durations, times, absolute paths), as one JSON file.

A refactoring is checked by running this on the tree before and after and
comparing the two files (``--compare A B``): the reports must be identical.

    python scripts/snapshot_cases.py OUT.json [--jobs 2]
    python scripts/snapshot_cases.py --compare BEFORE.json AFTER.json
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

VOLATILE = {"duration_s", "graded_at", "path", "grader_version", "elapsed_s", "started_at"}


def _strip(v):
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    if isinstance(v, str) and str(ROOT) in v:
        return v.replace(str(ROOT), "<ROOT>")
    return v


def snapshot(out: Path, jobs: int) -> None:
    from test_cases import CASE_LIST, graded_against

    from grader import check
    from grader.workers import WarmPool

    names = sorted({name for _, name, _ in CASE_LIST})
    graded = {name: graded_against(name) for name in names}
    result: dict = {}
    with WarmPool(jobs) as pool:
        def one(case):
            path, name, file = case
            A, ref = graded[name]
            report, _ = check.grade(path, A, ref=ref, pool=pool,
                                    timeout_s=20 if "timeout" in path.name else None)
            key = f"{path.name}::{file or ''}::{name}"
            return key, _strip(json.loads(report.to_json()))

        with ThreadPoolExecutor(jobs) as ex:
            for key, rep in ex.map(one, CASE_LIST):
                result[key] = rep
                print(key, rep["score"], file=sys.stderr)
    out.write_text(json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(result)} reports -> {out}")


def compare(a: Path, b: Path) -> int:
    A = json.loads(a.read_text(encoding="utf-8"))
    B = json.loads(b.read_text(encoding="utf-8"))
    bad = 0
    for key in sorted(set(A) | set(B)):
        if A.get(key) != B.get(key):
            bad += 1
            print(f"DIFFERS: {key}")
            ra, rb = A.get(key) or {}, B.get(key) or {}
            for field in sorted(set(ra) | set(rb)):
                if ra.get(field) != rb.get(field):
                    print(f"  {field}:\n    before {json.dumps(ra.get(field))[:600]}\n    after  {json.dumps(rb.get(field))[:600]}")
    print(f"{len(set(A) | set(B))} cases, {bad} differ")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    a = ap.parse_args()
    if a.compare:
        return compare(Path(a.compare[0]), Path(a.compare[1]))
    snapshot(Path(a.out), a.jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
