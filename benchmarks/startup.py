"""Start-up: whole `kpixl` processes against `python -c "import pydantic, numpy"`.

    .venv/bin/python benchmarks/startup.py [--runs 15] [--before DIR]

Each command runs as a fresh process, ``--runs`` times after one warm-up round (so the file
cache is warm); the rounds interleave the commands, so on a shared machine every command sees
the same load. The table gives the median and the minimum wall time, the minimum CPU time (user +
system: less sensitive to other processes on a shared machine), and each command's median and
minimum over the reference's. The workbook for ``recalc`` is built once beforehand with
``kpixl quote``. "settle floor" imports and settles as ``kpixl settle`` does, without the
command line (argv, output): what the command could at best take.

``--before DIR`` also times ``settle`` and ``recalc`` of another kpixl source tree (e.g.
``git archive main kpixl udfs | tar -x -C DIR``): both trees then run through the same small
launcher (``python -c``, the tree first on ``sys.path``, the editable install's finder
removed), so the before and after rows differ only in kpixl's code.

``PYTHONDONTWRITEBYTECODE`` is removed from the children's environment: an installed kpixl has
its bytecode compiled, and with the variable set every run would compile kpixl's sources again
(~0.25 s). The warm-up run writes the caches.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "workbooks" / "examples"


def _kpixl() -> list[str]:
    script = Path(sys.executable).with_name("kpixl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kpixl"]


#: What ``kpixl settle`` does, without the command line around it (no output).
_FLOOR = (
    "import sys\n"
    "from kpixl.engine.settle import settle\n"
    "from kpixl.model import load_contract\n"
    "from kpixl.workbook.tables import read_actuals\n"
    "settle(load_contract(sys.argv[1]), read_actuals(sys.argv[2], None), None)"
)

#: ``kpixl`` from the source tree in argv[1] (not the installed one), the rest of argv its own.
_LAUNCH = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]\n"
    "tree = sys.argv.pop(1)\n"
    "sys.path.insert(0, tree)\n"
    "sys.argv[0] = 'kpixl'\n"
    "from kpixl.cli import main\n"
    "assert sys.modules['kpixl'].__file__.startswith(tree)\n"
    "main()"
)

_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _time(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds of each command's runs after the warm-up, in interleaved rounds."""
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in commands}
    for i in range(runs + 1):
        for name, command in commands.items():
            cpu, started = _cpu(), time.perf_counter()
            subprocess.run(
                command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_ENV
            )
            if i:  # the first round warms the file cache (and writes the bytecode caches)
                results[name][0].append(time.perf_counter() - started)
                results[name][1].append(_cpu() - cpu)
    return results


def main() -> None:
    """Time the commands and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", type=Path, help="another kpixl source tree to compare")
    args = parser.parse_args()
    kpixl = _kpixl()
    contract = str(EXAMPLES / "acme-amz-us.yaml")
    actuals = str(EXAMPLES / "acme-amz-us.actuals.csv")
    folder = Path(tempfile.mkdtemp(prefix="kpixl-startup-"))
    try:
        workbook = folder / "acme.xlsx"
        quote = [*kpixl, "quote", contract, "--actuals", actuals, "-o", str(workbook)]
        subprocess.run(
            quote, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_ENV
        )
        settle = ["settle", contract, actuals]
        recalc = ["recalc", str(workbook), "-o", str(folder / "out.xlsx")]
        commands = {
            'python -c "pass"': [sys.executable, "-c", "pass"],
            'python -c "import pydantic, numpy"': [sys.executable, "-c", "import pydantic, numpy"],
            "kpixl --version": [*kpixl, "--version"],
            "kpixl settle acme-amz-us": [*kpixl, *settle],
            # settle's imports and work without the command line: the floor of `kpixl settle`
            "settle floor (no CLI)": [sys.executable, "-c", _FLOOR, contract, actuals],
            "kpixl recalc acme.xlsx": [*kpixl, *recalc],
        }
        if args.before is not None:
            for label, tree in (("before", args.before.resolve()), ("after", ROOT)):
                launch = [sys.executable, "-c", _LAUNCH, str(tree)]
                commands[f"{label}: settle"] = [*launch, *settle]
                commands[f"{label}: recalc"] = [*launch, *recalc]
        results = _time(commands, args.runs)
    finally:
        shutil.rmtree(folder)
    walls, cpus = results['python -c "import pydantic, numpy"']
    reference, least = statistics.median(walls), min(walls)
    print(f"load average {os.getloadavg()[0]:.2f}, {args.runs} runs each")
    columns = ("median s", "min s", "min CPU s", "÷ ref", "min÷min")
    print(f"{'command':34} " + " ".join(f"{c:>9}" for c in columns))
    for name, (times, cpu) in results.items():
        median = statistics.median(times)
        print(
            f"{name:34} {median:9.3f} {min(times):9.3f} {min(cpu):9.3f} "
            f"{median / reference:9.2f} {min(times) / least:9.2f}"
        )


if __name__ == "__main__":
    main()
