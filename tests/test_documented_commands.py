"""Every `skinseg` command the documentation shows parses with the real argument parser.

Commands are read from README.md, docs/*.md, experiments/*.md and the model card
(weights/README.md), and from `weights.TRAIN_COMMAND`; none is run. A command in a
code block without placeholders must parse completely (`build_parser().parse_args`);
a synopsis (`DIR[,DIR...]`, `{a,b}`, `<preset>`, `...`) or a command quoted in prose
(`skinseg train --init W`) must name an existing command and only options that
command has.
"""

import argparse
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from skin_segmentation.cli import build_parser

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([REPO_ROOT / "README.md", REPO_ROOT / "weights" / "README.md",
                    *(REPO_ROOT / "docs").glob("*.md"), *(REPO_ROOT / "experiments").glob("*.md")])
SHELL_OPERATORS = {">", ">>", "2>", "2>&1", "|", "||", "&&", ";", "&"}
PLACEHOLDER = re.compile(r"\.\.\.|[\[\]{}<>|]")
INLINE_COMMAND = re.compile(r"`(skinseg\b[^`]*)`")
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def _words(text, first=False):
    """The words of `skinseg ...` in a shell line, up to a redirection or a pipe.

    With `first`, `skinseg` must be the command of the line (after a `$` prompt
    and `NAME=value` assignments), not a word in it.
    """
    words = shlex.split(text, comments=True)
    if "skinseg" not in words:
        return None
    before = words[:words.index("skinseg")]
    if first and not all(word == "$" or ASSIGNMENT.match(word) for word in before):
        return None
    words = words[words.index("skinseg"):]
    for index, word in enumerate(words):
        if word in SHELL_OPERATORS:
            return words[:index]
    return words


def _code_block_lines(text):
    """`(line number, line)` of the fenced code blocks, continuation lines joined."""
    in_block, pending, start = False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_block, pending = not in_block, ""
            continue
        if not in_block:
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending = ""


def documented_commands():
    """`(where, words, complete)` of every `skinseg` command in the documentation."""
    found = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(REPO_ROOT)
        for number, line in _code_block_lines(text):
            if "skinseg" in line.split("#", 1)[0]:
                words = _words(line, first=True)
                if words:
                    complete = not any(PLACEHOLDER.search(word) for word in words)
                    found.append((f"{name}:{number}", words, complete))
        for match in INLINE_COMMAND.finditer(text):
            number = text.count("\n", 0, match.start()) + 1
            found.append((f"{name}:{number}", _words(match.group(1).replace("\n", " ")), False))
    return found


def _parse_error(parser, words):
    """The parser's error message for `words`, or `None` when they parse."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(words)
        except SystemExit as exit:
            if exit.code:
                return stderr.getvalue().strip().splitlines()[-1]
    return None


def _subparsers(parser):
    """`{name: parser}` of the subcommands of `parser` (empty when it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _fragment_problems(parser, words):
    """What is wrong with a partial command: an unknown command or an unknown option."""
    words = [word for word in words[1:] if word != "--verbose"]
    while words and _subparsers(parser):
        command = words.pop(0)
        if command.isupper() or command.startswith("-"):  # `skinseg CMD`, `skinseg --help`
            return []
        if command not in _subparsers(parser):
            return [f"no command {command!r}"]
        parser = _subparsers(parser)[command]
    options = parser._option_string_actions
    return [f"{parser.prog} has no option {word.split('=')[0]}" for word in words
            if word.startswith("--") and word.split("=")[0] not in options]


COMMANDS = documented_commands()


def test_the_documentation_shows_many_commands():
    complete = [where for where, _, is_complete in COMMANDS if is_complete]
    assert len(COMMANDS) >= 60 and len(complete) >= 30, (len(COMMANDS), len(complete))
    assert {where.split(":")[0] for where in complete} >= {"README.md", "docs/data.md",
                                                           "weights/README.md"}


@pytest.mark.parametrize("where, words, complete", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_documented_command_parses(where, words, complete):
    parser = build_parser()
    if complete:
        assert _parse_error(parser, words[1:]) is None, f"{where}: {shlex.join(words)}: " \
                                                        f"{_parse_error(parser, words[1:])}"
    else:
        assert _fragment_problems(parser, words) == [], f"{where}: {shlex.join(words)}"


def test_the_model_cards_train_command_parses():
    from skin_segmentation.weights import TRAIN_COMMAND

    words = shlex.split(TRAIN_COMMAND)
    args = build_parser().parse_args(words[1:])
    assert (words[0], args.command, args.model, args.profile) == ("skinseg", "train", "unet", "robust")
    assert "data/clinical_ft13" in args.data and "data/negatives_indoor" in args.data


@pytest.mark.parametrize("words, problem", [
    (["skinseg", "train", "--data", "d", "--out", "r", "--exclude-target-eval"],
     "unrecognized arguments: --exclude-target-eval"),
    (["skinseg", "evaluat", "--data", "d"], "invalid choice: 'evaluat'"),
])
def test_a_wrong_command_is_caught(words, problem):
    parser = build_parser()
    assert problem in _parse_error(parser, words[1:])
    assert _fragment_problems(parser, words)
