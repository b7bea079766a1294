"""Similarity report: which submissions of a unit share code, with each other or with dlkit.

``dlgrade similarity UNIT`` compares what every student wrote in the unit's answer cells
(nbgrader ``solution`` code cells; with ``added_cells``, also code cells the student added)
with what every other student wrote, exercise by exercise, and with dlkit's own
implementation of that exercise (:func:`reference_sources`).

The engine is `copydetect <https://github.com/blingenf/copydetect>`_: it tokenizes Python with
Pygments (every name becomes ``V``, ``F`` or ``O``, comments and whitespace go), fingerprints
the token stream by winnowing k-grams, as MOSS does, and counts the tokens two files share.
Renamed variables and reordered statements therefore still match.  Each answer cell becomes one
file, ``<student>/<grade_id>.py``; ``same_name_only`` makes copydetect compare a cell only with
the same exercise of the others, and ``ignore_leaf`` keeps a student's cells from being
compared with each other.  What a student did not write does not count: the released stub
lines are cut from each cell before fingerprinting, and every code cell of the release is
given to copydetect as boilerplate.

Outputs, under ``<state>/similarity/``: ``<unit>.csv`` (one row per pair of students and per
student and exercise against dlkit), ``<unit>.html`` (copydetect's report with the matched
code highlighted, under a summary of the students) and ``<unit>.json`` (what ``dlgrade
export`` reads for its ``similarity`` column, see :func:`export_notes`).
"""

from __future__ import annotations

import ast
import csv
import difflib
import html
import importlib.util
import json
import math
import re
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from dlgrade.collect import expected_notebooks
from dlgrade.errors import DlgradeError
from dlgrade.notebooks import InvalidNotebook, parse_notebook
from dlgrade.paths import REPO_ROOT, Layout
from dlgrade.results import submitted_students

REFERENCE = "dlkit-reference"  # the name of dlkit's "submission" in the report
ADDED = "added"  # the file holding a student's added code cells
DEFAULT_THRESHOLD = 0.6
# copydetect's k ("noise threshold"), in characters of tokenized code (a name is one
# character): a shared run shorter than NOISE_T never counts.  Answers are a few lines, so it
# is below copydetect's 25.  The guarantee threshold equals it, so the winnowing window is 1
# and every k-gram is kept: with a larger window the k-grams kept depend on Python's salted
# str hash, and the similarities would change from one run to the next.
NOISE_T = GUARANTEE_T = 15
CSV_COLUMNS = [
    "student_a",
    "student_b",
    "similarity_a",
    "similarity_b",
    "flagged",
    "exercises",
    "tokens_a",
    "tokens_b",
]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def parse_threshold(value: str | float | None) -> float:
    """The ``--threshold`` as a fraction in (0, 1]; a :class:`DlgradeError` otherwise."""
    if value is None:
        return DEFAULT_THRESHOLD
    try:
        threshold = float(value)
    except (TypeError, ValueError):
        threshold = math.nan
    if not 0 < threshold <= 1:  # also refuses NaN
        raise DlgradeError(
            f"--threshold {value!r}: expected a fraction greater than 0 and at most 1 "
            f"(the share of a student's code found elsewhere, e.g. {DEFAULT_THRESHOLD})"
        )
    return threshold


# -- dlkit's reference code ---------------------------------------------------------------
def answer_names(layout: Layout, unit: str) -> dict[str, list[str]]:
    """Answer cell grade_id -> the names it stands for: itself, then what it defines.

    Read from the unit's solution notebooks; a cell that does not parse keeps only its id.
    """
    names: dict[str, list[str]] = {}
    for notebook in expected_notebooks(layout, unit):
        nb = nbformat.read(layout.source / unit / notebook, as_version=4)
        for cell in _answer_cells(nb):
            gid = cell.metadata["nbgrader"]["grade_id"]
            defined = []
            try:
                defined = [
                    node.name
                    for node in ast.parse(cell.source).body
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                ]
            except SyntaxError:
                pass
            names[gid] = list(dict.fromkeys([gid, *defined]))
    return names


