"""One small error hierarchy; each class maps to a documented exit code.

Exit codes (also in README.md):
  0  clean: no finding at or above --fail-on, every verification passed
  1  findings at or above --fail-on
  2  usage error (bad flags, conflicting options)
  3  bad input (missing, truncated or malformed file or string)
  4  verification failure (signature, chain, measurement or policy)
  70 internal error (a bug in cocoscope; --debug shows the traceback)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_VERIFY = 4
EXIT_INTERNAL = 70  # an unexpected exception: a bug in cocoscope, reported without a traceback


class CocoscopeError(Exception):
    """Base class; ``exit_code`` is what the CLI returns."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, path: str | None = None, where: str | None = None):
        self.message = message
        self.path = path
        self.where = where  # "line 12", "offset 0x2a0", ...
        super().__init__(self.render())

    def render(self) -> str:
        prefix = ""
        if self.path:
            prefix = f"{self.path}: "
            if self.where:
                prefix = f"{self.path}: {self.where}: "
        elif self.where:
            prefix = f"{self.where}: "
        return prefix + self.message


class UsageError(CocoscopeError):
    exit_code = EXIT_USAGE


class InputError(CocoscopeError):
    """A file or string could not be read or does not have the expected form."""

    exit_code = EXIT_BAD_INPUT


class VerificationError(CocoscopeError):
    """Evidence was read but did not verify; raised only where a result object cannot carry it."""

    exit_code = EXIT_VERIFY

