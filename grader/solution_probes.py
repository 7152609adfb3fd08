"""The block functions of a solution-derived assignment, each called alone
(``[functions]``): the solution's function probed with the arguments its own
network passes (filter counts made distinct), the student's function with the
same arguments, and what a correct function gives each role.

An assignment file names the solution's function and the names the student's
may have::

    [functions]
    inception = ["inception", "inception_module"]   # the solution's inception(); the student's names

1. The solution is traced with its calls of ``inception`` recorded
   (``_grader_child/calls.py``): the arguments after the input tensor, and the
   input's shape.
2. Each distinct pattern of those calls (what is not a filter count: a stride,
   a flag, a stage number) becomes one probe. Every integer argument of at
   least ``FILTER_MIN`` is read as a filter count and replaced by a distinct
   prime (``PROBE_VALUES``), so that each filter count in the probe's graph
   names the argument it came from; the input gets the channels of the
   argument that had the input's count (an identity block adds its input).
3. The solution's function is called alone with those arguments; the block it
   builds says which block kind of the solution it is (by structure) and,
   role by role, the filter count a correct function gives.
4. The student's function is called with the same arguments (as the solution
   passes them, or with its filter counts in one tuple, or spread), and the
   diagnosis reads it as it reads a paper's probe (``grader.diagnose.probes``).
"""

from __future__ import annotations

import json

#: an integer argument at least this large is a filter count (strides, kernel
#: sizes, repeat counts and stage numbers are smaller)
FILTER_MIN = 8
#: distinct filter counts for a probe: primes, so that no sum or product of two equals a third
PROBE_VALUES = (11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107)
#: the probes of one function (the trace carries at most 8)
MAX_PATTERNS = 8
#: a count that is a multiple of an argument up to this is read as computed from it (``4 * growth``);
#: below the smallest probe value, so that no two arguments' multiples are equal
MAX_FACTOR = 8
#: the signature that passes the filter counts alone
FILTERS_ONLY = "filters only"


class ProbeError(ValueError):
    """A function named in [functions] cannot be probed from the solution."""