def reference_sources(unit: str, layout: Layout | None = None) -> dict[str, str]:
    """dlkit's source for each name of :func:`answer_names`: name -> source text.

    For now the reference of a name is every top-level ``def`` or ``class`` of that name in
    the dlkit package (e.g. ``sigmoid`` in ``dlkit/functional/activations.py`` and in
    ``dlkit/autograd/nn_functions.py``), each headed by a comment naming its file; names that
    dlkit does not define are left out.  A hand-written table can replace this function.
    """
    layout = layout or Layout.from_env()
    wanted = {name for names in answer_names(layout, unit).values() for name in names}
    found: dict[str, list[str]] = {}
    package = _dlkit_folder()
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if node.name in wanted:
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    source = "\n".join(lines[first - 1 : node.end_lineno])
                    where = path.relative_to(package.parent).as_posix()
                    found.setdefault(node.name, []).append(f"# {where}\n{source}\n")
    return {name: "\n".join(parts) for name, parts in sorted(found.items())}


def _dlkit_folder() -> Path:
    spec = importlib.util.find_spec("dlkit")  # finds the package without importing it
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return REPO_ROOT / "dlkit"


# -- what each student wrote ----------------------------------------------------------------
def _answer_cells(nb) -> list:
    return [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and c.get("metadata", {}).get("nbgrader", {}).get("solution")
        and c.metadata["nbgrader"].get("grade_id")
    ]


def _file_key(grade_id: str) -> str:
    """The name of a cell's file (without ``.py``): its grade_id, made safe for a path."""
    return _SAFE_NAME.sub("_", grade_id)


def own_code(stub: str, source: str) -> str:
    """``source`` without the lines it shares, in order, with the released ``stub``."""
    mine, given = source.splitlines(), stub.splitlines()
    keep = [True] * len(mine)
    matcher = difflib.SequenceMatcher(None, mine, given, autojunk=False)
    for block in matcher.get_matching_blocks():
        keep[block.a : block.a + block.size] = [False] * block.size
    text = "\n".join(line for line, kept in zip(mine, keep, strict=True) if kept)
    return text if text.strip() else ""


def _read_notebook(path: Path):
    """The notebook at ``path`` (nbformat 4), or the reason it cannot be read, as a str."""
    try:
        nb, _ = parse_notebook(path.read_text(encoding="utf-8", errors="replace"))
    except InvalidNotebook as exc:
        return f"{path.name}: {exc}"
    return nb


@dataclass
class Release:
    """What every student started from: stubs by grade_id, and all released code cells."""

    stubs: dict[str, str]
    code: list[str]

    @classmethod
    def read(cls, layout: Layout, unit: str) -> Release:
        stubs, code = {}, []
        for name in expected_notebooks(layout, unit):
            path = layout.release / unit / name
            if not path.is_file():
                raise DlgradeError(
                    f"UNIT {unit!r}: no released notebook {path}; run 'dlgrade release {unit}' "
                    "first (its stubs are what students did not write)"
                )
            nb = nbformat.read(path, as_version=4)
            stubs.update({c.metadata["nbgrader"]["grade_id"]: c.source for c in _answer_cells(nb)})
            code += [c.source for c in nb.cells if c.cell_type == "code"]
        return cls(stubs, code)


def student_code(
    layout: Layout, unit: str, student: str, release: Release, added_cells: bool
) -> tuple[dict[str, str], list[str], str]:
    """``(code by file key, notes, reason skipped)`` for one student's submission.

    The keys are answer grade_ids (and :data:`ADDED`); the reason is "" when there is code
    to compare.  A notebook that cannot be read is left out, with a note.
    """
    folder = layout.submitted / student / unit
    if student == REFERENCE:
        return {}, [], f"the id {REFERENCE!r} is reserved for dlkit's code in this report"
    expected = expected_notebooks(layout, unit)
    present = [name for name in expected if (folder / name).is_file()]
    if not present:
        found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        return {}, [], f"no {' or '.join(expected)} in {folder} (found: {found})"
    notes = [f"no {name}" for name in expected if name not in present]
    unreadable, code, added = [], {}, []
    released = {src.strip() for src in release.code}
    for name in present:
        nb = _read_notebook(folder / name)
        if isinstance(nb, str):
            unreadable.append(nb)
            continue
        for cell in _answer_cells(nb):
            gid = cell.metadata["nbgrader"]["grade_id"]
            text = own_code(release.stubs.get(gid, ""), cell.source)
            if text:
                code[_file_key(gid)] = text
        if added_cells:
            added += [
                c.source
                for c in nb.cells
                if c.cell_type == "code"
                and not c.get("metadata", {}).get("nbgrader")
                and c.source.strip()
                and c.source.strip() not in released
            ]
    if added:
        code[ADDED] = "\n\n".join(added)
    if code:
        return code, notes + [f"{why} (left out)" for why in unreadable], ""
    if len(unreadable) < len(present):
        unreadable.append("nothing written: every answer cell is still the released stub")
    return {}, notes, "; ".join(unreadable)


