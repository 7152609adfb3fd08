"""The calls of the block functions a solution-derived assignment names
(``[functions]``), as the solution's own network makes them: the arguments of
each call (after the input tensor) and the input's shape, so that the parent
can call the solution's function and the student's alone with arguments shaped
like the solution's (``grader.solution``).

Only a solution file is traced with this on (``record_calls`` in the request):
a profile hook sees every Python call, and only the calls of the named
functions defined in the traced file itself are kept.
"""

from __future__ import annotations

import sys

#: the calls kept per function (the distinct argument patterns are read off them)
MAX_CALLS = 64


def _value(v):
    """A JSON value for an argument, or None when it cannot be passed again."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, float)):
        return {"v": v}
    if isinstance(v, int):
        return {"v": int(v)}
    if isinstance(v, (list, tuple)) and all(isinstance(x, (int, float, str)) and not isinstance(x, bool) for x in v):
        return {"v": list(v), "tuple": isinstance(v, tuple)}
    return None


class CallRecorder:
    """Records the calls of the functions named ``names`` whose code is in one of
    the student's (here: the solution's) files."""

    def __init__(self, names, tracer):
        self.names = set(names)
        self.tracer = tracer
        self.calls: dict = {}  # function name -> [{"params", "args", "input_shape"}]
        self._previous = None

    def _hook(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if code.co_name not in self.names:
            return
        kept = self.calls.setdefault(code.co_name, [])
        if len(kept) >= MAX_CALLS or not self.tracer.is_student_file(code.co_filename):
            return
        try:
            kept.append(self._read(frame, code))
        except Exception:  # an argument that cannot be read: the call is not kept
            pass

    @staticmethod
    def _read(frame, code) -> dict:
        n = code.co_argcount
        params = list(code.co_varnames[:n])
        local = frame.f_locals
        fn = frame.f_globals.get(code.co_name)
        defaults = getattr(fn, "__defaults__", None) or ()
        first = local.get(params[0]) if params else None
        shape = getattr(first, "shape", None)
        shape = [int(x) if x is not None else None for x in shape] if shape is not None else None
        args = [_value(local.get(p)) for p in params[1:]]
        # the trailing arguments left at their defaults are not passed again
        cut = len(args)
        for p, d in zip(reversed(params[1:]), reversed(defaults)):
            if cut and args[cut - 1] is not None and args[cut - 1]["v"] == (list(d) if isinstance(d, tuple) else d):
                cut -= 1
            else:
                break
        return {"params": params, "args": args[:cut], "input_shape": shape}

    def start(self):
        self._previous = sys.getprofile()
        sys.setprofile(self._hook)

    def stop(self) -> dict:
        sys.setprofile(self._previous)
        return self.calls
