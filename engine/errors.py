"""Domain exceptions; the CLI and the web app map them to messages and status codes."""


class SignoffError(Exception):
    """Base class: a user-facing problem with a clear message (never a traceback)."""


class NotFound(SignoffError):
    pass


class NotAllowed(SignoffError):
    pass


class InvalidInput(SignoffError):
    """Bad data from a user (form values, JSON, arguments); nothing was changed."""


class TaskAlreadyCompleted(SignoffError):
    """Someone else decided this task first (or it was withdrawn by a timer or a cancel)."""


class ConcurrentUpdate(SignoffError):
    """The instance changed under us; the caller may retry."""


class DeployError(SignoffError):
    """A BPMN file was refused: the message names the file, the element and the fault."""