# -- comparing ------------------------------------------------------------------------------
@dataclass
class Pair:
    """One row of the report: two students, or a student's exercise against dlkit.

    ``similarity_a`` is the share of ``student_a``'s compared code (``tokens_a`` tokens) that
    is also in ``student_b``'s, ``similarity_b`` the other way round.
    """

    student_a: str
    student_b: str
    similarity_a: float
    similarity_b: float
    flagged: bool
    exercises: list[str]  # the reference's exercise, or the exercises at the threshold
    tokens_a: int
    tokens_b: int

    @property
    def score(self) -> float:
        """What the threshold is compared with: the larger share for two students, the
        student's share for dlkit's reference (dlkit's code does much more than an answer)."""
        if self.student_b == REFERENCE:
            return self.similarity_a
        return max(self.similarity_a, self.similarity_b)


@dataclass
class Report:
    """The outcome of :func:`compare`."""

    unit: str
    threshold: float
    compared: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # student -> reason
    notes: dict[str, list[str]] = field(default_factory=dict)
    pairs: list[Pair] = field(default_factory=list)

    @property
    def flagged(self) -> list[Pair]:
        return sorted((p for p in self.pairs if p.flagged), key=lambda p: -p.score)

    def flags_of(self, student: str) -> list[str]:
        """What the export says about ``student``: copies of dlkit, then similar students."""
        copies, similar = [], []
        for pair in self.flagged:
            if pair.student_b == REFERENCE and pair.student_a == student:
                copies.append(f"copies dlkit's reference of {pair.exercises[0]} ({pair.score:.2f})")
            elif student in (pair.student_a, pair.student_b) and pair.student_b != REFERENCE:
                other = pair.student_b if pair.student_a == student else pair.student_a
                similar.append(f"similar to {other} ({pair.score:.2f})")
        return copies + similar


def output_files(layout: Layout, unit: str) -> dict[str, Path]:
    """Where the report of ``unit`` is written: keys ``csv``, ``html`` and ``json``."""
    folder = layout.state / "similarity"
    return {ext: folder / f"{unit}.{ext}" for ext in ("csv", "html", "json")}


def compare(
    layout: Layout,
    unit: str,
    threshold: float = DEFAULT_THRESHOLD,
    added_cells: bool = False,
) -> Report:
    """Compare every submission of ``unit`` with the others and with dlkit; write the report."""
    release = Release.read(layout, unit)
    students = submitted_students(layout, unit)
    if not students:
        raise DlgradeError(
            f"UNIT {unit!r}: no submissions at {layout.submitted}/*/{unit}; "
            f"run 'dlgrade collect {unit} SRC' first"
        )
    names = answer_names(layout, unit)
    refs = reference_sources(unit, layout)
    report = Report(unit, threshold)
    with tempfile.TemporaryDirectory(prefix="dlgrade-similarity-") as tmp:
        root = Path(tmp)
        for student in students:
            code, notes, reason = student_code(layout, unit, student, release, added_cells)
            if notes:
                report.notes[student] = notes
            if reason:
                report.skipped[student] = reason
            for key, text in code.items():
                _write(root / "students" / student / f"{key}.py", text)
        for gid, defined in names.items():
            text = "\n".join(refs[name] for name in defined if name in refs)
            if text:
                _write(root / "reference" / REFERENCE / f"{_file_key(gid)}.py", text)
        _write(root / "boilerplate" / "release.py", "\n\n".join(release.code))
        detector = _detector(root, threshold)
        _collect_pairs(report, detector, [*map(_file_key, names), ADDED])
        page = ""
        if detector.test_files:
            with warnings.catch_warnings():  # copydetect 0.5.0 uses a deprecated importlib API
                warnings.simplefilter("ignore", DeprecationWarning)
                page = detector.generate_html_report(output_mode="return")
        for folder in ["students", "reference"]:  # name files "ada/sigmoid.py"
            page = (page or "").replace(f"{root / folder}/", "")
        page = page.replace(str(root), ".")  # the temporary folder means nothing later
    _save(layout, report, page)
    return report


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def _detector(root: Path, threshold: float):
    from copydetect import CopyDetector  # imports matplotlib: only when a report is made

    folders = [str(p) for p in [root / "students", root / "reference"] if p.is_dir()]
    detector = CopyDetector(
        test_dirs=folders,
        ref_dirs=folders,
        boilerplate_dirs=[str(root / "boilerplate")],
        extensions=["py"],
        noise_t=NOISE_T,
        guarantee_t=GUARANTEE_T,
        display_t=max(threshold - 1e-9, 0.0),  # the HTML shows cells at the threshold too
        same_name_only=True,  # a cell is compared with the same exercise only
        ignore_leaf=True,  # ... and never with the same student's other cells
        autoopen=False,
        silent=True,
    )
    if detector.test_files:
        detector.run()
    return detector


