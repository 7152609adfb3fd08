"""TensorFlow as the grader finds it: whether there is one, and without its noise.

The grader does not bring TensorFlow (see :mod:`grader.dist`): it uses the one
installed, and says which extra to install when there is none.  TensorFlow's C++
runtime writes start-up lines straight to file descriptor 2 when it loads
(``oneDNN custom operations are on``, ``cpu_feature_guard``, absl's ``All log
messages before absl::InitializeLog() is called are written to STDERR``),
before and regardless of Python's logging.  They say nothing to a student or an
instructor, so every place where the grader's own process imports TensorFlow
does so inside :func:`native_stderr_filtered`, and children's stderr loses them
with :func:`strip_noise` (the student's own output stays).

Standard library only; importing this module imports no TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata, util

__all__ = [
    "QUIET_ENV",
    "TensorFlowStatus",
    "is_noise",
    "native_stderr_filtered",
    "quiet_defaults",
    "status",
    "strip_noise",
]

#: Set (when the user has not set them) before TensorFlow loads in the grader's
#: process: the C++ log level, and oneDNN's start-up notice (the grader runs no
#: computation whose rounding oneDNN could change).
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}

# absl / glog line prefix: I0000 00:00:1796116968.280581   11295 port.cc:153]
_GLOG = r"[IWE]\d{4} [\d:.]+\s+\d+ "
_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|^" + _GLOG + r"(?:port|cpu_feature_guard|cuda_dnn|cuda_fft|cuda_blas|cuda_executor|cuda_diagnostics"
    r"|cudart_stub|dso_loader|computation_placer|gpu_device|cpu_utils|tf2xla_util|stream_executor\w*)\.cc:\d+\]"
    r"|^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.$"
    r"|^TF-TRT Warning: Could not find TensorRT$"
    r"|^oneDNN custom operations are on\. "
)


def is_noise(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's C++ start-up lines."""
    return bool(_NOISE.search(line.rstrip("\r\n")))


def strip_noise(text: str) -> str:
    """``text`` without TensorFlow's start-up lines; every other line as it was."""
    if not text or ("absl" not in text and ".cc:" not in text and "TensorFlow" not in text
                    and "TensorRT" not in text and "oneDNN" not in text):
        return text
    return "".join(line for line in text.splitlines(keepends=True) if not is_noise(line))


def quiet_defaults(environ=os.environ) -> None:
    """Quiet TensorFlow's C++ start-up in this process (only variables the user has not set)."""
    for k, v in QUIET_ENV.items():
        environ.setdefault(k, v)


@contextlib.contextmanager
def native_stderr_filtered():
    """Run the body with file descriptor 2 captured; afterwards write back every
    captured line that is not TensorFlow start-up noise.  For the few places where
    the grader's own process imports TensorFlow: the C++ runtime writes to the
    descriptor, so ``sys.stderr`` redirection alone would not catch it."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no real descriptor 2 (an embedded interpreter): nothing to filter
        return
    # a file, not a pipe: the body may write more than a pipe buffer holds
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = strip_noise(tmp.read().decode("utf-8", "replace"))
            if kept:
                try:
                    sys.stderr.write(kept)
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass


@dataclass(frozen=True)
class TensorFlowStatus:
    ok: bool
    problem: str  # "" when ok, else what is wrong, in a sentence
    keras_version: str | None
    tensorflow_dist: str | None  # the distribution that provides `tensorflow`, if known


#: distributions that install the `tensorflow` package
TF_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos", "tf-nightly",
                    "tf-nightly-cpu", "tensorflow-gpu")


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def status() -> TensorFlowStatus:
    """Whether TensorFlow and Keras 3 are there to grade with (found without
    importing either: importing TensorFlow takes seconds)."""
    tf_dist = next((d for d in TF_DISTRIBUTIONS if _dist_version(d)), None)
    keras_v = _dist_version("keras")
    if util.find_spec("tensorflow") is None:
        return TensorFlowStatus(False, "TensorFlow is not installed in this environment", keras_v, None)
    if util.find_spec("keras") is None or keras_v is None:
        return TensorFlowStatus(False, "Keras is not installed in this environment", None, tf_dist)
    try:
        major = int(keras_v.split(".")[0])
    except ValueError:
        major = 0
    if major < 3:
        return TensorFlowStatus(False, f"the installed Keras is {keras_v}; the grader needs Keras 3 "
                                "(TensorFlow 2.16 or newer)", keras_v, tf_dist)
    return TensorFlowStatus(True, "", keras_v, tf_dist)
