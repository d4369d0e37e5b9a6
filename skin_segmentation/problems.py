"""Bad files met in a batch: kept, reported one line each, and listed in `problems.csv`.

`skinseg predict` and `skinseg evaluate` go on past a file they cannot use (an
unreadable or truncated photograph, a mask of another size...). Each becomes a
`Problem`, the file and what is wrong with it as its `DataError` says it; a
`ProblemLog` prints it as one line on stderr when it is met, and writes all of
them to `problems.csv` (columns `file`, `problem`) in the output folder at the
end; a run without problems removes the `problems.csv` an earlier run left, so
the file always describes the last run. The commands then exit with
`EXIT_WITH_PROBLEMS` (1): finished, but not with every file. With `strict`,
the first bad file stops the run instead (its error propagates; exit 2).
"""

import dataclasses
import sys
from pathlib import Path

from skin_segmentation.data.readers import DataError

PROBLEMS_FILE = "problems.csv"
COLUMNS = ("file", "problem")
EXIT_WITH_PROBLEMS = 1
MAX_LISTED = 20  # in a command's final JSON line; problems.csv has all


@dataclasses.dataclass(frozen=True)
class Problem:
    """One file that could not be used: `file` and `problem`, in a few words."""

    file: str
    problem: str

    @classmethod
    def from_error(cls, error, path):
        """From a `DataError` (its own file and problem), else from `path` and the message."""
        if isinstance(error, DataError):
            return cls(str(error.path), error.problem)
        return cls(str(path), str(error) or type(error).__name__)

    def __str__(self):
        return f"{self.file}: {self.problem}"


class ProblemLog:
    """The bad files of one run, reported as they are met.

    Args:
        command: the name printed before each line (`"skinseg predict"`).
        strict: re-raise the first error instead of keeping it.
        echo: print each problem on `sys.stderr`, one line, when it is met.

    Example:
    >>> log = ProblemLog("skinseg predict", echo=False)
    >>> log.add(DataError("photos/a.jpg", "unreadable or truncated image"), "photos/a.jpg")
    >>> [str(problem) for problem in log.problems]
    ['photos/a.jpg: unreadable or truncated image']
    """

    def __init__(self, command, strict=False, echo=True):
        self.command = command
        self.strict = strict
        self.echo = echo
        self.problems = []

    def add(self, error, path):
        """Keep `error` met while reading `path` (re-raised when `strict`)."""
        if self.strict:
            raise error
        problem = Problem.from_error(error, path)
        self.problems.append(problem)
        if self.echo:
            print(f"{self.command}: skipped {problem}", file=sys.stderr, flush=True)

    def __len__(self):
        return len(self.problems)

    def listed(self):
        """The first `MAX_LISTED` problems as `"file: problem"` strings (for JSON)."""
        return [str(problem) for problem in self.problems[:MAX_LISTED]]

    def write_csv(self, folder):
        """Write `folder/problems.csv` atomically and return its path; `None` when no problems.

        With no problems, a `problems.csv` of an earlier run is removed.
        """
        import pandas as pd

        from skin_segmentation.atomic_files import write_csv_atomic

        path = Path(folder) / PROBLEMS_FILE
        if not self.problems:
            path.unlink(missing_ok=True)
            return None
        rows = [dataclasses.astuple(problem) for problem in self.problems]
        write_csv_atomic(path, pd.DataFrame(rows, columns=list(COLUMNS)))
        return path

    def exit_code(self):
        """0 when every file was used, else `EXIT_WITH_PROBLEMS`."""
        return EXIT_WITH_PROBLEMS if self.problems else 0
