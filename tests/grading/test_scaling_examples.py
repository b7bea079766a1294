"""The example JupyterHub / nbgrader configs of docs/SCALING.md load and agree with the course."""

from __future__ import annotations

import runpy

import pytest
from dlgrade.paths import COURSE_ID
from grading_harness import REPO
from traitlets.config import Config

EXAMPLES = REPO / "grading" / "examples"


def _load(name: str, monkeypatch, **env: str) -> Config:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = Config()
    runpy.run_path(str(EXAMPLES / name), init_globals={"get_config": lambda: config})
    return config


def test_nbgrader_hub_config_sets_the_exchange_and_course(monkeypatch):
    monkeypatch.delenv("DLGRADE_DB_URL", raising=False)
    c = _load("nbgrader_config_hub.py", monkeypatch, NBGRADER_EXCHANGE_ROOT="/mnt/exchange")
    assert c.Exchange.root == "/mnt/exchange" and c.Exchange.path_includes_course is True
    assert c.CourseDirectory.course_id == COURSE_ID
    assert "db_url" not in c.CourseDirectory  # students' servers get no gradebook


def test_nbgrader_hub_config_takes_a_server_gradebook(monkeypatch):
    url = "postgresql+psycopg://nbgrader@db.internal/dl_course"
    c = _load("nbgrader_config_hub.py", monkeypatch, DLGRADE_DB_URL=url)
    assert c.CourseDirectory.db_url == url


def test_jupyterhub_config_wires_students_graders_and_formgrader(monkeypatch, tmp_path):
    roster = tmp_path / "students.csv"
    roster.write_text("id,first_name\nada,Ada\nbob,Bob\n")
    c = _load(
        "jupyterhub_config.py",
        monkeypatch,
        COURSE_ROSTER=str(roster),
        COURSE_INSTRUCTORS="prof,ta",
        NBGRADER_EXCHANGE_ROOT="/srv/ex",
    )
    groups = c.JupyterHub.load_groups
    assert groups[f"nbgrader-{COURSE_ID}"]["users"] == ["ada", "bob"]
    assert groups[f"formgrade-{COURSE_ID}"]["users"] == ["prof", "ta"]
    service = next(s for s in c.JupyterHub.services if s["name"] == COURSE_ID)
    assert service["cwd"].endswith("/grading")  # grading/nbgrader_config.py applies
    assert service["environment"]["TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR"] == "1"
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == f"formgrade-{COURSE_ID}")
    assert role["scopes"] == [f"access:services!service={COURSE_ID}"]
    assert c.DockerSpawner.volumes["/srv/ex"] == "/srv/ex"
    assert c.Authenticator.admin_users == {"prof", "ta"}


def test_jupyterhub_config_switches_to_local_accounts_for_one_machine(monkeypatch, tmp_path):
    # the settings tests/grading/test_jupyterhub.py runs the example with
    c = _load(
        "jupyterhub_config.py",
        monkeypatch,
        COURSE_SPAWNER="local",
        COURSE_SINGLEUSER_PYTHON="/opt/course/bin/python",
        COURSE_JUPYTER_CONFIG="/opt/course/etc/jupyter",
        COURSE_AUTHENTICATOR="dummy",
        COURSE_ROSTER=str(tmp_path / "none.csv"),
        NBGRADER_EXCHANGE_ROOT="/srv/ex",
    )
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.LocalProcessSpawner"
    assert c.JupyterHub.authenticator_class == "dummy"
    assert c.Spawner.cmd == ["/opt/course/bin/python", "-m", "jupyterhub.singleuser"]
    assert c.Spawner.environment == {
        "NBGRADER_EXCHANGE_ROOT": "/srv/ex",
        "JUPYTER_CONFIG_PATH": "/opt/course/etc/jupyter",  # plays the image's /etc/jupyter
    }
    assert "DockerSpawner" not in c


def test_jupyterhub_config_refuses_an_unknown_spawner(monkeypatch):
    with pytest.raises(ValueError, match="COURSE_SPAWNER='kubernetes'"):
        _load("jupyterhub_config.py", monkeypatch, COURSE_SPAWNER="kubernetes")
