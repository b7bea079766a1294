"""Imported once by :mod:`dlgrade.workers`' fork server: what every nbgrader run imports.

Only imports live here -- no state is created, so each forked run starts as clean as a new
``python -m nbgrader`` process, without paying for the imports again.
"""

import nbclient  # noqa: F401
import nbconvert  # noqa: F401
import nbgrader.apps.nbgraderapp  # noqa: F401
import nbgrader.converters  # noqa: F401
import nbgrader.preprocessors  # noqa: F401
import sqlalchemy  # noqa: F401

import dlgrade.execute  # noqa: F401
import dlgrade.feedback  # noqa: F401
import dlgrade.preprocessors  # noqa: F401
import dlgrade.sandbox  # noqa: F401
import dlgrade.tamper  # noqa: F401
