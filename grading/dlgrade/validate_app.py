"""``python -m dlgrade.validate_app NOTEBOOK --output=FILE``: nbgrader's validation as JSON.

``nbgrader validate`` prints a report and exits 0 even when tests fail, and nbgrader 0.9.6 has
no ``--json`` option.  This app is nbgrader's ``ValidateApp`` (same config loading, run by
``dlgrade validate`` like every nbgrader command) whose ``start`` writes the dictionary
returned by ``Validator.validate`` -- the one JupyterLab's Validate button receives -- to FILE:
``{}`` when everything passes, else keys ``failed`` / ``changed`` / ``type_changed``
(``passed`` with ``--invert``).

Its validator also runs :class:`~dlgrade.preprocessors.StderrToStdout` after ``Execute``, as
autograde does, so a warning does not fail validation (``Validator.preprocessors`` is not
configurable in nbgrader, hence the subclass).
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path

from nbgrader.apps.validateapp import ValidateApp
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute
from nbgrader.validator import Validator
from traitlets import List, Unicode

from dlgrade.preprocessors import StderrToStdout


class CourseValidator(Validator):
    """nbgrader's Validator with the course's stderr handling."""

    preprocessors = List([CheckCellMetadata, ClearOutput, Execute, StderrToStdout])


class JsonValidateApp(ValidateApp):
    """Validate one notebook; write the result dictionary as JSON."""

    name = "dlgrade-validate"
    output = Unicode("", help="File to write the JSON result to").tag(config=True)
    aliases = {"output": "JsonValidateApp.output"}

    def start(self):
        if len(self.extra_args) != 1 or not self.output:
            self.fail("usage: python -m dlgrade.validate_app NOTEBOOK --output=FILE")
        notebook = self.extra_args[0]
        try:
            results = CourseValidator(parent=self).validate(notebook)
        except Exception:
            self.log.error(traceback.format_exc())
            self.fail("nbgrader could not validate '%s'", notebook)
        Path(self.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    JsonValidateApp.launch_instance()
