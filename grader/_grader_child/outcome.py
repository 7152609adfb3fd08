"""From the run to the trace: the model found among what the script left, its
graph, and which failure (if any) was the model's own construction (a build
error at the student's line, with the failed import it came from), the others
staying statement errors; then the block functions' probes.
"""

from __future__ import annotations

from . import behaviour
from .finder import find_model, input_sources, trace_model
from .probes import run_probes
from .runner import Script, error_record, graph_tids, link_failures, model_nodes, name_cause
from .tracer import Tracer


def _partial(nodes, aliases, mark=None, alias_mark=None) -> dict:
    nodes = nodes[:mark] if mark is not None else nodes
    # a layer call that failed on something that is not a tensor of the graph (the
    # output of a stand-in) has nothing of the network flowing into it: not a part of it
    return {"nodes": [n for n in nodes if not (n.get("error") and not n.get("inputs"))],
            "aliases": list(aliases[:alias_mark] if alias_mark is not None else aliases),
            "inputs": [], "outputs": [], "partial": True}


def _public(f: dict) -> dict:
    """A statement failure as the trace reports it."""
    out = {k: f.get(k) for k in ("type", "message", "source", "line", "count", "caused_by", "role")}
    if f.get("cause"):
        out["cause"] = f["cause"]
    return out


def _as_build_error(f: dict) -> dict:
    return {k: f[k] for k in ("type", "message", "phase", "source", "traceback", "cause", "module") if k in f} | {"phase": "build"}


def grade_script(run: Script, g: dict, req: dict, tracer: Tracer, result: dict):
    """Find the model among what the script left, decide which failure (if any)
    was the model's own construction, and fill ``result``."""
    failures = link_failures(run.failures)
    build = None  # the error of the model's construction
    graph = None
    try:
        tracer.attempt = None
        mark = len(tracer.nodes)
        model, found, candidates = find_model(g, req, tracer, failures)
        result["found"] = found
        result["candidates"] = candidates
        if model is not None:
            ins, outs = trace_model(model, tracer, req)
            inside = None
            if found["how"] != "builder":
                # a statement that failed while building this very network (it holds
                # tensors of its graph): the network is incomplete, the build failed
                used = graph_tids(ins, outs, run.nodes, run.aliases) if any(f["build_like"] for f in failures) else set()
                inside = next((f for f in failures if f["build_like"] and f["tids"] & used), None)
            if inside is not None:
                inside["role"] = "build"
                build = _as_build_error(inside)
                graph = _partial(run.nodes, run.aliases, inside["mark"], inside["alias_mark"])
            else:
                graph = tracer.snapshot()
                graph["nodes"] = model_nodes(ins, graph["nodes"], graph["aliases"])
                behaviour.annotate(graph["nodes"], tracer.node_objs, tracer)
                graph["inputs"] = ins
                graph["outputs"] = outs
                graph["input_sources"] = input_sources(model, tracer)
                graph["model_class"] = type(model).__name__
                try:
                    graph["total_params"] = int(model.count_params())
                except Exception:
                    graph["total_params"] = None
                result["status"] = "ok"
        else:
            first = next((f for f in failures if f["build_like"]), None)
            if first is not None:
                first["role"] = "build"
                build = _as_build_error(first)
                graph = _partial(run.nodes, run.aliases, first["mark"], first["alias_mark"])
            else:
                result["status"] = "no_model"
    except Exception as e:  # a builder, or the symbolic call of a subclassed model, failed
        build = error_record(e, tracer, "build")
        if tracer.attempt is not None:
            result["found"] = tracer.attempt
        nodes = tracer.nodes[mark:] if tracer.nodes is run.nodes else tracer.nodes
        graph = _partial(nodes if nodes else run.nodes, tracer.aliases if nodes else run.aliases)
        for f in failures:  # the script's own call of the same builder failed the same way
            if f["role"] == "script" and (f["type"], f["source"]) == (build["type"], build["source"]):
                f["role"] = "build"
    if build is not None:
        k, missing = name_cause(build, failures)
        if k is not None and failures[k]["role"] == "script":
            # the model uses a name a failed statement (an import) should have defined
            cause = failures[k]
            cause["role"] = "cause"
            build["cause"] = {"kind": "statement", "name": missing, "type": cause["type"],
                              "message": cause["message"], "used": build.get("source")}
            build["source"] = cause["source"]
            if cause.get("module"):
                build["module"] = cause["module"]
        result["error"] = {k: v for k, v in build.items() if k != "missing"}
        result["status"] = "failed"
        at = next((i for i, f in enumerate(failures) if f["role"] == "build"), None)
        if at is not None:
            for f in failures[at + 1:]:
                # what failed while building after the build broke follows from it
                if f["build_like"] and f["role"] == "script" and f["caused_by"] is None:
                    f["caused_by"] = at
    if graph is not None:
        result["graph"] = graph
    result["statement_errors"] = [_public(f) for f in failures[:200]]
    if getattr(tracer, "returned", None) is not None:
        result["returned"] = tracer.returned
    # the block functions, each called alone
    probes = run_probes(g, tracer, req)
    if probes:
        result["probe"] = probes[0]
        result["probes"] = probes

