"""Exceptions raised by commentmine.

Every error a user can cause is a :class:`CommentmineError` whose message is a
single line naming the file, row or column at fault and the fix. The CLI prints
that line and exits with code 2; library callers catch the class they care about.
"""


class CommentmineError(Exception):
    """Base class: a problem the user can fix, with a one-line message."""


class InputError(CommentmineError):
    """An input export cannot be read or lacks what is needed."""


class OutputError(CommentmineError):
    """The output path cannot be written."""


class TaxonomyError(CommentmineError):
    """A taxonomy file is missing, unreadable or invalid."""


class ModelError(CommentmineError):
    """A model folder is missing, corrupt, tampered with or incompatible."""


class LabelsError(CommentmineError):
    """A labeled file for training or evaluation is invalid."""
