"""The entry file of the tracer that runs inside the child process, next to the
student's code: ``python -B _child.py REQUEST`` (or a warm worker's child,
which runs this file the same way, see ``grader/_zygote.py``).

The tracer itself is the package ``_grader_child`` beside this file
(``grader/_grader_child/``; in the sandbox both are bound read-only into
``/opt/grader/``, the folder Python puts first on ``sys.path`` for this script).
It is imported under that top-level name, which no submission uses, and not as
``grader._grader_child``: the child never imports the grader package, and a
student's ``import grader`` finds what it found before. See the package's
docstring for what each of its modules owns.
"""

import sys

from _grader_child.channel import main

if __name__ == "__main__":
    main(sys.argv)
