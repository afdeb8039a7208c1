"""Which files a failed command's output points to, on real runners' outputs."""

from pathlib import Path

from codegenapp.steps.command_files import MAX_FILES, pointed_paths

OUTPUTS = Path(__file__).parents[1] / "fixtures" / "runner-outputs"


def test_npm_names_its_debug_log() -> None:
    output = (OUTPUTS / "npm-ci-without-lockfile.txt").read_text()
    assert pointed_paths(output) == ["/root/.npm/_logs/2026-12-07T18_03_07_275Z-debug-0.log"]


def test_pytest_names_its_junit_report() -> None:
    output = (OUTPUTS / "pytest-junitxml.txt").read_text()
    assert pointed_paths(output) == ["/tmp/pyj/reports/junit.xml"]


def test_a_failure_that_names_a_file_points_to_it() -> None:
    [receipt] = pointed_paths((OUTPUTS / "pytest.txt").read_text())
    assert receipt.startswith("/tmp/pytest-of-root/")
    assert receipt.endswith(".txt")


def test_an_output_without_paths_points_to_none() -> None:
    assert pointed_paths((OUTPUTS / "pytest-collection-error.txt").read_text()) == []


def test_each_path_once_at_most_a_few_and_never_a_url_or_a_relative_path() -> None:
    output = "\n".join(
        [
            "see /workspace/home/a.log and again /workspace/home/a.log",
            "fetched https://registry.npmjs.org/x/y.json",
            "wrote reports/junit.xml",
            *(f"log: /workspace/src/out-{n}.txt" for n in range(10)),
        ]
    )
    paths = pointed_paths(output)
    assert paths[0] == "/workspace/home/a.log"
    assert len(paths) == MAX_FILES
    assert not any("registry" in path or path.startswith("reports") for path in paths)
