"""Install the xlwings Excel add-in and point its user config at kpixl_udfs.

``kpixl addin install`` calls ``install_addin`` and ``kpixl addin status`` calls
``addin_status``; both return the lines to print. The settings go into xlwings' user config
file (``~/.xlwings/xlwings.conf`` on Windows, ``~/Library/Containers/com.microsoft.Excel/
Data/xlwings.conf`` on macOS), one ``"KEY","value"`` line per setting, which the add-in's
VBA reads with ``Input #``: values cannot contain a double quote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kpixl.errors import KpixlError

__all__ = [
    "AddinError",
    "addin_settings",
    "addin_status",
    "install_addin",
    "merge_config",
    "user_config_path",
    "write_user_config",
]

UDF_MODULE = "kpixl_udfs"
UDF_DIR = Path(__file__).resolve().parent
# Keys the add-in reads (xlwings addin/Main.bas: GetConfig("UDF MODULES"), ...).
UDF_MODULES_KEY = "UDF MODULES"
PYTHONPATH_KEY = "PYTHONPATH"
_LIST_KEYS = (UDF_MODULES_KEY, PYTHONPATH_KEY)  # ";"-separated: extend, never replace
_TIMEOUT_SECONDS = 300


class AddinError(KpixlError):
    """The add-in cannot be installed here (no Excel platform, xlwings failed, bad config)."""


def _platform_supported() -> bool:
    return sys.platform.startswith(("win", "darwin"))


def user_config_path(home: Path | None = None) -> Path:
    """Where xlwings keeps its user config (same rule as ``xlwings.USER_CONFIG_FILE``).

    Args:
        home: the home folder; default: the current user's, read when called.

    Returns:
        The path of ``xlwings.conf``.
    """
    home = Path.home() if home is None else home
    if sys.platform.startswith("darwin"):
        return home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf"
    return home / ".xlwings" / "xlwings.conf"


def addin_settings() -> dict[str, str]:
    """The settings that make the xlwings add-in load kpixl_udfs with this interpreter.

    Returns:
        Config key to value: UDF MODULES, PYTHONPATH and INTERPRETER_WIN or INTERPRETER_MAC.
    """
    interpreter_key = "INTERPRETER_MAC" if sys.platform.startswith("darwin") else "INTERPRETER_WIN"
    return {
        UDF_MODULES_KEY: UDF_MODULE,
        PYTHONPATH_KEY: str(UDF_DIR),
        interpreter_key: sys.executable,
    }


def _parse_line(line: str) -> tuple[str, str] | None:
    parts = line.strip().split('","', 1)
    if len(parts) != 2 or not parts[0].startswith('"') or not parts[1].endswith('"'):
        return None
    return parts[0][1:], parts[1][:-1]


def _merged_value(key: str, old: str | None, new: str) -> str:
    if old is None or key.upper() not in _LIST_KEYS:
        return new
    entries = [entry for entry in old.split(";") if entry]
    if new.lower() not in (entry.lower() for entry in entries):
        entries.append(new)
    return ";".join(entries)


def merge_config(text: str, settings: dict[str, str]) -> str:
    """Put ``settings`` into the text of an xlwings.conf, keeping every other line.

    UDF MODULES and PYTHONPATH are ``;``-separated lists: our entry is appended once,
    other modules and paths stay. Other keys are replaced.

    Args:
        text: the current file content ('' when there is none).
        settings: key to value.

    Returns:
        The new file content.
    """
    for key, value in settings.items():
        if '"' in value or "\n" in value:
            raise AddinError(f"xlwings.conf cannot hold {key} = {value!r} (quote or newline)")
    remaining = {key.upper(): (key, value) for key, value in settings.items()}
    lines: list[str] = []
    for line in text.splitlines():
        parsed = _parse_line(line)
        if parsed is not None and parsed[0].upper() in remaining:
            key, value = remaining.pop(parsed[0].upper())
            lines.append(f'"{parsed[0]}","{_merged_value(key, parsed[1], value)}"')
        elif line.strip():
            lines.append(line)
    lines.extend(f'"{key}","{value}"' for key, value in remaining.values())
    return "\n".join(lines) + "\n"


def write_user_config(dry_run: bool = False, path: Path | None = None) -> list[str]:
    """Write (or, with dry_run, only show) the kpixl settings in xlwings.conf.

    Args:
        dry_run: report what would be written without touching the file.
        path: the config file; default: ``user_config_path()``.

    Returns:
        Lines for the user: the file and every setting.
    """
    target = user_config_path() if path is None else path
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    new = merge_config(old, addin_settings())
    verb = "Would write" if dry_run else "Wrote"
    if not dry_run:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".kpixl-tmp")
        temporary.write_text(new, encoding="utf-8")
        os.replace(temporary, target)  # atomic: the add-in never reads half a file
    return [f"{verb} {target}:"] + [f"  {line}" for line in new.splitlines()]


def _xlwings_command(*args: str) -> list[str]:
    script = shutil.which("xlwings", path=str(Path(sys.executable).parent))
    if script is not None:
        return [script, *args]
    return [sys.executable, "-c", "from xlwings.cli import main; main()", *args]


def _run_xlwings(*args: str) -> str:
    command = _xlwings_command(*args)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AddinError(f"could not run {' '.join(command)}: {exc}") from exc
    return (done.stdout + done.stderr).strip()


def install_addin(dry_run: bool = False) -> list[str]:
    """Run ``xlwings addin install``, then set UDF MODULES, PYTHONPATH and the interpreter.

    Args:
        dry_run: show the command and the config lines without running or writing anything.

    Returns:
        Lines for the user, ending with what to do in Excel.

    Raises:
        AddinError: not on Windows or macOS, or xlwings could not install the add-in.
    """
    command = " ".join(_xlwings_command("addin", "install"))
    if dry_run:
        lines = [f"Would run: {command}"]
        if not _platform_supported():
            lines.append(f"(the add-in needs Excel on Windows or macOS; this is {sys.platform})")
        return lines + write_user_config(dry_run=True)
    if not _platform_supported():
        raise AddinError(
            f"the xlwings Excel add-in needs desktop Excel on Windows or macOS; this is "
            f"{sys.platform}. Use a native-formula workbook (kpixl quote --formulas native) "
            "or see docs/excel-addin.md."
        )
    output = _run_xlwings("addin", "install")
    # xlwings prints its errors and still exits 0, so success is read from the output.
    if "Successfully installed" not in output:
        raise AddinError(f"xlwings addin install failed: {output or 'no output'}")
    return [f"Ran: {command}", *output.splitlines(), *write_user_config()] + [
        "In Excel: xlwings tab > Import Functions (once per workbook that uses KPIXL_*).",
    ]


def addin_status() -> list[str]:
    """Report the add-in installation and the kpixl settings in xlwings.conf.

    Returns:
        Lines for the user; never raises for a missing add-in or config.
    """
    lines: list[str] = []
    if _platform_supported():
        lines.extend(_run_xlwings("addin", "status").splitlines())
    else:
        lines.append(f"xlwings COM add-in: not available on {sys.platform} (Windows/macOS only)")
    path = user_config_path()
    current: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            parsed = _parse_line(line)
            if parsed is not None:
                current[parsed[0].upper()] = parsed[1]
    lines.append(f"Config file: {path}{'' if path.is_file() else ' (missing)'}")
    for key, wanted in addin_settings().items():
        value = current.get(key)
        ok = value is not None and _merged_value(key, value, wanted) == value
        state = "ok" if ok else f"expected {wanted}"
        lines.append(f"  {key}: {'(not set)' if value is None else value} [{state}]")
    return lines
