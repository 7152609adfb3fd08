"""Loading a submission: a .py file, a notebook, a folder, or a .zip of any of these.

A loaded Submission is plain data: the files it consists of (as bytes, to be
written into the sandbox's scratch folder), the entry file to run, and for
notebooks the map from the generated script's lines back to "cell N, line M".
Nothing here runs student code.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .report import Source

MAX_FILES = 500
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", "node_modules", ".idea", ".vscode", "__MACOSX"}
CODE_SUFFIXES = {".py", ".ipynb"}


class LoadError(ValueError):
    """The submission cannot be loaded; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Submission:
    id: str
    path: str
    kind: str  # py | ipynb | folder | zip
    files: dict  # relative posix path -> bytes
    entry: str  # relative path of the file to run (a generated .py for notebooks)
    sha256: str
    # for notebooks: generated line (1-based) -> [cell, line in cell] (both 1-based), as a list
    line_map: list = field(default_factory=list)
    notebook: str | None = None  # relative path of the notebook the entry was generated from
    cells: list = field(default_factory=list)  # the code cells' sources, for reports
    skipped: list = field(default_factory=list)  # files left out, with the reason
    # IPython syntax that was skipped to run the code: [line of the entry, the line's text]
    ipython_lines: list = field(default_factory=list)
    # files as they are run, where they differ from what the student wrote (IPython lines skipped)
    run_files: dict = field(default_factory=dict)

    def files_to_run(self) -> dict:
        """The files written into the sandbox: the student's, with IPython lines skipped."""
        return {**self.files, **self.run_files}

    def source(self, file: str | None, line: int | None) -> Source | None:
        """Map a traced (file, line) to what the student sees."""
        if file is None or line is None:
            return None
        if self.notebook and file == self.entry:
            if 1 <= line <= len(self.line_map) and self.line_map[line - 1]:
                cell, cline = self.line_map[line - 1]
                code = self.cells[cell - 1].splitlines()[cline - 1] if cell - 1 < len(self.cells) else None
                return Source(self.notebook, line, cell=cell, cell_line=cline, code=code)
            return Source(self.notebook, line)
        text = self.text(file)
        code = None
        if text is not None:
            lines = text.splitlines()
            if 1 <= line <= len(lines):
                code = lines[line - 1]
        return Source(file, line, code=code)

    def text(self, file: str) -> str | None:
        b = self.files.get(file)
        return None if b is None else b.decode("utf-8", "replace")

    def source_texts(self) -> dict[str, str]:
        """Texts for the report's code excerpts: files by name, notebook cells as NAME#cellN."""
        out = {
            k: v.decode("utf-8", "replace")
            for k, v in self.files.items()
            if k.endswith(".py") and not (self.notebook and k == self.entry)
        }
        if self.notebook:
            for i, c in enumerate(self.cells, 1):
                out[f"{self.notebook}#cell{i}"] = c
        return out


def _sha(files: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


# -- notebooks ---------------------------------------------------------------------

_SHELL_ASSIGN = re.compile(r"^(\s*)([\w.,\s]+?)\s*=\s*[!%]")
_PASSTHROUGH_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}


