"""``dlgrade grade UNIT``: grade a whole class, each submission sandboxed, in parallel.

How it works (see grading/README.md, "Grading a class"):

1. **Roster.** Every student in the gradebook and every ``submitted/<student>/<UNIT>/``
   folder is accounted for; a student with neither folder nor notebook is ``missing``.
2. **Preparation (host).** Each submission is checked against :class:`Caps` (folder size,
   notebook size, number of cells) and its notebook(s), with the files the unit declares
   (any other file in ``solutions/<UNIT>/``) and nbgrader's ``timestamp.txt`` and
   ``submission_secret.txt`` (:data:`NBGRADER_FILES`), are copied into a private scratch folder --
   nothing else the student handed in reaches the kernel (a note lists what was left out); a
   notebook saved under another name (``01_perceptron (1).ipynb``) is graded under the
   released name with a note; malformed JSON or an invalid notebook is ``invalid`` with the
   parser's message; an older nbformat (v3) is converted to v4 with a note.  Any exception
   while preparing one submission makes it ``invalid`` with the exception as the reason.
3. **Grading (Dask workers).** The submissions go, a batch per task, to Dask distributed
   (:mod:`dlgrade.cluster`): a LocalCluster started for the run, or an existing cluster
   (``--scheduler``).  A task carries the bytes of its batch and of the unit's template
   gradebook; on the worker real ``nbgrader autograde`` grades the batch against that private
   copy of the gradebook, so parallel batches never write to the same database, and the task
   returns the private gradebook and the autograded notebooks as data (no shared file
   system).  The kernel runs in the bubblewrap sandbox (:mod:`dlgrade.sandbox`);
   :mod:`dlgrade.execute` keeps partial results when it dies or times out.  A batch whose
   task fails for good is regraded a student at a time; a student still without results is
   ``crashed`` with the reason.
4. **Recording (one host process, serially).** Each student's scores are copied from the
   private gradebook into the course gradebook (any SQLAlchemy URL: SQLite or PostgreSQL),
   one transaction per student, so a run killed half-way leaves no partial record; the
   autograded notebooks into ``autograded/`` (one over ``Caps.autograded_mb`` has its
   outputs cut first), and a status record (:mod:`dlgrade.status`) is saved.  A failure
   while reading back one student's results makes that student ``crashed``; every student
   of the run ends with a record.
"""

from __future__ import annotations

import contextvars
import fcntl
import json
import os
import shutil
import sqlite3
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlgrade.budgets import ENV_MAX_CELLS, ENV_SUBMISSION_SECONDS, budget_for
from dlgrade.cluster import ENV_SCHEDULER, Cluster, context, pack_tree, unpack_tree
from dlgrade.collect import expected_notebooks
from dlgrade.errors import DlgradeError
from dlgrade.notebooks import InvalidNotebook, parse_notebook
from dlgrade.paths import COURSE_ID, Layout
from dlgrade.redact import REFERENCES, redacted_dlkit
from dlgrade.results import in_gradebook, scores, submitted_students
from dlgrade.sandbox import ENV_DLKIT, ENV_FIGURES, ENV_SANDBOX, Limits, require_bwrap
from dlgrade.status import (
    CRASHED,
    GRADED,
    INVALID,
    MISSING,
    NEEDS_ATTENTION,
    Record,
    from_notebooks,
    save,
)

_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".DS_Store")
_IGNORED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}
_MB = 2**20
# nbgrader's own files of a collected submission: autograde reads the time from the first (late
# penalties), release_feedback needs both in feedback/; they hold no code
NBGRADER_FILES = {"timestamp.txt", "submission_secret.txt"}


@dataclass(frozen=True)
class Caps:
    """Limits checked on the host, before and after a submission runs (grading/README.md)."""

    notebook_mb: int = 20  # one submitted notebook (--max-notebook-mb)
    cells: int | None = None  # cells of one notebook (--max-cells); None: see cell_cap()
    submission_mb: int = 50  # the whole submission folder (--max-submission-mb)
    autograded_mb: int = 50  # one autograded notebook, outputs included (--max-autograded-mb)


