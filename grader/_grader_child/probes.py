"""The block functions, each called alone: the assignment's probe specs name
the student's functions (``inception``, ``identity_block``, ``dense_block``...)
and give an input shape and argument values, distinct so that each filter count
in the recorded graph names the argument it came from; a number the function
returns beside its tensor (a new filter count) is kept.
"""

from __future__ import annotations

import inspect
import re

from .standins import StandIn
from .tracer import Tracer


def probe_specs(req: dict) -> list:
    """The block functions to probe (the assignment's, see Assignment.probe_specs)."""
    return list(req.get("probes") or [])


def find_function(g: dict, names) -> tuple:
    """(name, object, "function" | "layer") of the first of ``names`` the student defined."""
    import keras

    for name in names:
        v = g.get(name)
        if v is None or isinstance(v, StandIn):
            continue
        if inspect.isclass(v) and issubclass(v, keras.layers.Layer):
            return name, v, "layer"
        if inspect.isfunction(v):
            return name, v, "function"
    return None, None, None


def _scalar_like(params, rest, n) -> bool:
    """The first ``n`` parameters after the input take numbers: none has a string or
    tuple default, none is named like a name."""
    by = {p.name: p for p in params}
    for nm in rest[:n]:
        d = by[nm].default
        if isinstance(d, (str, tuple, list)) or any(k in nm.lower() for k in ("name", "prefix", "scope")):
            return False
    return True


def _signature_fits(sig: dict, params, rest) -> bool:
    args = sig["args"]
    if len(rest) < len(args):
        return False
    for pattern, nm in zip(sig.get("match") or (), rest):
        if not re.search(pattern, nm, re.I):
            return False
    return not sig.get("scalars") or _scalar_like(params, rest, len(args))


def run_probe(name, obj, kind, tracer: Tracer, spec: dict):
    """Call a block function alone on a fresh input with the spec's argument values
    (distinct, so that each filter count names its argument), recording its graph."""
    import keras

    try:
        target = obj.__init__ if kind == "layer" else obj
        sig = inspect.signature(target)
        params = [
            p for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return {"name": name, "kind": kind, "block_kind": spec["kind"],
                "error": {"type": "SignatureError", "message": "cannot read the signature"}}
    names = [p.name for p in params]
    rest = names[1:] if kind == "function" else names

    def fill(names_after):
        # extra required parameters such as `name` or `prefix` get a string
        out = []
        for nm in names_after:
            p = next(q for q in params if q.name == nm)
            if p.default is not p.empty:
                break
            out.append("block_probe" if any(k in nm.lower() for k in ("name", "prefix", "scope", "id", "tag")) else None)
        return out

    chosen = next((x for x in spec["signatures"] if _signature_fits(x, params, rest)), None)
    if chosen is None:
        return {"name": name, "kind": kind, "block_kind": spec["kind"], "signature": None, "params": names,
                "error": {"type": "SignatureError", "message": f"unexpected signature ({', '.join(names)})"}}
    arguments, call_args = {}, []
    for nm, v in zip(rest, chosen["args"]):
        if isinstance(v, list):
            arguments.update({f"{nm}[{i}]": x for i, x in enumerate(v)})
            call_args.append(tuple(v))
        else:
            arguments[nm] = v
            call_args.append(v)
    call_args += fill(rest[len(chosen["args"]):])
    tracer.reset()
    shape = tuple(spec["input_shape"])
    inp = keras.Input(shape=shape, name="probe_input")
    result = {
        "name": name, "kind": kind, "block_kind": spec["kind"], "signature": chosen["name"], "params": names,
        "arguments": arguments, "input_channels": shape[-1], "input_size": shape[0],
        "inputs": [tracer.tid(inp)], "outputs": [], "error": None, "returned": [],
        "call_args": list(chosen["args"]),
    }
    try:
        if kind == "function":
            out = obj(inp, *call_args)
        else:
            out = obj(*call_args)(inp)
        result["outputs"] = [tracer.tid(t) for t in tracer.flat_tensors(out)]
        result["returned"] = _returned_numbers(out)
    except Exception as e:
        result["error"] = {"type": type(e).__name__, "message": str(e)[:2000], "source": tracer.student_source_from_tb(e.__traceback__)}
    result.update(tracer.snapshot())
    return result


def _returned_numbers(out) -> list:
    """The numbers a block function returns beside its tensor (dense_block's new filter count)."""
    if isinstance(out, (list, tuple)):
        return [int(x) if float(x).is_integer() else float(x) for x in out
                if isinstance(x, (int, float)) and not isinstance(x, bool)][:4]
    return []


def run_probes(g: dict, tracer: Tracer, req: dict) -> list:
    out = []
    for spec in probe_specs(req):
        try:
            name, obj, kind = find_function(g, spec.get("names") or ())
            if obj is not None:
                out.append(run_probe(name, obj, kind, tracer, spec))
        except Exception as e:
            out.append({"block_kind": spec.get("kind"), "error": {"type": type(e).__name__, "message": str(e)[:2000]}})
    return out