def notebook_to_script(nb_bytes: bytes, name: str) -> tuple[str, list, list, dict]:
    """(script, line_map, code cells, files written by %%writefile)."""
    try:
        nb = json.loads(nb_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LoadError(f"{name} is not a valid notebook (JSON): {e}. Save it again from Jupyter or Colab.") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if cells is None and isinstance(nb, dict) and "worksheets" in nb:  # nbformat 3
        cells = [c for ws in nb["worksheets"] for c in ws.get("cells", [])]
        for c in cells:
            c.setdefault("source", c.get("input", ""))
    if not isinstance(cells, list):
        raise LoadError(f"{name} has no cells: is it a Jupyter notebook?")
    out_lines: list[str] = []
    line_map: list = []
    code_cells: list[str] = []
    written: dict = {}
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(src)
        code_cells.append(src)
        n = len(code_cells)
        lines = src.splitlines()
        first = lines[0].strip() if lines else ""
        if first.startswith("%%"):
            magic = first[2:].split()[0] if first[2:].split() else ""
            if magic == "writefile" and len(first.split()) >= 2:
                fname = first.split()[-1]
                written[fname] = ("\n".join(lines[1:]) + "\n").encode()
                lines = ["pass  # grader: %%writefile cell"] + ["" for _ in lines[1:]]
            elif magic in _PASSTHROUGH_CELL_MAGICS:
                lines = ["pass  # grader: cell magic"] + lines[1:]
            else:
                lines = ["pass  # grader: cell magic neutralized"] + ["" for _ in lines[1:]]
        out_lines.append(f"# --- cell {n} ---")
        line_map.append(None)
        for i, line in enumerate(lines, 1):
            stripped = line.lstrip()
            indent = line[: len(line) - len(stripped)]
            if stripped.startswith(("%", "!")) and not stripped.startswith("%%"):
                line = f"{indent}pass  # grader: magic neutralized"
            else:
                m = _SHELL_ASSIGN.match(line)
                if m and not stripped.startswith("#"):
                    line = f"{m.group(1)}{m.group(2)} = []  # grader: shell capture neutralized"
            out_lines.append(line)
            line_map.append([n, i])
    return "\n".join(out_lines) + "\n", line_map, code_cells, written


# -- IPython syntax in a .py (Colab and Jupyter exports) -----------------------------------

_IPY_LINE = re.compile(r"^(\s*)(?:!(?!=)\S|%(?!%)[A-Za-z_])")
_IPY_CELL = re.compile(r"^(\s*)%%([A-Za-z_]\w*)")
_IPY_ASSIGN = re.compile(r"^(\s*)([A-Za-z_][\w.,\s]*?)\s*=\s*(?:!(?!=)|%[A-Za-z_])")


def _scan(line: str, state: tuple) -> tuple:
    """The (bracket depth, open string quote, continued) state after ``line``, from
    the state before it: enough Python lexing to tell where a line starts."""
    depth, quote, _ = state
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if c == "#":
            break
        if c in "\"'":
            quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else c
            i += len(quote)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        i += 1
    stripped = line.rstrip("\r")
    continued = stripped.endswith("\\") and not quote
    if quote in ('"', "'") and not stripped.endswith("\\"):
        quote = None  # a one-line string cannot span lines: the line was not Python anyway
    return depth, quote, continued


def neutralize_ipython(text: str) -> tuple[str, list]:
    """(script, [[line, text], ...]): a .py exported from Colab or Jupyter with its
    IPython lines (``!pip ...``, ``%matplotlib inline``, ``files = !ls``, ``%%bash``
    cells) replaced by ``pass``, line for line, so every other line keeps its
    number. A file that already parses is returned as it is; a line that starts
    inside a string, inside brackets or after a backslash is Python and stays."""
    try:
        ast.parse(text)
        return text, []
    except SyntaxError:
        pass
    except (ValueError, RecursionError, MemoryError):
        return text, []
    lines = text.split("\n")
    out = list(lines)
    kept: list = []
    state = (0, None, False)
    i = 0
    while i < len(lines):
        line = lines[i]
        cr = "\r" if line.endswith("\r") else ""
        at_start = state == (0, None, False)
        m = _IPY_CELL.match(line) if at_start else None
        if m:
            out[i] = f"{m.group(1)}pass  # grader: IPython cell magic skipped{cr}"
            kept.append([i + 1, line.rstrip("\r")])
            i += 1
            if m.group(2) not in _PASSTHROUGH_CELL_MAGICS:
                # %%bash, %%writefile...: the cell's body is not Python (up to the blank line that ends the cell)
                while i < len(lines) and lines[i].strip():
                    out[i] = "\r" if lines[i].endswith("\r") else ""
                    i += 1
            continue
        m = _IPY_LINE.match(line) if at_start else None
        n = None if m or not at_start else _IPY_ASSIGN.match(line)
        if m or n:
            out[i] = (f"{m.group(1)}pass  # grader: IPython line skipped{cr}" if m else
                      f"{n.group(1)}{n.group(2)} = []  # grader: IPython shell capture skipped{cr}")
            kept.append([i + 1, line.rstrip("\r")])
            i += 1
            continue
        state = _scan(line, state)
        i += 1
    if not kept:
        return text, []
    return "\n".join(out), kept


def _notebook_ipython_lines(script: str, line_map: list, cells: list) -> list:
    """The notebook's IPython lines, as [line of the generated script, the line's text]."""
    out = []
    for i, line in enumerate(script.splitlines(), 1):
        if "# grader: " not in line or i > len(line_map) or not line_map[i - 1]:
            continue
        cell, cline = line_map[i - 1]
        text = cells[cell - 1].splitlines()[cline - 1] if cell - 1 < len(cells) else line
        out.append([i, text])
    return out


# -- loading ---------------------------------------------------------------------------


def _read_tree(root: Path) -> tuple[dict, list]:
    files: dict = {}
    skipped: list = []
    total = 0
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts):
            continue
        if p.is_symlink():
            skipped.append((rel.as_posix(), "symbolic link"))
            continue
        if not p.is_file():
            continue
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            skipped.append((rel.as_posix(), f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
            continue
        if len(files) >= MAX_FILES:
            raise LoadError(f"{root} has more than {MAX_FILES} files; submit only the code (no datasets or checkpoints).")
        total += size
        if total > MAX_TOTAL_BYTES:
            raise LoadError(f"{root} is larger than {MAX_TOTAL_BYTES // 2**20} MiB; submit only the code.")
        files[rel.as_posix()] = p.read_bytes()
    return files, skipped


def _read_zip(path: Path) -> tuple[dict, list]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise LoadError(f"{path.name} is not a readable zip file ({e}); zip the folder again.") from None
    files: dict = {}
    skipped: list = []
    total = 0
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise LoadError(f"{path.name} has {len(infos)} entries, more than {MAX_FILES}; zip only the code.")
        for info in infos:
            name = info.filename.replace("\\", "/")
            pp = PurePosixPath(name)
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in pp.parts:
                raise LoadError(f"{path.name} contains an unsafe path {name!r} (absolute or with '..'); zip the folder again from inside it.")
            if info.is_dir() or any(part in SKIP_DIRS for part in pp.parts):
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                skipped.append((name, "symbolic link"))
                continue
            if info.file_size > MAX_FILE_BYTES:
                skipped.append((name, f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise LoadError(f"{path.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB; zip only the code.")
            with zf.open(info) as f:
                data = f.read(MAX_FILE_BYTES + 1)  # never trust the declared size
            if len(data) > MAX_FILE_BYTES:
                skipped.append((name, f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
                continue
            files[name] = data
    # a zip of one folder: strip the common top folder
    tops = {PurePosixPath(n).parts[0] for n in files}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in files):
        top = tops.pop()
        files = {n[len(top) + 1:]: b for n, b in files.items()}
    return files, skipped


def choose_entry(files: dict, entry_names, where: str) -> str:
    """The file to run: by the assignment's entry names, else the only code file."""
    code = [n for n in files if PurePosixPath(n).suffix in CODE_SUFFIXES]
    for name in entry_names:
        hits = [n for n in code if PurePosixPath(n).name == name]
        if hits:
            return min(hits, key=lambda n: (n.count("/"), n))
    top = [n for n in code if "/" not in n] or code
    if len(top) == 1:
        return top[0]
    notebooks = [n for n in top if n.endswith(".ipynb")]
    if len(notebooks) == 1 and not [n for n in top if n.endswith(".py") and "inception_network" in n]:
        return notebooks[0]
    if not code:
        raise LoadError(f"{where} has no .py or .ipynb file to grade.")
    raise LoadError(
        f"cannot tell which file of {where} builds the model: candidates are {', '.join(sorted(top))}. "
        f"Name it one of {', '.join(entry_names)} or pass that file to grader."
    )


def load(path: str | Path, entry_names=("googlenet.py", "model.py", "main.py")) -> Submission:
    """Load a submission from a .py, .ipynb, folder or .zip path."""
    p = Path(path)
    if not p.exists():
        raise LoadError(f"{p}: no such file or folder")
    sid = p.name if p.is_dir() else p.stem
    if p.is_dir():
        kind = "folder"
        files, skipped = _read_tree(p)
        entry = choose_entry(files, entry_names, str(p))
    elif p.suffix == ".zip":
        kind = "zip"
        files, skipped = _read_zip(p)
        entry = choose_entry(files, entry_names, p.name)
    elif p.suffix in (".py", ".ipynb"):
        kind = p.suffix[1:]
        if p.stat().st_size > MAX_FILE_BYTES:
            raise LoadError(f"{p.name} is larger than {MAX_FILE_BYTES // 2**20} MiB")
        files, skipped = {p.name: p.read_bytes()}, []
        entry = p.name
    else:
        raise LoadError(f"{p.name}: a submission is a .py file, a .ipynb notebook, a folder or a .zip")
    sha = _sha(files)
    if entry.endswith(".ipynb"):
        script, line_map, cells, written = notebook_to_script(files[entry], entry)
        gen = entry + ".py"
        files = dict(files)
        for fname, data in written.items():
            files.setdefault(str(PurePosixPath(entry).parent / fname).lstrip("./") or fname, data)
        files[gen] = script.encode()
        return Submission(sid, str(p), kind if kind != "py" else "ipynb", files, gen, sha, line_map, entry, cells, skipped,
                          ipython_lines=_notebook_ipython_lines(script, line_map, cells))
    try:
        text = files[entry].decode("utf-8")
    except UnicodeDecodeError:
        raise LoadError(f"{entry} is not UTF-8 text; save it as UTF-8.") from None
    script, ipy = neutralize_ipython(text)
    return Submission(sid, str(p), kind, files, entry, sha, [], None, [], skipped,
                      ipython_lines=ipy, run_files={entry: script.encode()} if ipy else {})
