"""Exceptions shared by every layer that the command line turns into messages and exit codes.

Bad input raises ``ValueError`` (or a subclass naming the kind of file: ``ModelFileError``, ``MotionFileError``,
...) whose message names the file or option and the problem; a long run stopped by the user raises
:class:`Interrupted`, whose message says where its checkpoint is and how to resume.
"""


class Interrupted(KeyboardInterrupt):
    """A long run (fit, training) stopped by the user (Ctrl-C); the message says what was saved and how to resume."""
