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
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .fsutil import is_safe_name, safe_name
from .report import Source

MAX_FILES = 500
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", "node_modules", ".idea", ".vscode", "__MACOSX"}
CODE_SUFFIXES = {".py", ".ipynb"}


def parse_python(data: bytes):
    """The module AST of one of the submission's files, or None when it is no
    Python: read as bytes (the encoding its coding line declares), else as UTF-8
    with replacement characters, so a stray byte does not hide the file's code."""
    for src in (data, data.decode("utf-8", "replace")):
        try:
            return ast.parse(src)
        except (SyntaxError, ValueError):
            continue
    return None


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
    except RecursionError:
        raise LoadError(f"{name} is not a valid notebook: its JSON is nested too deeply.") from None
    cells = _notebook_cells(nb, name)
    out_lines: list[str] = []
    line_map: list = []
    code_cells: list[str] = []
    written: dict = {}
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = _cell_source(cell.get("source", ""), name, len(code_cells) + 1)
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


def _notebook_cells(nb, name: str) -> list:
    """The cells of a parsed notebook, nbformat 4 or 3 (worksheets, ``input``):
    a list of dicts, or a LoadError that says what is wrong with the file."""
    if not isinstance(nb, dict):
        raise LoadError(f"{name} is JSON but not a notebook (a {type(nb).__name__} at the top, not an object).")
    cells = nb.get("cells")
    if cells is None and "worksheets" in nb:  # nbformat 3: cells inside worksheets, code in "input"
        sheets = nb["worksheets"]
        if not isinstance(sheets, list) or not all(isinstance(ws, dict) and isinstance(ws.get("cells", []), list)
                                                   for ws in sheets):
            raise LoadError(f"{name} is an nbformat 3 notebook whose worksheets are not lists of cells; "
                            "open it in Jupyter and save it again (nbformat 4).")
        cells = [c for ws in sheets for c in ws.get("cells", [])]
        cells = [{**c, "source": c.get("source", c.get("input", ""))} if isinstance(c, dict) else c for c in cells]
    if not isinstance(cells, list):
        raise LoadError(f"{name} has no list of cells: is it a Jupyter notebook?")
    return cells


