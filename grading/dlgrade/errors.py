"""The one exception type the ``dlgrade`` CLI turns into a clean error message."""


class DlgradeError(Exception):
    """Bad input or a broken setup: the message says what was given and what was expected."""