def _collect_pairs(report: Report, detector, order: list[str]) -> None:
    """Fill ``report.compared`` and ``report.pairs`` from copydetect's similarity matrix.

    The share of student ``a``'s code found in ``b``'s is the sum, over ``a``'s cells, of the
    cell's matched tokens (similarity x tokens) divided by all of ``a``'s tokens.
    """
    files = detector.test_files
    owner = {f: Path(f).parent.name for f in files}
    key = {f: Path(f).stem for f in files}
    tokens = {f: int(detector.file_data[f].token_coverage) for f in files}
    column = {f: j for j, f in enumerate(detector.ref_files)}
    total: dict[str, int] = {}
    for f in files:
        total[owner[f]] = total.get(owner[f], 0) + tokens[f]
    # (a, b) -> {exercise: (share of a's cell in b's, share of b's cell in a's)}
    cells: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    same_exercise: dict[str, list[str]] = {}
    for f in files:
        same_exercise.setdefault(key[f], []).append(f)
    for i, f in enumerate(files):
        for g in same_exercise[key[f]]:
            sim_f, sim_g = (float(x) for x in detector.similarity_matrix[i, column[g]])
            if sim_f >= 0 and owner[f] != owner[g]:  # -1: copydetect did not compare them
                cells.setdefault((owner[f], owner[g]), {})[key[f]] = (sim_f, sim_g)
    for student in sorted(s for s in total if s != REFERENCE):
        if total[student] == 0:
            report.skipped[student] = (
                f"too little code of its own to compare (no run of {NOISE_T} tokens "
                "outside the released code)"
            )
        else:
            report.compared.append(student)
    rank = {name: n for n, name in enumerate(order)}
    mine: dict[str, list[str]] = {}
    for f in sorted(files, key=lambda f: rank.get(key[f], len(rank))):  # notebook order
        mine.setdefault(owner[f], []).append(f)

    def share(a: str, b: str) -> float:
        found = cells.get((a, b), {})
        return sum(found.get(key[f], (0.0, 0.0))[0] * tokens[f] for f in mine[a]) / total[a]

    for n, a in enumerate(report.compared):
        for b in report.compared[n + 1 :]:
            share_a, share_b = share(a, b), share(b, a)
            common = cells.get((a, b), {})
            hot = [
                key[f] for f in mine[a] if max(common.get(key[f], (0.0, 0.0))) >= report.threshold
            ]
            flagged = max(share_a, share_b) >= report.threshold
            report.pairs.append(Pair(a, b, share_a, share_b, flagged, hot, total[a], total[b]))
        references = {key[f]: f for f in mine.get(REFERENCE, [])}
        for f in mine[a]:
            sims = cells.get((a, REFERENCE), {}).get(key[f])
            if sims is not None:
                flagged, ref_tokens = sims[0] >= report.threshold, tokens[references[key[f]]]
                report.pairs.append(
                    Pair(a, REFERENCE, *sims, flagged, [key[f]], tokens[f], ref_tokens)
                )