def cell_cap(layout: Layout, unit: str, caps: Caps) -> int:
    """Most cells a notebook of ``unit`` may have: ``caps.cells``, or else 4 x the cells of
    the largest released (or source) notebook of the unit, at least 200."""
    if caps.cells is not None:
        return caps.cells
    counts = [0]
    for name in expected_notebooks(layout, unit):
        path = layout.release / unit / name
        path = path if path.is_file() else layout.source / unit / name
        try:
            counts.append(len(json.loads(path.read_text(encoding="utf-8")).get("cells", [])))
        except (OSError, ValueError, AttributeError):
            continue  # the source notebook's own problems are reported by dlgrade release
    return max(200, 4 * max(counts))


def declared_files(layout: Layout, unit: str) -> set[str]:
    """Paths (relative, with ``/``) of the files a unit gives its notebooks: everything in
    its source folder ``solutions/<unit>/`` except the notebooks themselves."""
    root = layout.source / unit
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix != ".ipynb"
        and not _IGNORED_NAMES & set(p.relative_to(root).parts)
    }


def _describe(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most 300 characters)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def _folder_bytes(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (symbolic links are not followed)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                total += path.lstat().st_size
    return total


def default_workers() -> int:
    """Submissions graded at the same time when ``--workers`` is not given (on the
    LocalCluster): two per core (kernels start slowly)."""
    return 2 * (os.cpu_count() or 1)


@dataclass(eq=False)  # hashed by identity: the key of its failures
class Job:
    """One student's prepared submission, waiting for a worker."""

    student: str
    folder: Path  # the prepared copy of the submission (``.../<student>/<unit>``)
    notes: list[str]
    state: Path | None = None  # private nbgrader state of the batch that graded it


def batches(jobs: list, workers: int) -> list[list]:
    """Split ``jobs`` into batches, about two per worker: one nbgrader process per batch
    amortises nbgrader's start-up, and more batches than workers balance the load."""
    if not jobs:
        return []
    size = max(1, -(-len(jobs) // (2 * workers)))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def roster(layout: Layout) -> list[str]:
    """Ids of the students in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(layout.db_url, COURSE_ID) as gb:
        return sorted(s.id for s in gb.students)


def _renamed(expected: str, extras: list[Path], single: bool) -> Path | None:
    """The notebook in ``extras`` a student most likely meant as ``expected``."""
    stem = Path(expected).stem.lower()
    similar = [p for p in extras if stem in p.stem.lower()]
    if similar:
        return max(similar, key=lambda p: (p.stat().st_mtime, p.name))
    return extras[0] if single and len(extras) == 1 else None


def prepare(
    layout: Layout, unit: str, student: str, scratch: Path, caps: Caps | None = None
) -> Job | Record:
    """Copy ``student``'s notebook(s) and the unit's declared files into ``scratch``; a
    :class:`Record` if the submission cannot be graded (see the module docstring)."""
    caps = caps or Caps()
    folder = layout.submitted / student / unit
    if not folder.is_dir():
        return Record(student, MISSING, f"no submission (no folder {folder})")
    size = _folder_bytes(folder)
    if size > caps.submission_mb * _MB:
        return Record(
            student,
            INVALID,
            f"the submission folder holds {size / _MB:.1f} MB, over the limit of "
            f"{caps.submission_mb} MB (--max-submission-mb); nothing was run",
        )
    expected = expected_notebooks(layout, unit)
    declared = declared_files(layout, unit)
    notes, keep, left_out, notebooks = [], [], [], []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if _IGNORED_NAMES & set(rel.parts):
            continue
        if path.is_symlink():
            # nbgrader would copy the link's target -- anything on the grading machine --
            # into the autograded folder, which the kernel sees
            notes.append(f"ignored the symbolic link {rel}")
        elif not path.is_file():
            continue
        elif rel.suffix == ".ipynb" and len(rel.parts) == 1:
            notebooks.append(path)
        elif rel.as_posix() in declared or (len(rel.parts) == 1 and rel.name in NBGRADER_FILES):
            keep.append(rel)
        else:
            left_out.append(rel.as_posix())
    chosen = {name: folder / name for name in expected if (folder / name) in notebooks}
    extras = [p for p in notebooks if p.name not in expected]
    for name in expected:
        if name not in chosen:
            found = _renamed(name, extras, single=len(expected) == 1)
            if found is not None:
                chosen[name] = found
                extras.remove(found)
                notes.append(f"graded {found.name!r} as {name!r} (the notebook was renamed)")
    if not chosen:
        listing = ", ".join(p.name for p in sorted(folder.iterdir())) or "nothing"
        return Record(student, MISSING, f"{folder} holds no {' or '.join(expected)} ({listing})")
    left_out += [p.name for p in extras]
    if left_out:
        shown = ", ".join(sorted(left_out)[:5]) + (", ..." if len(left_out) > 5 else "")
        notes.append(f"left out {len(left_out)} file(s) the unit does not use: {shown}")
    notes += [f"no {name} (its exercises score 0)" for name in expected if name not in chosen]
    for name, path in chosen.items():
        nb_size = path.stat().st_size
        if nb_size > caps.notebook_mb * _MB:
            return Record(
                student,
                INVALID,
                f"{name}: {nb_size / _MB:.1f} MB, over the limit of {caps.notebook_mb} MB "
                "(--max-notebook-mb); nothing was run",
                notes,
            )
    dest = scratch / "prepared" / student / unit
    dest.mkdir(parents=True)
    for name, path in chosen.items():
        shutil.copyfile(path, dest / name)
    for rel in keep:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / rel, dest / rel)
    max_cells = cell_cap(layout, unit, caps)
    for name in chosen:
        problem = _check_notebook(dest / name, notes, max_cells)
        if problem:
            return Record(student, INVALID, f"{name}: {problem}; nothing was run", notes)
    return Job(student, dest, notes)


def _check_notebook(path: Path, notes: list[str], max_cells: int | None = None) -> str | None:
    """Why ``path`` is not a gradable notebook (None if it is); converts nbformat 3 to 4."""
    try:
        nb, version = parse_notebook(path.read_text(encoding="utf-8", errors="replace"))
    except InvalidNotebook as exc:
        return str(exc)
    if max_cells is not None and len(nb.cells) > max_cells:
        return f"{len(nb.cells)} cells, more than the limit of {max_cells} (--max-cells)"
    if version != 4:
        nbformat.write(nb, path)
        notes.append(f"{path.name} converted from nbformat {version} to 4")
    return None


def _template_gradebook(layout: Layout, unit: str, scratch: Path) -> Path:
    """A SQLite snapshot of the course gradebook holding ``unit``, for the workers to copy."""
    target = scratch / "template.db"
    if not layout.database_url:
        with sqlite3.connect(layout.gradebook) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # consistent even while another reader has it open
        return target
    # A server database (e.g. PostgreSQL): copy the unit's records -- the ones `dlgrade
    # release` wrote, checksums included -- into a new SQLite gradebook.
    _copy_unit_records(layout.db_url, f"sqlite:///{target}", unit)
    return target


def _copy_unit_records(source_url: str, target_url: str, unit: str) -> None:
    """Copy the release records of ``unit`` (assignment, notebooks, cells, with the same ids)
    and the schema version from the gradebook at ``source_url`` into a new gradebook at
    ``target_url``.  (Not through ``nbgrader.api.Gradebook``: creating a gradebook, it runs
    the ``alembic`` executable for the schema version.)"""
    import sqlalchemy as sa
    from nbgrader.api import Base

    tables = Base.metadata.tables
    # each table of the records, the column that ties a row to them, and its parent table
    parents = [
        ("course", "id", None),
        ("assignment", "name", None),
        ("notebook", "assignment_id", "assignment"),
        ("base_cell", "notebook_id", "notebook"),
        ("source_cell", "notebook_id", "notebook"),
        ("grade_cells", "id", "base_cell"),
        ("solution_cells", "id", "base_cell"),
        ("task_cells", "id", "base_cell"),
    ]
    version = "SELECT version_num FROM alembic_version"
    source, target = sa.create_engine(source_url), sa.create_engine(target_url)
    try:
        Base.metadata.create_all(target)
        with source.connect() as src, target.begin() as dst:
            dst.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            for (num,) in src.execute(sa.text(version)):
                dst.execute(sa.text("INSERT INTO alembic_version VALUES (:num)"), {"num": num})
            ids: dict[str, list[str]] = {}
            for name, column, parent in parents:
                table = tables[name]
                keys = ids[parent] if parent else [COURSE_ID if name == "course" else unit]
                query = sa.select(table).where(table.c[column].in_(keys))
                rows = [dict(row) for row in src.execute(query).mappings()]
                ids[name] = [row["id"] for row in rows]
                if rows:
                    dst.execute(table.insert(), rows)
    finally:
        source.dispose()
        target.dispose()


_BATCH_FAILED = "dlgrade could not run nbgrader"


def _failure(student: str, log: str, notes: list[str]) -> Record:
    """The record of a student whose autograding wrote no notebook."""
    if _BATCH_FAILED in log:
        return Record(student, CRASHED, log.strip().splitlines()[-1], notes)
    errors = [line for line in log.splitlines() if "ERROR" in line or "Error" in line]
    detail = errors[-1].split("]", 1)[-1].strip() if errors else "see the grading log"
    if "Kernel died" in log or "kernel" in detail.lower():
        return Record(student, CRASHED, f"the kernel could not run the notebook: {detail}", notes)
    return Record(student, INVALID, f"nbgrader could not grade the notebook: {detail}", notes)


def _record_scores(layout: Layout, unit: str, done: list[Job]) -> dict[Job, Exception]:
    """Copy each student's autograde results from its private gradebook into the course one;
    ``{job: exception}`` for those that could not be copied (the others are).

    Each student's results are written in ONE transaction of the course gradebook
    (:func:`_copy_submission`): a run killed half-way leaves every submission either fully
    recorded or as it was before the run, and the next run records it."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with Gradebook(layout.db_url, COURSE_ID) as course, warnings.catch_warnings():
        # nbgrader's find_* queries flush the pending rows: harmless autoflush warnings
        warnings.simplefilter("ignore", SAWarning)
        by_batch: dict[Path, list[Job]] = {}
        for job in done:
            by_batch.setdefault(job.state, []).append(job)
        failed: dict[Job, Exception] = {}
        for state, group in by_batch.items():
            try:
                with Gradebook(f"sqlite:///{state / 'gradebook.db'}", COURSE_ID) as own:
                    for job in group:
                        try:
                            _in_transaction(course, _copy_submission, own, unit, job.student)
                        except Exception as exc:
                            failed[job] = exc
            except Exception as exc:  # the batch's private gradebook cannot be opened
                failed.update({job: exc for job in group if job not in failed})
    return failed


_ATTEMPTS = 3  # of one transaction that a concurrent writer made fail


def _in_transaction(course, write, *args) -> None:
    """``write(course, *args)`` then commit, as one transaction of gradebook ``course``;
    rolled back on any exception.  Another ``dlgrade grade`` (another unit, another
    machine) writing the same database can make it fail -- both adding the same new
    student (a unique-key violation), SQLite's "database is locked", a PostgreSQL
    serialization failure --: it is then run again from scratch, up to ``_ATTEMPTS`` times."""
    from sqlalchemy.exc import DBAPIError

    for attempt in range(1, _ATTEMPTS + 1):
        try:
            write(course, *args)
            course.db.commit()
            return
        except DBAPIError:  # IntegrityError, OperationalError, ...: the database refused
            course.db.rollback()
            if attempt == _ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
        except BaseException:
            course.db.rollback()
            raise


def _copy_submission(course, own, unit: str, student: str) -> None:
    """Stage ``student``'s automatic results from gradebook ``own`` in ``course``'s open
    transaction (committed by :func:`_in_transaction`): the student and the submission
    are created if new, then every grade and comment is filled in.  nbgrader's own
    ``update_or_create_*`` commit on their own, which would leave a new submission with
    empty grades if the run died before its scores were written, so a new submission is
    built here the way ``Gradebook.add_submission`` builds it, without committing."""
    from nbgrader.api import Comment, Grade, MissingEntry, SubmittedAssignment, SubmittedNotebook

    src = own.find_submission(unit, student)
    _add_student(course, student)
    try:
        sub = course.find_submission(unit, student)
    except MissingEntry:
        assignment = course.find_assignment(unit)
        sub = SubmittedAssignment(assignment=assignment, student=course.find_student(student))
        for notebook in assignment.notebooks:
            nb = SubmittedNotebook(notebook=notebook, assignment=sub)
            for cell in notebook.grade_cells:
                Grade(cell_id=cell.id, notebook=nb)
            for cell in notebook.solution_cells:
                Comment(cell_id=cell.id, notebook=nb)
            for cell in notebook.task_cells:
                Comment(cell_id=cell.id, notebook=nb)
                Grade(cell_id=cell.id, notebook=nb)
        course.db.add(sub)
    sub.timestamp = src.timestamp
    for nb in src.notebooks:
        dst_nb = course.find_submission_notebook(nb.name, unit, student)
        dst_nb.late_submission_penalty = nb.late_submission_penalty
        for grade in nb.grades:
            dst = course.find_grade(grade.name, nb.name, unit, student)
            dst.auto_score = grade.auto_score  # manual scores are left as they are
            dst.needs_manual_grade = grade.needs_manual_grade
        for comment in nb.comments:
            dst = course.find_comment(comment.name, nb.name, unit, student)
            dst.auto_comment = comment.auto_comment


def grade(
    layout: Layout,
    unit: str,
    students: list[str] | None = None,
    workers: int | None = None,
    sandbox: bool = True,
    limits: Limits | None = None,
    figures: bool = False,
    say=print,
    caps: Caps | None = None,
    budget_seconds: int | None = None,
    scheduler: str | None = None,
) -> dict[str, Record]:
    """Grade ``unit`` for the whole class (or ``students``); return every student's record.

    ``scheduler``: the address of an existing Dask cluster (default: environment variable
    ``DLGRADE_SCHEDULER``; unset: a LocalCluster of ``workers`` threads, started for the run).

    ``figures=False`` (the default): sandboxed kernels do not draw matplotlib figures (see
    :mod:`dlgrade.sandbox`); scores, messages and text outputs are the same either way.
    ``caps``: the host-side limits (:class:`Caps`); ``budget_seconds``: wall-clock seconds
    for one submission (default :func:`dlgrade.budgets.budget_for`)."""
    unit = layout.require_unit(unit)
    if sandbox:
        require_bwrap()
    workers = default_workers() if workers is None else workers
    scheduler = scheduler or os.environ.get(ENV_SCHEDULER, "").strip() or None
    if workers < 1:
        raise DlgradeError(f"--workers {workers}: expected at least 1")
    if not in_gradebook(layout, unit):
        raise DlgradeError(
            f"UNIT {unit!r} is not in the gradebook {layout.db_url}; run "
            f"'dlgrade release {unit}' first (grading needs the release recorded there)"
        )
    everyone = sorted(set(roster(layout)) | set(submitted_students(layout, unit)))
    if students:
        unknown = [s for s in students if s not in everyone]
        if unknown:
            raise DlgradeError(
                f"--student {', '.join(unknown)}: not in the gradebook and no folder "
                f"{layout.submitted}/<student>/{unit}; known: {', '.join(everyone) or 'none'}"
            )
        everyone = sorted(set(students))
    scratch = layout.state / ".scratch" / f"{unit}-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    lock = (layout.state / ".scratch" / f"{unit}.lock").open("w")
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DlgradeError(
                f"UNIT {unit!r} is being graded by another 'dlgrade grade' right now "
                f"(lock {lock.name}); wait for it to finish"
            ) from None
        return _grade(
            layout,
            unit,
            everyone,
            workers,
            sandbox,
            limits or Limits(),
            figures,
            scratch,
            say,
            caps or Caps(),
            budget_seconds,
            scheduler,
        )
    finally:
        lock.close()
        if not os.environ.get("DLGRADE_KEEP_SCRATCH"):
            shutil.rmtree(scratch, ignore_errors=True)


def grading_env(
    layout: Layout,
    unit: str,
    scratch: Path,
    sandbox: bool = True,
    limits: Limits | None = None,
    figures: bool = False,
    caps: Caps | None = None,
    budget: int | None = None,
    say=print,
) -> dict[str, str]:
    """The settings every nbgrader run of a grading run gets (sandbox, limits, budget, cell
    cap, the redacted dlkit built under ``scratch``)."""
    limits, caps = limits or Limits(), caps or Caps()
    env = {ENV_SANDBOX: "1" if sandbox else "0", ENV_FIGURES: "1" if figures else "0"}
    env.update(limits.to_env())
    env[ENV_SUBMISSION_SECONDS] = str(budget or budget_for(unit))
    env[ENV_MAX_CELLS] = str(cell_cap(layout, unit, caps))
    if sandbox and unit in REFERENCES:  # the kernels' dlkit lacks this unit's references
        env[ENV_DLKIT] = str(redacted_dlkit(unit, scratch / "dlkit"))
    elif sandbox:
        say(f"note: dlkit.references has no table for {unit}: its kernels see all of dlkit")
    return env


def _grade(
    layout, unit, everyone, workers, sandbox, limits, figures, scratch, say, caps, budget, scheduler
) -> dict[str, Record]:
    start = time.monotonic()
    records: dict[str, Record] = {}
    jobs = []
    for student in everyone:
        try:
            outcome = prepare(layout, unit, student, scratch, caps)
        except Exception as exc:  # RecursionError, MemoryError, OSError...: this one only
            why = f"could not prepare the submission ({_describe(exc)}); nothing was run"
            outcome = Record(student, INVALID, why)
        if isinstance(outcome, Record):
            records[student] = outcome
        else:
            jobs.append(outcome)
    template = _template_gradebook(layout, unit, scratch)
    env = grading_env(layout, unit, scratch, sandbox, limits, figures, caps, budget, say)
    mode = "sandboxed" if sandbox else "NOT sandboxed (--no-sandbox)"
    if sandbox and not figures:
        mode += ", figures not drawn (--figures draws them)"
    where = f"the Dask cluster {scheduler}" if scheduler else f"{workers} worker(s)"
    say(f"grading {len(jobs)} submission(s) of {unit} with {where}, {mode}")
    with Cluster(scheduler, workers, lambda: context(layout, unit, template, env)) as cluster:
        groups = batches(jobs, cluster.slots) if jobs else []
        logs = _run_batches(cluster, layout, unit, groups, scratch, template, env)
        retry = [j for j in jobs if not _graded_notebooks(j, unit)]
        if retry and any(len(g) > 1 for g in groups):
            # alone, to get each failure's own log (and to rule out a batch-wide problem)
            alone = [[j] for j in retry]
            logs.update(_run_batches(cluster, layout, unit, alone, scratch, template, env))
    log_dir = layout.state / "logs" / unit
    log_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for job in jobs:
        try:
            records[job.student], ok = _read_back(job, unit, logs, log_dir, caps)
        except Exception as exc:  # one student's unreadable results: that student only
            records[job.student], ok = _crashed(job, "its results could not be read", exc), False
        if ok:
            done.append(job)
    for job, exc in _record_scores(layout, unit, done).items():
        records[job.student] = _crashed(job, "its scores could not be recorded", exc)
        done.remove(job)
    _register_students(layout, [s for s in records if records[s].status != GRADED])
    for job in list(done):
        target = layout.autograded / job.student / unit
        try:
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(job.state / "autograded" / job.student / unit, target)
        except Exception as exc:
            why = f"its autograded notebook could not be copied to {target}"
            records[job.student] = _crashed(job, why, exc)
    for student, found in _scores_each(layout, unit, [j.student for j in done]).items():
        if isinstance(found, Exception):
            why = "its score could not be read back from the gradebook"
            records[student] = _crashed(next(j for j in done if j.student == student), why, found)
        else:
            records[student].score, records[student].max_score = found[0], found[1]
    for student in everyone:  # never drop a student silently
        if student not in records:
            records[student] = Record(student, CRASHED, "dlgrade lost track of this submission")
    save(layout, unit, records)
    _report(records, unit, time.monotonic() - start, say)
    return records


def _crashed(job: Job, why: str, exc: BaseException) -> Record:
    return Record(job.student, CRASHED, f"{why} ({_describe(exc)})", job.notes)


def _read_back(job: Job, unit: str, logs: dict, log_dir: Path, caps: Caps) -> tuple[Record, bool]:
    """The record of one graded ``job`` from its autograded notebook(s), and whether its
    scores are to be recorded; an autograded notebook over the cap is cut first."""
    log = logs.get(job.student, f"{_BATCH_FAILED}: no log")
    (log_dir / f"{job.student}.log").write_text(log)
    notebooks = _graded_notebooks(job, unit)
    if not notebooks:
        return _failure(job.student, log, job.notes), False
    notes = list(job.notes)
    try:
        contents = [fit_notebook(path, caps.autograded_mb, notes) for path in notebooks]
    except NotebookTooLarge as exc:
        return Record(job.student, CRASHED, str(exc), notes), False
    return from_notebooks(job.student, contents, notes), True


def _scores_each(layout: Layout, unit: str, students: list[str]) -> dict:
    """``{student: (score, max_score, ...) or the exception that reading it raised}``."""
    try:
        return dict(scores(layout, unit, students))
    except Exception:  # find whose submission it is
        found = {}
        for student in students:
            try:
                found.update(scores(layout, unit, [student]))
            except Exception as exc:
                found[student] = exc
        return found


class NotebookTooLarge(Exception):
    """An autograded notebook that stays over the cap even with its outputs cut."""


def fit_notebook(path: Path, cap_mb: int, notes: list[str]) -> dict:
    """The autograded notebook at ``path`` as a JSON dict; when the file is over ``cap_mb``
    its outputs are cut to their first part (in the file too) and a note says so."""
    size = path.stat().st_size
    if size <= cap_mb * _MB:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    outputs = [
        out
        for cell in nb.get("cells", [])
        if isinstance(cell, dict)
        for out in cell.get("outputs", None) or []
        if isinstance(out, dict)
    ]
    keep = max(1000, cap_mb * _MB // (2 * max(1, len(outputs))))  # characters per output
    cut = sum(_cut_output(out, keep) for out in outputs)
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if len(text.encode("utf-8")) > cap_mb * _MB:
        raise NotebookTooLarge(
            f"the autograded {path.name} is {size / _MB:.1f} MB, over the cap of {cap_mb} MB "
            f"(--max-autograded-mb), even with its {len(outputs)} outputs cut to "
            f"{keep} characters each; it was not kept"
        )
    path.write_text(text, encoding="utf-8")
    notes.append(
        f"the autograded {path.name} was {size / _MB:.1f} MB, over the cap of {cap_mb} MB: "
        f"{cut} output(s) cut to their first {keep} characters"
    )
    return nb


def _cut(value, keep: int) -> tuple[str | list, bool]:
    text = "".join(value) if isinstance(value, list) else str(value)
    if len(text) <= keep:
        return value, False
    return text[:keep] + f"\n[dlgrade: output cut, {len(text) - keep} characters left out]", True


def _cut_output(out: dict, keep: int) -> bool:
    """Cut one output (stream, result, display or error) to ``keep`` characters per field;
    a large non-text value (an image) is replaced by a note.  Whether anything was cut."""
    cut = False
    if "text" in out:
        out["text"], cut = _cut(out["text"], keep)
    data = out.get("data")
    if isinstance(data, dict):
        for mime in list(data):
            textual = mime.startswith("text/") or mime.endswith("json")
            if textual:
                data[mime], was_cut = _cut(data[mime], keep)
            elif len(str(data[mime])) > keep:
                del data[mime]
                note = f"[dlgrade: a {mime} output of over {keep} characters left out]"
                data["text/plain"] = note
                was_cut = True
            else:
                was_cut = False
            cut = cut or was_cut
    if isinstance(out.get("traceback"), list):
        joined, was_cut = _cut("\n".join(map(str, out["traceback"])), keep)
        if was_cut:
            out["traceback"] = [joined]
        cut = cut or was_cut
    if "evalue" in out:
        out["evalue"], was_cut = _cut(out["evalue"], keep)
        cut = cut or was_cut
    return cut


def _graded_notebooks(job: Job, unit: str) -> list[Path]:
    folder = job.state / "autograded" / job.student / unit if job.state else None
    return sorted(folder.glob("*.ipynb")) if folder is not None and folder.is_dir() else []


_CLUSTER: contextvars.ContextVar = contextvars.ContextVar("dlgrade_cluster")


def _autograde(layout: Layout, unit: str, batch: list[Job], state: Path, template, env) -> str:
    """Grade ``batch`` as ONE task on the run's Dask cluster (:mod:`dlgrade.cluster`: one
    ``nbgrader autograde`` on a worker, against its copy of the ``template`` gradebook, with the
    settings ``env``) and write what it returns into the private ``state`` folder: the batch's
    gradebook, its autograded notebooks, nbgrader's log (returned)."""
    state.mkdir(parents=True)
    for job in batch:
        job.state = state
    out = _CLUSTER.get().grade([(job.student, pack_tree(job.folder)) for job in batch])
    (state / "gradebook.db").write_bytes(out["gradebook"])
    (state / "nbgrader.log").write_text(out["log"])
    for job in batch:
        if job.student in out["autograded"]:
            unpack_tree(out["autograded"][job.student], state / "autograded" / job.student / unit)
    return out["log"]


def _run_batches(cluster, layout, unit, groups, scratch, template, env) -> dict[str, str]:
    """Grade the ``groups`` of jobs on ``cluster``, as many at a time as it has worker threads
    (a thread here only waits for its task's result); ``{student: log of its batch}``."""
    first = len(list(scratch.glob("batch-*")))
    states = [scratch / f"batch-{first + k}" for k in range(len(groups))]

    def one(pair) -> str:
        _CLUSTER.set(cluster)
        try:
            return _autograde(layout, unit, pair[0], pair[1], template, env)
        except Exception as exc:  # this batch's students are crashed, the others go on
            return f"{_BATCH_FAILED} ({_describe(exc)})"

    if not groups:
        return {}
    with ThreadPoolExecutor(max_workers=min(len(groups), cluster.slots)) as waiting:
        outputs = list(waiting.map(one, zip(groups, states, strict=True)))
    return {job.student: log for group, log in zip(groups, outputs, strict=True) for job in group}


def _register_students(layout: Layout, students: list[str]) -> None:
    """Make sure every accounted-for student appears in the gradebook (and so the export)."""
    from nbgrader.api import Gradebook

    with Gradebook(layout.db_url, COURSE_ID) as gb:
        for student in students:
            _in_transaction(gb, _add_student, student)


def _add_student(course, student: str) -> None:
    """Stage ``student`` in ``course``'s open transaction unless it is there already."""
    from nbgrader.api import MissingEntry, Student

    try:
        course.find_student(student)
    except MissingEntry:
        course.db.add(Student(id=student))


def _report(records: dict[str, Record], unit: str, seconds: float, say) -> None:
    for sid, rec in sorted(records.items()):
        score = f"{rec.score:6.2f} / {rec.max_score:.2f}" if rec.score is not None else " " * 13
        say(f"{sid:24} {rec.status:9} {score}  {rec.explanation}".rstrip())
    counts = {}
    for rec in records.values():
        counts[rec.status] = counts.get(rec.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    say(f"graded {unit} for {len(records)} student(s) in {seconds:.1f} s: {summary}")


def exit_status(records: dict[str, Record]) -> int:
    """1 when any submission needs the instructor's attention (see status.NEEDS_ATTENTION)."""
    return 1 if any(r.status in NEEDS_ATTENTION for r in records.values()) else 0
