"""Start-up: `kpixl --version` and `import kpixl` load no heavy library; each command's group."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kpixl
from kpixl.cli import app
from kpixl.cli.app import COMMANDS, GROUPS, _LazyConsole

HEAVY = ("numpy", "pydantic", "pandas", "openpyxl", "xlsxwriter", "formulas", "yaml")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                          text=True)  # fmt: skip
    return set(done.stdout.split())


def test_version_option() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"kpixl {kpixl.__version__}\n"
    done = subprocess.run([sys.executable, "-m", "kpixl", "--version"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    assert done.stdout == f"kpixl {kpixl.__version__}\n"


def test_version_and_import_load_nothing_heavy() -> None:
    for code in (
        "import kpixl",
        "import sys\nsys.argv = ['kpixl', '--version']\nfrom kpixl.cli import main\nmain()",
    ):
        loaded = _modules_after(code)
        assert [name for name in HEAVY if name in loaded] == [], code


def test_public_names_load_on_first_use() -> None:
    assert sorted(kpixl.__all__) == sorted([*kpixl._HOMES, "__version__"])
    for name in kpixl._HOMES:
        assert getattr(kpixl, name).__name__ == name


def test_every_command_is_in_its_group() -> None:
    commands = {info.name: info.callback.__module__ for info in app.registered_commands}
    groups = {info.name: info.typer_instance.registered_commands[0].callback.__module__
              for info in app.registered_groups}  # fmt: skip
    found = {name: module.removeprefix("kpixl.cli.") for name, module in
             {**commands, **groups}.items()}  # fmt: skip
    assert found == COMMANDS
    assert sorted(set(found.values())) == sorted(GROUPS)


def test_a_command_loads_only_its_group() -> None:
    code = (
        "import sys\nsys.argv = ['kpixl', 'settle', '--help']\nfrom kpixl.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _modules_after(code)
    assert {f"kpixl.cli.{g}" for g in GROUPS} & loaded == {"kpixl.cli.settle"}


def test_recalc_loads_neither_openpyxl_nor_rich(tmp_path: Path) -> None:
    """`kpixl recalc` reads inputs with its XML reader and prints its summary without rich."""
    examples = Path(kpixl.__file__).resolve().parents[1] / "workbooks" / "examples"
    built = tmp_path / "acme.xlsx"
    quote = ["quote", str(examples / "acme-amz-us.yaml"), "--actuals",
             str(examples / "acme-amz-us.actuals.csv"), "-o", str(built)]  # fmt: skip
    assert CliRunner().invoke(app, quote).exit_code == 0
    code = (
        f"import sys\nsys.argv = ['kpixl', 'recalc', {str(built)!r}]\n"
        "from kpixl.cli import main\nmain()"
    )
    loaded = _modules_after(code)
    assert [name for name in ("openpyxl", "rich", "xlsxwriter", "formulas") if name in loaded] == []


@pytest.mark.parametrize(
    "line",
    [
        "recalculated 498 formula cells -> out/acme.xlsx",
        "a [b] c",
        "x :smile: y",
        "tab\there",
        "",
        "Adjusted 2027-05 gmv: 1,590 -> 1,720 (stock-out; approved by A. Li)",
        "a:b: c",
        "x:+1:",
    ],
)
def test_a_plain_line_prints_as_rich_prints_it(
    line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from rich.console import Console

    _LazyConsole(stderr=True).print(line)
    Console(stderr=True, highlight=False, soft_wrap=True).print(line)
    assert capsys.readouterr().err == f"{line}\n" * 2 or "[" in line or ":" in line or "\t" in line
    # Lines rich would change (markup, emoji codes, tabs) go through rich itself:
    _LazyConsole(stderr=True).print(line)
    Console(stderr=True, highlight=False, soft_wrap=True).print(line)
    lazy, rich = capsys.readouterr().err.split("\n")[:2]
    assert lazy == rich
