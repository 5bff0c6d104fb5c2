"""The fast path of ``kpixl settle`` / ``kpixl recalc`` agrees with typer, its one source of truth.

``kpixl.cli.fast.FAST`` restates each fast command's parameters; these tests derive them from the
typer command and check the restatement, then check that for many command lines the fast path
either leaves the line to typer or calls the command's body with exactly typer's arguments, and
that real runs of both paths print the same bytes and exit with the same code.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kpixl.cli import app, bodies
from kpixl.cli.fast import FAST, Param, parse

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "workbooks" / "examples"
CONTRACT = str(EXAMPLES / "acme-amz-us.yaml")
ACTUALS = str(EXAMPLES / "acme-amz-us.actuals.csv")
#: Run the typer app directly, bypassing kpixl.cli.fast (argv[0] is "-c": only usage lines
#: would name the program, and those lines come from typer on both paths).
TYPER = "import sys\nfrom kpixl.cli.app import main\nmain()"


def _typer_params(command: str) -> list[Any]:
    return list(typer.main.get_command(app).commands[command].params)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", sorted(FAST))
def test_the_fast_spec_is_the_typer_command(command: str) -> None:
    body, spec = FAST[command]
    params = _typer_params(command)
    derived = [
        Param(
            p.name,
            tuple(p.opts) if p.param_type_name == "option" else (),
            p.type_descriptor.annotation,
            p.default,
        )
        for p in params
    ]
    assert list(spec) == derived
    for p in params:
        # Nothing the fast path does not model: no secondary (--no-x) names, multiple values,
        # environment variables, callbacks, prompts or counts.
        assert (p.secondary_opts, p.nargs, p.multiple, p.envvar, p.callback) == ([], 1, False,
                                                                                None, None)  # fmt: skip
        assert p.required == (p.param_type_name == "argument")
        if p.param_type_name == "option":
            assert (p.prompt, p.count, p.is_flag) == (None, False, p.type_descriptor.annotation
                                                      is bool)  # fmt: skip
        info = p.type_descriptor.parameter_info
        if (
            p.type_descriptor.annotation is Path
        ):  # typer's default checks, as the fast path has them
            assert (info.exists, info.file_okay, info.dir_okay, info.writable, info.readable,
                    info.resolve_path, info.allow_dash) == (False, True, True, False, True,
                                                            False, False)  # fmt: skip
        # No custom parser or path type; enum choices match exactly, as the fast path's.
        assert (info.parser, info.path_type, info.case_sensitive) == (None, None, True)
    # The body takes exactly these keywords, with these defaults for the options.
    signature = inspect.signature(getattr(bodies, body))
    assert list(signature.parameters) == [param.name for param in spec]
    for param in spec:
        if param.opts:
            assert signature.parameters[param.name].default == param.default
    context = typer.main.get_command(app).commands[command].context_settings  # type: ignore[attr-defined]
    assert context == {}


# Command lines: well-formed ones (the fast path must take them), then with one change that may
# or may not be something typer refuses.
PATHS = st.sampled_from([CONTRACT, ACTUALS, "missing.yaml", "a b.csv", "x=y.csv", "", "ü.xlsx",
                         ".", "sub/dir/out.xlsx", str(EXAMPLES)])  # fmt: skip
TEXTS = st.sampled_from(["gb18030", "utf-8", "", "kpixl", "formulas", "other", "json", "a=b"])
ODD = st.sampled_from(["--help", "--", "-", "-x", "--json=1", "--format=JSON", "--format=xml",
                       "--formats", "--out", "-o", "-oout.xlsx", "--version", "--Json", "extra",
                       "--output=-o", "--encoding", "-h", "--engine=", "--adjustments"])  # fmt: skip


@st.composite
def _option(draw: st.DrawFn, param: Param) -> list[str]:
    """An option as typed: ``--flag``, ``--name value`` or ``--name=value``."""
    name = draw(st.sampled_from(param.opts))
    if param.kind is bool:
        return [name]
    if param.kind is Path:
        value = draw(PATHS)
    elif param.kind is str:
        value = draw(TEXTS)
    else:
        value = draw(st.sampled_from([m.value for m in param.kind]))  # type: ignore[attr-defined]
    return [f"{name}={value}"] if name.startswith("--") and draw(st.booleans()) else [name, value]


def _changed(draw: st.DrawFn, words: list[str]) -> list[str]:
    """The words with one inserted, dropped or repeated."""
    words = list(words)
    change = draw(st.sampled_from(["insert", "drop", "repeat"]))
    if change == "insert" or not words:
        words.insert(draw(st.integers(0, len(words))), draw(ODD))
    elif change == "drop":
        words.pop(draw(st.integers(0, len(words) - 1)))
    else:
        words.append(draw(st.sampled_from(words)))
    return words


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[list[str], bool]:
    """A command line and whether it is well-formed (the fast path must take those)."""
    command = draw(st.sampled_from(sorted(FAST)))
    _body, spec = FAST[command]
    positional = [draw(PATHS) for param in spec if not param.opts]
    options = [draw(_option(param)) for param in spec if param.opts and draw(st.booleans())]
    # Options before, between and after the arguments, in any order.
    order = draw(st.permutations(range(len(options))))
    slots = sorted((draw(st.integers(0, len(positional))), rank, k) for rank, k in enumerate(order))
    words: list[str] = []
    for i, word in enumerate([*positional, None]):
        words.extend(w for slot, _rank, k in slots if slot == i for w in options[k])
        if word is not None:
            words.append(word)
    well_formed = not any(len(o) == 2 and o[1].startswith("-") for o in options)
    if draw(st.booleans()):
        return [command, *_changed(draw, words)], False
    return [command, *words], well_formed


def _typer_call(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any]]:
    """Typer's exit code and the keyword arguments it called the command's body with."""
    body = FAST[argv[0]][0]
    calls: list[dict[str, Any]] = []
    with monkeypatch.context() as patch:
        patch.setattr(bodies, body, lambda **kwargs: calls.append(kwargs))
        result = CliRunner().invoke(app, argv)
    assert len(calls) <= 1
    return result.exit_code, calls[0] if calls else {}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(line=command_lines())
def test_the_fast_path_calls_the_body_as_typer_does(
    line: tuple[list[str], bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv, well_formed = line
    fast = parse(argv)
    if well_formed:
        assert fast is not None, argv
    if fast is None:
        return  # typer runs it: nothing to agree on
    code, kwargs = _typer_call(argv, monkeypatch)
    assert (code, fast) == (0, (FAST[argv[0]][0], kwargs)), argv
    assert [type(v) for v in fast[1].values()] == [type(v) for v in kwargs.values()], argv


@pytest.mark.parametrize(
    "argv",
    [
        ["settle", CONTRACT, ACTUALS, "--help"],
        ["settle", CONTRACT],
        ["settle", CONTRACT, ACTUALS, "--json", "--json"],
        ["settle", CONTRACT, ACTUALS, "--format", "JSON"],
        ["settle", CONTRACT, ACTUALS, "--encoding", "--json"],
        ["settle", "--", CONTRACT, ACTUALS],
        ["recalc", "book.xlsx", "-obook2.xlsx"],
        ["recalc", "book.xlsx", "-o=book2.xlsx"],
        ["recalc", "book.xlsx", "--output"],
        ["recalc", "-", "--engine", "kpixl"],
        ["recalc", "a\0b.xlsx"],
        ["schema", "contract"],
        ["--version", "settle"],
        [],
    ],
)
def test_what_typer_handles_the_fast_path_leaves_to_it(argv: list[str]) -> None:
    assert parse(argv) is None


def test_a_shell_asking_for_completions_goes_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse(["settle", CONTRACT, ACTUALS]) is not None
    monkeypatch.setenv("_KPIXL_COMPLETE", "bash_complete")
    assert parse(["settle", CONTRACT, ACTUALS]) is None


def _run(code: list[str], argv: list[str], cwd: Path) -> tuple[str, str, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run([sys.executable, *code, *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, check=False)  # fmt: skip
    # The formulas engine's progress bar shows its speed: the same bar, at whatever speed.
    stderr = re.sub(r"\[[^\]]*it/s\]", "[…]", done.stderr)
    # Each path runs in a folder of its own, which a message may name.
    return done.stdout, stderr.replace(str(cwd), "<folder>"), done.returncode


SHOPEE = [str(EXAMPLES / "shopee-vn-fashion.yaml"), str(EXAMPLES / "shopee-vn-fashion.actuals.csv")]
REAL_RUNS = {
    "text": ["settle", CONTRACT, ACTUALS],
    "json": ["settle", CONTRACT, ACTUALS, "--json"],
    "csv": ["settle", "--format=csv", CONTRACT, ACTUALS],
    "adjusted": ["settle", *SHOPEE, "--adjustments",
                 str(EXAMPLES / "shopee-vn-fashion.adjustments.csv")],
    "encoding": ["settle", CONTRACT, ACTUALS, "--encoding", "gb18030", "--format", "text"],
    "missing file": ["settle", "missing.yaml", ACTUALS],
    "bad encoding": ["settle", CONTRACT, ACTUALS, "--encoding", "no-such-codec"],
    "two formats": ["settle", CONTRACT, ACTUALS, "--json", "--format", "csv"],
    "bad actuals": ["settle", CONTRACT, CONTRACT],
    "recalc": ["recalc", "book.xlsx", "-o", "out.xlsx"],
    "recalc in place": ["recalc", "book.xlsx"],
    # --engine formulas is parsed like kpixl (test_the_fast_path_calls_the_body_as_typer_does); running it here
    # would cost two ~5 s evaluations of the workbook for no more path coverage.
    "recalc engine": ["recalc", "book.xlsx", "--output=out.xlsx", "--engine", "kpixl"],
    "recalc bad engine": ["recalc", "book.xlsx", "--engine", "excel"],
    "recalc missing": ["recalc", "missing.xlsx"],
    "recalc unwritable": ["recalc", "book.xlsx", "-o", "no/such/folder/out.xlsx"],
    "recalc not a workbook": ["recalc", CONTRACT, "-o", "out.xlsx"],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = tmp_path_factory.mktemp("built") / "book.xlsx"
    quote = ["quote", CONTRACT, "--actuals", ACTUALS, "-o", str(book)]
    assert CliRunner().invoke(app, quote).exit_code == 0
    return book


@pytest.mark.parametrize("name", sorted(REAL_RUNS))
def test_both_paths_print_the_same(name: str, built: Path, tmp_path: Path) -> None:
    argv = REAL_RUNS[name]
    assert parse(argv) is not None  # the fast path runs it
    outputs = []
    for path, code in (("fast", ["-m", "kpixl"]), ("typer", ["-c", TYPER])):
        folder = tmp_path / path
        folder.mkdir()
        shutil.copy(built, folder / "book.xlsx")
        outputs.append(_run(code, argv, folder))
        if name.startswith("recalc") and outputs[-1][2] == 0:
            written = folder / ("book.xlsx" if "in place" in name else "out.xlsx")
            outputs[-1] += (written.read_bytes(),)
    assert outputs[0] == outputs[1]
    stdout, stderr, code = outputs[0][:3]
    assert "Traceback" not in stderr
    if name in ("text", "json", "csv", "adjusted", "encoding"):
        assert code == 0 and stdout
    if name in ("two formats", "recalc bad engine"):
        assert code == 2 and "error:" in stderr


def test_the_fast_path_imports_neither_typer_nor_click(built: Path) -> None:
    for argv in (
        ["settle", CONTRACT, ACTUALS, "--json"],
        ["recalc", str(built), "--engine", "kpixl"],
    ):
        probe = (f"import sys\nsys.argv = ['kpixl', *{argv!r}]\nfrom kpixl.cli import main\nmain()\n"
                 "print(' '.join(sorted(sys.modules)), file=sys.stderr)")  # fmt: skip
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              check=True)  # fmt: skip
        loaded = set(done.stderr.split())
        assert {"typer", "click", "kpixl.cli.app"} & loaded == set(), argv


@pytest.mark.parametrize(
    ("argv", "collecting"),
    [
        (["settle", CONTRACT, ACTUALS], False),
        (["recalc", "book.xlsx"], False),
        (["recalc", "book.xlsx", "--engine", "formulas"], True),
    ],
)
def test_the_collector_waits_for_the_command_and_comes_back(
    argv: list[str], collecting: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kpixl commands run without the cycle collector, which is back on afterwards."""
    import gc

    from kpixl.cli import fast

    seen: list[bool] = []
    monkeypatch.setattr(bodies, argv[0], lambda **_kwargs: seen.append(gc.isenabled()))
    monkeypatch.setattr(sys, "argv", ["kpixl", *argv])
    assert gc.isenabled()
    fast.main()
    assert seen == [collecting]
    assert gc.isenabled()


@pytest.mark.parametrize(
    "first",
    [
        "import kpixl.cli.app",
        "import kpixl.cli.settle",
        "import kpixl.cli",
        "from kpixl.cli import main",
    ],
)
def test_the_package_app_is_the_typer_app_whatever_was_imported_first(first: str) -> None:
    """``kpixl.cli`` imports typer only when asked for ``app``; its ``app`` is never the module."""
    code = (
        f"{first}\nimport sys\nprint('typer' in sys.modules)\n"
        "import kpixl.cli, typer\nfrom kpixl.cli import GROUPS, app\n"
        "assert isinstance(app, typer.Typer) and kpixl.cli.app is app, app\n"
        "assert GROUPS == sys.modules['kpixl.cli.app'].GROUPS"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == ("True\n" if "app" in first or "settle" in first else "False\n")
