"""JupyterHub for the deep-learning course: students, a formgrader service, nbgrader exchange.

A sketch to adapt, kept runnable (tests/grading/test_scaling_examples.py loads it): one Hub
with DockerSpawner (every student in a container of the course image, memory and CPU capped),
the course repository cloned into each server, the nbgrader exchange on a shared volume, and
the formgrader running as a Hub service under a dedicated grader account, reachable by the
instructors only.  For several hundred students move the same settings to Kubernetes
(zero-to-jupyterhub: ``singleuser.memory``, ``singleuser.storage.extraVolumes`` for the
exchange, ``hub.services``); see docs/SCALING.md.
"""

import csv
import os
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets)

COURSE_ID = "dl-course"
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
IMAGE = os.environ.get("COURSE_IMAGE", "registry.example.org/dl-course:2026")
ROSTER = Path(os.environ.get("COURSE_ROSTER", "/srv/jupyterhub/students.csv"))
INSTRUCTORS = os.environ.get("COURSE_INSTRUCTORS", "instructor").split(",")
FORMGRADER_PORT = 9999


def roster_ids(path: Path) -> list[str]:
    """Student ids from the course roster (the CSV of `dlgrade students import`)."""
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return [row["id"].strip() for row in csv.DictReader(fh) if row.get("id", "").strip()]


students = roster_ids(ROSTER)

# --- who may log in --------------------------------------------------------------------------
# Use your institution's single sign-on (OAuthenticator, LTI for an LMS...).
c.JupyterHub.authenticator_class = "oauthenticator.generic.GenericOAuthenticator"
c.Authenticator.allowed_users = set(students) | set(INSTRUCTORS)
c.Authenticator.admin_users = set(INSTRUCTORS)

# --- student servers -------------------------------------------------------------------------
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.image = IMAGE  # built from environment.yml + `pip install -e .` of the repo
c.DockerSpawner.mem_limit = "4G"  # the course's notebooks need < 2 GB
c.DockerSpawner.cpu_limit = 1.0
c.DockerSpawner.remove = True
c.DockerSpawner.volumes = {
    "jupyterhub-user-{username}": "/home/jovyan/work",  # the student's files persist
    EXCHANGE: EXCHANGE,  # the nbgrader exchange (read-only except <course>/inbound)
}
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"NBGRADER_EXCHANGE_ROOT": EXCHANGE}

# --- groups and roles: who sees the course, who grades ---------------------------------------
c.JupyterHub.load_groups = {
    f"nbgrader-{COURSE_ID}": {"users": students},  # the Assignments tab lists the course
    f"formgrade-{COURSE_ID}": {"users": INSTRUCTORS},  # may open the formgrader service
}
c.JupyterHub.load_roles = [
    {
        "name": f"formgrade-{COURSE_ID}",
        "groups": [f"formgrade-{COURSE_ID}"],
        "scopes": [f"access:services!service={COURSE_ID}"],
    },
    {
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    },
]

# --- the formgrader: a Hub service running a Jupyter server as the grader account -------------
# It runs from <repository>/grading so that grading/nbgrader_config.py applies; its gradebook
# is the course's PostgreSQL database (DLGRADE_DB_URL), shared with the grading workers.
c.JupyterHub.services = [
    {
        "name": COURSE_ID,
        "url": f"http://127.0.0.1:{FORMGRADER_PORT}",
        "command": [
            "jupyterhub-singleuser",
            f"--port={FORMGRADER_PORT}",
            "--ServerApp.root_dir=/home/grader-dl-course/dl-course",
        ],
        "user": "grader-dl-course",
        "cwd": "/home/grader-dl-course/dl-course/grading",
        "environment": {
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            "TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR": "1",
            "DLGRADE_DB_URL": os.environ.get("DLGRADE_DB_URL", ""),
            "NBGRADER_EXCHANGE_ROOT": EXCHANGE,
        },
    },
    {
        "name": "idle-culler",
        "command": ["python3", "-m", "jupyterhub_idle_culler", "--timeout=3600"],
    },
]
