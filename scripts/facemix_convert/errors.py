"""Errors with the exit codes facemix uses (include/facemix/errors.h)."""

EXIT_USAGE = 2
EXIT_IO = 4
EXIT_MODEL = 5
EXIT_INTERRUPTED = 130


class ConvertError(Exception):
    """A failure reported as one line `<file>: <problem>` with an exit code.

    `path` names the file the problem is about; None means "the input file"
    (the CLI fills it in), so deep readers need not know the file name.
    """

    exit_code = 1

    def __init__(self, problem, path=None):
        super().__init__(problem)
        self.problem = problem
        self.path = path


class UsageError(ConvertError):
    exit_code = EXIT_USAGE


class IoError(ConvertError):
    exit_code = EXIT_IO


class ModelError(ConvertError):
    """The file is not a supported, well-formed StyleGAN2 checkpoint."""

    exit_code = EXIT_MODEL


class RefusedGlobal(ModelError):
    """A pickle asked for a global outside the allow-list; nothing was run."""
