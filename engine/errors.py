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
    """A BPMN file was refused: `.problems` (engine.workflow.problems.Problem) says every reason, each naming the
    file, the element and what to do; str() is the problems, one per line."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__("\n".join(str(problem) for problem in self.problems) if self.problems else message)