def _is_filters(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= FILTER_MIN


def probe_arguments(call: dict, adds: bool = False):
    """(arguments, input shape, pattern) of a recorded call: its filter counts
    replaced by distinct values; None when an argument cannot be passed again.
    ``adds``: the solution adds a block's input to its output (a residual
    block), so the input gets the channels of the argument that had its count;
    otherwise a count of its own, so that no argument's can pass for it."""
    raw = call.get("args")
    shape = call.get("input_shape")
    if not isinstance(raw, list) or any(not isinstance(a, dict) or "v" not in a for a in raw):
        return None
    if not (isinstance(shape, list) and len(shape) == 4 and all(isinstance(x, int) and x > 0 for x in shape[1:])):
        return None
    values = iter(PROBE_VALUES + tuple(range(PROBE_VALUES[-1] + 2, 2000, 2)))  # odd ones, past the primes
    args, pattern, channels = [], [], None
    c = shape[3]
    for a in raw:
        v = a["v"]
        if isinstance(v, list):
            new = [next(values) if _is_filters(x) else x for x in v]
            for x, y in zip(v, new):
                if x == c and y != x and channels is None:
                    channels = y
            pattern.append(["*" if _is_filters(x) else x for x in v])
            args.append(new)
        elif _is_filters(v):
            y = next(values)
            if v == c and channels is None:
                channels = y
            args.append(y)
            pattern.append("*")
        else:
            args.append(v)
            pattern.append(v)
    # trailing names (a block's name prefix) are the student's own business: a
    # required one gets a name from the child
    while args and isinstance(args[-1], str):
        args.pop()
        pattern.pop()
    if not adds or channels is None and any(c % v == 0 and c // v <= MAX_FACTOR for v in PROBE_VALUES):
        # a count of its own, that no argument (nor a multiple of one: ``4 * growth``) can pass for
        channels = next(values)
    return args, [shape[1], shape[2], channels or c], json.dumps(pattern)


def student_signatures(args: list) -> list:
    """The ways the student's function is called: as the solution's is, with
    the leading filter counts in one tuple, or with a tuple's counts spread."""
    sigs = [{"name": "solution", "args": args, "scalars": True}]
    lead = 0
    while lead < len(args) and _is_filters(args[lead]):
        lead += 1
    if lead >= 2:
        sigs.append({"name": "one tuple", "args": [args[:lead], *args[lead:]], "scalars": False})
    if any(isinstance(a, list) for a in args):
        spread = [x for a in args for x in (a if isinstance(a, list) else [a])]
        sigs.append({"name": "spread", "args": spread, "scalars": True})
    if 0 < lead < len(args):
        # the filter counts alone (a student's own flags left at their defaults): kept
        # only where the block it builds is of the probe's kind (``accepts_probe``)
        sigs.append({"name": FILTERS_ONLY, "args": args[:lead], "scalars": True})
    return sigs


def solution_specs(calls: dict, functions: dict, adds: bool = False) -> list:
    """The probes of the solution's own functions: one per distinct pattern of
    its calls, for each function the assignment names (``adds``: see ``probe_arguments``)."""
    specs = []
    for fn in functions:
        recorded = calls.get(fn) if isinstance(calls, dict) else None
        if not recorded:
            raise ProbeError(f"[functions] {fn}: the solution's network never calls a function named {fn}; "
                             "name the solution's own block function (def ...) there")
        seen = set()
        for call in recorded if isinstance(recorded, list) else []:
            got = probe_arguments(call, adds) if isinstance(call, dict) else None
            if got is None or got[2] in seen or len(seen) >= MAX_PATTERNS:
                continue
            seen.add(got[2])
            specs.append({"kind": fn, "names": [fn], "input_shape": got[1],
                          "signatures": [{"name": "solution", "args": got[0]}], "function": fn})
        if not seen:
            raise ProbeError(f"[functions] {fn}: the solution calls {fn} with an argument the grader cannot pass "
                             "again (a tensor or an object after the input); only numbers, tuples, flags and names can be")
    return specs[:8]


def read_probes(arch, results: list, specs: list, functions: dict) -> tuple:
    """(ProbeSpec per block kind, {kind: {role: filters}}) from the solution's
    own probes: the kind of the block each built, and the filter count of each
    role in it (the first probe of a kind wins)."""
    from .align import structure
    from .arch import ProbeSpec
    from .graph import build

    probes, expect, found, errors = [], {}, set(), {}
    for spec, res in zip(specs, results):
        if isinstance(res, dict) and res.get("error"):
            errors.setdefault(spec["function"], res["error"])
        if not isinstance(res, dict) or res.get("error") or "nodes" not in res:
            continue
        pb = structure(build(res), arch.merge_ops).blocks
        if not pb:
            continue
        pb = pb[-1]
        kind = arch.kind_of_structure(pb)
        if kind is None:
            continue
        found.add(spec["function"])
        if kind in expect:
            continue
        values = arch.columns(pb)  # the filters by column, as the solution's blocks are read
        expect[kind] = {role: values[col] for role, col in arch.role_columns(kind).items() if col in values}
        fn = spec["function"]
        names = tuple(functions.get(fn) or [fn])
        args = spec["signatures"][0]["args"]
        probes.append(ProbeSpec(kind, names, tuple(spec["input_shape"]), tuple(student_signatures(args))))
    missing = [fn for fn in functions if fn not in found]
    if missing:
        fn = missing[0]
        if fn in errors:
            e = errors[fn]
            raise ProbeError(f"[functions] {fn}: called alone with a distinct filter count for each argument, the "
                             f"solution's {fn} raised {e.get('type', 'an error')}: {str(e.get('message', ''))[:300]} "
                             "(a count that must equal another, or the input's, cannot be probed)")
        raise ProbeError(f"[functions] {fn}: called alone with the arguments the solution passes it, the solution's "
                         f"{fn} builds no block of the network (no merge of branches: a Concatenate or Add); "
                         "only block functions can be probed")
    return tuple(probes), expect


class ProbeReading:
    """What the diagnosis asks of a solution-derived architecture about a probe
    (``grader.arch.Architecture``'s probe methods), read off the solution's own
    probe: the count each role gets, and the argument it comes from."""

    _expect: dict = {}

    def probe_expectations(self, probe: dict) -> dict:
        return dict(self._expect.get(probe.get("block_kind"), {}))

    def named_values(self, probe: dict) -> dict:
        """value -> the argument it is, or the multiple of one it is (``4 * growth``): the
        probe's values are distinct primes, so no multiple up to ``MAX_FACTOR`` is two arguments'."""
        args = {a: v for a, v in (probe.get("arguments") or {}).items()
                if isinstance(v, int) and not isinstance(v, bool) and v >= FILTER_MIN}
        out = {}
        for k in range(MAX_FACTOR, 1, -1):
            out.update({k * v: f"{k} * {a}" for a, v in args.items()})
        out.update({v: a for a, v in args.items()})  # an argument itself, before any multiple
        return out

    def argument_of(self, role: str, probe: dict) -> str | None:
        want = self.probe_expectations(probe).get(role)
        return self.named_values(probe).get(want) if want is not None else None

    def accepts_probe(self, probe: dict, blocks: list) -> bool:
        """A function called with its filter counts alone stands for the probe's kind
        only if it built a block of that kind (``res_block(x, f)`` is no projection block)."""
        if probe.get("signature") != FILTERS_ONLY:
            return True
        return bool(blocks) and self.kind_of_structure(blocks[-1]) == probe.get("block_kind")
