"""docs/fidelity.md: every row has a verdict, every named test exists, faithful rows name one."""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIDELITY = REPO / "docs" / "fidelity.md"
VERDICTS = ("faithful", "inferred", "deviates")
TEST_REFERENCE = re.compile(r"`(tests/test_[\w/]*\.py)::(\w+)`")


def fidelity_rows(text):
    """`{id: {"test": cell, "verdict": cell}}` of every table row whose first cell is an id."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not re.fullmatch(r"[A-Z]\d+", cells[0]):
            continue
        if cells[0] in rows:
            raise AssertionError(f"docs/fidelity.md: row id {cells[0]} appears twice")
        rows[cells[0]] = {"test": cells[3], "verdict": cells[4]}
    return rows


def defined_tests(path):
    """Names of the module-level test functions (and test methods) of a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return {name for name in names if name.split("::")[-1].startswith("test")}


ROWS = fidelity_rows(FIDELITY.read_text(encoding="utf-8"))


def test_the_table_covers_every_section_of_the_paper():
    # Table I, networks, training, scenarios, data, findings: T, N, R, C, D, F rows.
    assert {row_id[0] for row_id in ROWS} == set("TNRCDF")
    assert len(ROWS) >= 40


@pytest.mark.parametrize("row_id", sorted(ROWS))
def test_row_has_a_verdict_and_its_named_tests_exist(row_id):
    row = ROWS[row_id]
    match = re.match(r"(faithful|inferred|deviates)\b", row["verdict"])
    assert match, f"{row_id}: verdict {row['verdict']!r} does not start with one of {VERDICTS}"
    verdict = match.group(1)
    references = TEST_REFERENCE.findall(row["test"])
    if verdict == "faithful":
        assert references, f"{row_id}: a faithful row must name a test that pins it"
    for file_name, function in references:
        path = REPO / file_name
        assert path.is_file(), f"{row_id}: {file_name} does not exist"
        assert function in defined_tests(path), f"{row_id}: {file_name} has no {function}"
    unparsed = TEST_REFERENCE.sub("", row["test"]).replace(",", "").strip()
    assert unparsed in ("", "-"), f"{row_id}: test cell holds {unparsed!r}, not test references"


def test_the_checker_catches_a_missing_test_and_a_faithful_row_without_one(tmp_path):
    rows = fidelity_rows(
        "| id | statement | where | test | verdict |\n|---|---|---|---|---|\n"
        "| X1 | a | b | `tests/test_models.py::test_no_such_test` | faithful |\n"
        "| X2 | a | b | - | faithful |\n"
    )
    assert "test_no_such_test" not in defined_tests(REPO / "tests/test_models.py")
    assert not TEST_REFERENCE.findall(rows["X2"]["test"])


def test_every_code_path_the_table_names_exists():
    # A row's "where" cell names modules (`training/loop.py`) and packages (`data/readers/`)
    # of skin_segmentation/; a module moved without the table following fails here.
    named = set(re.findall(r"`([\w/]+\.py|[\w/]+/)`", FIDELITY.read_text(encoding="utf-8")))
    code = {name for name in named if not name.startswith(("tests/", "experiments/"))}
    assert len(code) >= 10
    missing = sorted(name for name in code if not (REPO / "skin_segmentation" / name).exists())
    assert not missing, f"docs/fidelity.md names code paths that do not exist: {missing}"
