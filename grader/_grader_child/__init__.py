"""The tracer's runtime: the code that runs inside the sandboxed child, in the
same process as the student's code (started by the entry file ``grader/_child.py``).

It imports nothing from the grader, only the standard library, NumPy and Keras,
so the sandbox binds it alone (read-only, beside the entry file, at
``/opt/grader/_grader_child/``; see ``grader.trace`` and ``grader.workers``).
Nothing in it is trusted by the parent: the student's code could rewrite any
of it, so the parent validates what it sends (``grader.trace``).

Its name is ``_grader_child`` everywhere (in the sandbox and on the host), a
top-level name no submission uses: the student's code shares ``sys.modules``
with it, so no module of it may be a name a student imports (``tracer``,
``runner``, ``legacy``...); they are all inside this package.

The modules, in the order a run uses them:

- ``channel``: the entry point (``main``), the seal and the one result document;
- ``tracer``: the recording of every Keras layer call, keras.ops call and raw TF op;
- ``hooks``: the tracer's hooks into Keras, and putting them back when undone;
- ``stubs``: what must not run while grading (training, saving, downloads, datasets);
- ``standins``: stand-ins for packages that are not installed;
- ``legacy``: Keras 2 module paths, arguments and behaviour read as Keras 3;
- ``keras1``: Keras 1 layer arguments and ``merge()``, pooling's ``padding="SAME"``,
  a ``/`` in a layer name, ``K.image_dim_ordering``;
- ``tfops``: TensorFlow functions called on Keras tensors, as one layer each;
- ``importer``: which import gets a stand-in or a Keras 2 mapping;
- ``runner``: the script run statement by statement, and what each failure says;
- ``finder``: the model graded (objects, builders, globals) and its graph;
- ``probes``: the block functions, each called alone;
- ``outcome``: from the run to the trace (which failure was the model's own build).
"""

import os

#: the folder of this package and the entry file beside it: the tracer's own
#: code, never the student's (as their frames appear in ``co_filename``)
PACKAGE_DIR = os.path.dirname(__file__)
ENTRY_FILE = os.path.join(os.path.dirname(PACKAGE_DIR), "_child.py")


#: the module the classes the student's code meets (stand-ins, Keras 2 modules and
#: shapes, the importer) say they are from: Python's own messages name a value's
#: class ("of type <class '__main__.StandIn'>") and reports quote them; the tracer
#: ran as __main__ when it was one file, and its package's name stays out of them
SHOWN_MODULE = "__main__"


def is_own_code(filename: str) -> bool:
    """Whether ``filename`` (a code object's) is a file of the tracer itself."""
    return filename == ENTRY_FILE or filename.startswith(PACKAGE_DIR + os.sep)
