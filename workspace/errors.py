"""Errors that end a command with one clear line and exit code 2."""


class InputError(Exception):
    """Bad input from the user: a file, a row, a column or a setting.

    The message is one line that names what is wrong and where
    (``data.parquet: row 17 (id 'abc'), column 'code': ...``).
    """

    exit_code = 2


class StorageError(InputError):
    """The workspace cannot be written now (disk full, database locked, read-only): nothing saved is lost.

    The TUI keeps the unsaved text and tries again; a command ends with this one line.
    """