def _cell_source(src, name: str, n: int) -> str:
    """A cell's source as one string (nbformat allows a string or a list of strings)."""
    if isinstance(src, list) and all(isinstance(x, str) for x in src):
        return "".join(src)
    if isinstance(src, str):
        return src
    raise LoadError(f"{name}: code cell {n} has a source that is not text ({type(src).__name__}); "
                    "save the notebook again from Jupyter or Colab.")


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
            skipped.append((safe_name(rel.as_posix()), "symbolic link"))
            continue
        if not is_safe_name(rel.as_posix()):
            if p.is_file():
                skipped.append((safe_name(rel.as_posix()), "file name not UTF-8 or with control characters"))
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
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
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
            if not is_safe_name(name):
                skipped.append((safe_name(name), "file name with control characters"))
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                skipped.append((safe_name(name), "symbolic link"))
                continue
            if info.file_size > MAX_FILE_BYTES:
                skipped.append((name, f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise LoadError(f"{path.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB; zip only the code.")
            data = _read_member(zf, info, path.name)
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


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, zip_name: str) -> bytes:
    """One entry's bytes, at most MAX_FILE_BYTES + 1 of them (the declared size is
    never trusted); a corrupt, encrypted or exotic entry is a LoadError naming it."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise LoadError(f"{zip_name} is password-protected ({name!r} is encrypted); zip the folder again "
                        "without a password.")
    try:
        with zf.open(info) as f:
            return f.read(MAX_FILE_BYTES + 1)
    except NotImplementedError as e:  # a compression method zipfile does not have (e.g. deflate64)
        raise LoadError(f"{zip_name}: {name!r} is packed with a method the grader cannot unpack ({e}); "
                        "zip the folder again with an ordinary zip tool.") from None
    except RuntimeError as e:  # zipfile's "password required"
        raise LoadError(f"{zip_name}: {name!r} cannot be read ({e}); zip the folder again without a password.") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as e:  # bad CRC, truncated, corrupt
        raise LoadError(f"{zip_name} is corrupt: {name!r} cannot be unpacked ({e}); zip the folder again "
                        "and check that the upload finished.") from None


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
    try:
        return _load(p, entry_names)
    except LoadError:
        raise
    except OSError as e:  # unreadable file, permissions, a file that vanished while it was read
        raise LoadError(f"cannot read {safe_name(p.name)}: {e.strerror or e}") from None
    except (MemoryError, RecursionError) as e:
        raise LoadError(f"{safe_name(p.name)} is too large or too deeply nested to load ({type(e).__name__})") from None


def _text_problem(data: bytes, name: str) -> str | None:
    """Why the bytes of a .py file are not Python source text, or None."""
    if not data.strip():
        return f"{name} is empty: submit the file with your code in it."
    head = data[:64]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 8 and any(
            not any(head[i::2]) and all(head[1 - i::2]) for i in (0, 1))):  # BOM, or every other byte NUL
        return f"{name} is UTF-16 text; save it as UTF-8 (in most editors: Save with encoding, UTF-8)."
    if b"\0" in data:
        where = data.index(b"\0")
        return (f"{name} holds NUL bytes (the first at byte {where}): it is a binary file, not Python source; "
                "submit the .py file itself.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"{name} is not UTF-8 text (byte {e.start} is {data[e.start]:#04x}); save it as UTF-8."
    return None


def _load(p: Path, entry_names) -> Submission:
    if not p.exists() and not p.is_symlink():
        raise LoadError(f"{safe_name(str(p))}: no such file or folder")
    if p.is_symlink():
        try:
            target = p.resolve(strict=True)
        except (OSError, RuntimeError):
            raise LoadError(f"{safe_name(p.name)} is a symbolic link that leads nowhere (or in a loop)") from None
        if not target.is_relative_to(p.parent.resolve()):
            raise LoadError(f"{safe_name(p.name)} is a symbolic link to {safe_name(str(target))}, outside its "
                            "folder: the grader does not follow it; put the file itself there.")
    sid = safe_name(p.name if p.is_dir() else p.stem)
    if p.is_dir():
        kind = "folder"
        files, skipped = _read_tree(p)
        entry = choose_entry(files, entry_names, safe_name(str(p)))
    elif p.suffix == ".zip":
        kind = "zip"
        files, skipped = _read_zip(p)
        entry = choose_entry(files, entry_names, safe_name(p.name))
    elif p.suffix in (".py", ".ipynb"):
        kind = p.suffix[1:]
        if p.stat().st_size > MAX_FILE_BYTES:
            raise LoadError(f"{safe_name(p.name)} is larger than {MAX_FILE_BYTES // 2**20} MiB")
        entry = safe_name(p.name)
        files, skipped = {entry: p.read_bytes()}, []
    else:
        raise LoadError(f"{safe_name(p.name)}: a submission is a .py file, a .ipynb notebook, a folder or a .zip")
    sha = _sha(files)
    if entry.endswith(".ipynb"):
        script, line_map, cells, written = notebook_to_script(files[entry], entry)
        gen = entry + ".py"
        files = dict(files)
        for fname, data in written.items():
            files.setdefault(str(PurePosixPath(entry).parent / fname).lstrip("./") or fname, data)
        files[gen] = script.encode()
        return Submission(sid, safe_name(str(p)), kind if kind != "py" else "ipynb", files, gen, sha, line_map, entry, cells, skipped,
                          ipython_lines=_notebook_ipython_lines(script, line_map, cells))
    problem = _text_problem(files[entry], entry)
    if problem:
        raise LoadError(problem)
    text = files[entry].decode("utf-8")
    script, ipy = neutralize_ipython(text)
    return Submission(sid, safe_name(str(p)), kind, files, entry, sha, [], None, [], skipped,
                      ipython_lines=ipy, run_files={entry: script.encode()} if ipy else {})