# -- the files written, and what export reads back -----------------------------------------
def _save(layout: Layout, report: Report, page: str) -> None:
    paths = output_files(layout, report.unit)
    paths["csv"].parent.mkdir(parents=True, exist_ok=True)
    with paths["csv"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for p in sorted(report.pairs, key=lambda p: (-p.score, p.student_a, p.student_b)):
            writer.writerow(
                [
                    p.student_a,
                    p.student_b,
                    f"{p.similarity_a:.3f}",
                    f"{p.similarity_b:.3f}",
                    "yes" if p.flagged else "no",
                    " ".join(p.exercises),
                    p.tokens_a,
                    p.tokens_b,
                ]
            )
    students = {
        s: {
            "compared": s not in report.skipped,
            "reason": report.skipped.get(s, ""),
            "notes": report.notes.get(s, []),
            "flags": report.flags_of(s),
        }
        for s in sorted([*report.compared, *report.skipped])
    }
    payload = {
        "unit": report.unit,
        "threshold": report.threshold,
        "students": students,
        "flagged": [asdict(p) for p in report.flagged],
    }
    paths["json"].write_text(json.dumps(payload, indent=1), encoding="utf-8")
    paths["html"].write_text(_with_summary(page, report), encoding="utf-8")


def _with_summary(page: str, report: Report) -> str:
    """copydetect's page with a first section on the students, or that section alone."""
    rows = "".join(
        f"<tr><td>{html.escape(p.student_a)}</td><td>{html.escape(p.student_b)}</td>"
        f"<td>{p.similarity_a:.2f}</td><td>{p.similarity_b:.2f}</td>"
        f"<td>{html.escape(' '.join(p.exercises))}</td></tr>"
        for p in report.flagged
    )
    skipped = "".join(
        f"<li>{html.escape(s)}: {html.escape(why)}</li>" for s, why in report.skipped.items()
    )
    notes = "".join(
        f"<li>{html.escape(s)}: {html.escape('; '.join(n))}</li>" for s, n in report.notes.items()
    )
    section = (
        f"<h2>dlgrade similarity: {html.escape(report.unit)}</h2>\n"
        f"<p>Threshold {report.threshold:.2f}. Compared: {len(report.compared)} "
        f"({html.escape(', '.join(report.compared) or '-')}). Skipped: {len(report.skipped)}."
        "</p>\n<h4>Flagged</h4>\n<table class='table'><tr><th>student a</th><th>student b</th>"
        "<th>share of a</th><th>share of b</th><th>exercises at the threshold</th></tr>"
        f"{rows or '<tr><td colspan=5>none</td></tr>'}</table>\n"
        f"<h4>Skipped</h4>\n<ul>{skipped or '<li>none</li>'}</ul>\n"
        f"<h4>Notes</h4>\n<ul>{notes or '<li>none</li>'}</ul>\n"
        "<p>Below: copydetect's report, one file per answer cell "
        "(<code>student/exercise.py</code>), cells at the threshold or above.</p>\n"
    )
    marker = "<h2>Overview</h2>"
    if marker in page:
        return page.replace(marker, section + marker, 1)
    return (
        "<!DOCTYPE HTML>\n<html><head><meta charset='UTF-8'/>"
        f"<title>Similarity of {html.escape(report.unit)}</title></head>\n"
        f"<body>\n{section}<p>No code to compare.</p>\n</body></html>\n"
    )


def summary(report: Report) -> list[str]:
    """The lines ``dlgrade similarity`` prints."""
    lines = []
    for p in report.flagged:
        if p.student_b == REFERENCE:
            lines.append(
                f"FLAGGED: {p.student_a} copies dlkit's reference of {p.exercises[0]} "
                f"({p.similarity_a:.2f} of the answer)"
            )
        else:
            where = f" in {', '.join(p.exercises)}" if p.exercises else ""
            lines.append(
                f"FLAGGED: {p.student_a} ~ {p.student_b}: {p.similarity_a:.2f} of "
                f"{p.student_a}'s code, {p.similarity_b:.2f} of {p.student_b}'s{where}"
            )
    lines += [f"SKIPPED: {s}: {why}" for s, why in report.skipped.items()]
    lines += [f"NOTE: {s}: {'; '.join(n)}" for s, n in report.notes.items()]
    pairs = sum(1 for p in report.pairs if p.student_b != REFERENCE)
    lines.append(
        f"similarity of {report.unit}: {len(report.compared)} compared ({pairs} pairs), "
        f"{len(report.skipped)} skipped, {len(report.flagged)} flagged "
        f"at threshold {report.threshold:.2f}"
    )
    return lines


def export_notes(layout: Layout, unit: str) -> dict[str, str]:
    """Student -> the ``similarity`` text of ``dlgrade export``, from the last run for ``unit``.

    Flagged findings joined by "; " (e.g. "copies dlkit's reference of sigmoid (0.92); similar
    to bob (0.81)"), "not compared: <why>" for a skipped student, "" otherwise; {} when the
    unit was never compared (or its file is unreadable).
    """
    path = output_files(layout, unit)["json"]
    try:
        students = json.loads(path.read_text(encoding="utf-8"))["students"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {
        sid: "; ".join(info.get("flags", []))
        if info.get("compared")
        else f"not compared: {info.get('reason', '')}"
        for sid, info in students.items()
    }
