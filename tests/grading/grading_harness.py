"""Building blocks of the grading tests: read a unit, load its mutants, build "students".

A unit's source notebook is inspected for the course conventions (see ``mutants/README.md``):
each graded exercise ``X`` is one autograded answer cell ``X`` (solution, not graded) and test
cells ``test_X`` / ``test_X__<part>`` (graded, locked, not solution).  Variants of a submission
are built from the *release* (what students get) by writing code into its answer cells;
grading_runs.py grades them.
"""

from __future__ import annotations

import copy
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parents[1]
MUTANTS_DIR = TESTS_DIR / "mutants"
TOY_SOURCE = TESTS_DIR / "fixtures" / "toy" / "toy.ipynb"
TOY_MUTANTS_DIR = TESTS_DIR / "fixtures" / "mutants"
MIN_MUTANTS = 2

# Appended to the first answer cell of the "warns" student: correct code that, from then on,
# writes a warning and plain text to stderr in every cell it runs (test cells included).
WARNING_HOOK = """

# --- added by the grading round-trip test: harmless stderr output in every later cell ---
import sys as _rt_sys, warnings as _rt_warnings
def _rt_noise(*_args):
    with _rt_warnings.catch_warnings():
        _rt_warnings.simplefilter("always")
        _rt_warnings.warn("round-trip test: a harmless warning", UserWarning, stacklevel=2)
    print("round-trip test: harmless text on stderr", file=_rt_sys.stderr)
get_ipython().events.register("pre_run_cell", _rt_noise)
"""


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata ({} if none)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def without_solution_markers(source: str) -> str:
    """``source`` minus the lines nbgrader treats as solution delimiters."""
    return "\n".join(
        line
        for line in source.split("\n")
        if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
    )


@dataclass
class UnitSpec:
    """What a unit's source notebooks say about its exercises."""

    name: str
    sources: dict[str, nbformat.NotebookNode] = field(default_factory=dict)  # file -> nb
    answers: list[str] = field(default_factory=list)  # answer-cell grade ids, in order
    tests: dict[str, list[str]] = field(default_factory=dict)  # exercise -> test cell ids
    points: dict[str, float] = field(default_factory=dict)  # autograded test cell -> points
    problems: list[str] = field(default_factory=list)

    @property
    def exercises(self) -> list[str]:
        """Graded exercises: answer cells that have test cells."""
        return [a for a in self.answers if self.tests.get(a)]


def _exercise_of(test_id: str, answers: list[str]) -> str | None:
    for answer in answers:
        if test_id == f"test_{answer}" or test_id.startswith(f"test_{answer}__"):
            return answer
    return None


def inspect_unit(unit_dir: Path) -> UnitSpec:
    """Read ``unit_dir/*.ipynb`` and check the naming conventions (into ``spec.problems``)."""
    spec = UnitSpec(unit_dir.name)
    test_ids, seen = [], set()
    for path in sorted(unit_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        spec.sources[path.name] = nb
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            gid = meta.get("grade_id")
            if gid is None:
                continue
            if gid in seen:
                spec.problems.append(f"{path.name}: grade_id {gid!r} is used twice in the unit")
            seen.add(gid)
            if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
                spec.answers.append(gid)
            elif cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                test_ids.append(gid)
                spec.points[gid] = float(meta.get("points", 0))
                if not meta.get("locked"):
                    spec.problems.append(f"{path.name}: test cell {gid!r} is not locked")
    for test_id in test_ids:
        exercise = _exercise_of(test_id, spec.answers)
        if exercise is None:
            spec.problems.append(
                f"test cell {test_id!r} matches no answer cell: expected "
                "grade_id 'test_<answer id>' or 'test_<answer id>__<part>'"
            )
        else:
            spec.tests.setdefault(exercise, []).append(test_id)
        if spec.points[test_id] <= 0:
            spec.problems.append(f"test cell {test_id!r} is worth {spec.points[test_id]} points")
    return spec


def load_mutants(unit: str, mutants_dir: Path = MUTANTS_DIR) -> dict[str, dict[str, str]] | None:
    """``MUTANTS`` of ``mutants_dir/<unit>.py``; None if there is no such file."""
    path = mutants_dir / f"{unit}.py"
    if not path.is_file():
        return None
    module_spec = importlib.util.spec_from_file_location(f"_mutants_{unit}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    mutants = getattr(module, "MUTANTS", None)
    if not isinstance(mutants, dict) or not all(
        isinstance(k, str)
        and isinstance(v, dict)
        and all(isinstance(d, str) and isinstance(s, str) for d, s in v.items())
        for k, v in mutants.items()
    ):
        raise TypeError(
            f"{path}: expected MUTANTS: dict[str, dict[str, str]] "
            "(exercise grade_id -> {description: cell source})"
        )
    return mutants


def mutant_problems(spec: UnitSpec, mutants: dict[str, dict[str, str]]) -> list[str]:
    """Exercises with fewer than MIN_MUTANTS mutants, and mutants of unknown exercises."""
    problems = [
        f"mutants for {ex!r}, which is not a graded exercise of {spec.name} "
        f"(graded: {', '.join(spec.exercises) or 'none'})"
        for ex in mutants
        if ex not in spec.exercises
    ]
    problems += [
        f"exercise {ex!r} has {len(mutants.get(ex, {}))} mutant(s); expected at least {MIN_MUTANTS}"
        for ex in spec.exercises
        if len(mutants.get(ex, {})) < MIN_MUTANTS
    ]
    return problems


def mutant_students(mutants: dict[str, dict[str, str]]) -> dict[str, tuple[str, str, str]]:
    """``{student_id: (exercise, description, source)}``, ids ``mut_<exercise>_<n>``."""
    return {
        f"mut_{ex}_{n}": (ex, desc, src)
        for ex, by_desc in mutants.items()
        for n, (desc, src) in enumerate(by_desc.items(), start=1)
    }


def build_submission(
    release_nb,
    source_nb,
    replace: dict[str, str] | None = None,
    delete: set[str] = frozenset(),
    solve: bool = True,
):
    """A student's notebook: the release with the source's solutions (markers removed) in
    its answer cells when ``solve``, then cells ``replace``d by grade_id and ``delete``d."""
    solutions = {
        nbgrader_meta(c)["grade_id"]: without_solution_markers(c.source)
        for c in source_nb.cells
        if nbgrader_meta(c).get("solution")
    }
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if solve and gid in solutions:
            cell.source = solutions[gid]
        if replace and gid in replace:
            cell.source = replace[gid]
    nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") not in delete]
    return nb


def with_warning_hook(nb, answer_id: str):
    """``nb`` with :data:`WARNING_HOOK` appended to answer cell ``answer_id``."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == answer_id:
            cell.source += WARNING_HOOK
    return nb
