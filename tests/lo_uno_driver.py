"""Edit workbooks in LibreOffice through its UNO bridge, as a person would (test helper).

Run with the Python that has LibreOffice's ``uno`` module (Debian's python3-uno is for
/usr/bin/python3, not the project's venv)::

    /usr/bin/python3 tests/lo_uno_driver.py JOBS.json RESULTS.json

It starts ONE headless soffice (a throwaway profile, macros off, a private pipe) and, for every
job, opens the workbook, types the values into their cells (numbers as numbers, text as
text), recalculates, reads the asked cells and defined names back from LibreOffice, and stores
the workbook as "Calc MS Excel 2007 XML". A job: ``{"src", "dst", "edits": [{"sheet", "cell",
"value"}], "read": [{"sheet", "cell"}], "names": [defined names]}``. A result: ``{"dst",
"cells": [values], "names": {name: value}}``, or ``{"dst", "error"}``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

CONNECT_SECONDS = 90
FILTER = "Calc MS Excel 2007 XML"
_TEXT_RESULT = 2  # com.sun.star.sheet.FormulaResult.STRING
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def _props(**values: Any) -> tuple[Any, ...]:
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        out.append(prop)
    return tuple(out)


def _connect(pipe: str, process: subprocess.Popen[bytes]) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _value(cell: Any) -> Any:
    kind = cell.getType().value  # EMPTY, VALUE, TEXT, FORMULA
    if kind == "EMPTY":
        return None
    if kind == "TEXT":
        return cell.getString()
    if kind == "FORMULA" and cell.getError() != 0:
        return "#ERROR"
    if kind == "FORMULA" and cell.FormulaResultType2 == _TEXT_RESULT:
        return cell.getString()
    return cell.getValue()


def _run_job(desktop: Any, job: dict[str, Any]) -> dict[str, Any]:
    src = Path(job["src"]).resolve().as_uri()
    doc = desktop.loadComponentFromURL(src, "_blank", 0, _props(Hidden=True))
    try:
        sheets = doc.getSheets()
        for edit in job.get("edits", []):
            cell = sheets.getByName(edit["sheet"]).getCellRangeByName(edit["cell"])
            if isinstance(edit["value"], str):
                cell.setString(edit["value"])
            else:
                cell.setValue(edit["value"])
        doc.calculateAll()
        cells = [
            _value(sheets.getByName(r["sheet"]).getCellRangeByName(r["cell"]))
            for r in job.get("read", [])
        ]
        names = {}
        for name in job.get("names", []):
            target = doc.NamedRanges.getByName(name).getReferredCells()
            names[name] = _value(target.getCellByPosition(0, 0))
        dst = Path(job["dst"]).resolve()
        dst.parent.mkdir(parents=True, exist_ok=True)
        doc.storeToURL(dst.as_uri(), _props(FilterName=FILTER, Overwrite=True))
        return {"dst": job["dst"], "cells": cells, "names": names}
    finally:
        doc.close(True)


def main(jobs_file: str, results_file: str) -> int:
    """Run every job in one soffice and write the results; exit 1 when a job failed."""
    jobs = json.loads(Path(jobs_file).read_text(encoding="utf-8"))
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("soffice is not installed", file=sys.stderr)
        return 2
    pipe = f"kpixl_{uuid.uuid4().hex}"
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kpixl-uno-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
        command = [
            soffice,
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ]
        process = subprocess.Popen(command, start_new_session=True)
        try:
            context = _connect(pipe, process)
            desktop = context.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", context
            )
            for job in jobs:
                try:
                    results.append(_run_job(desktop, job))
                except Exception as e:  # noqa: BLE001 - reported per job, the rest still run
                    results.append({"dst": job["dst"], "error": f"{type(e).__name__}: {e}"})
            try:
                desktop.terminate()
            except Exception:  # noqa: BLE001, S110 - the bridge drops as soffice exits
                pass
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    Path(results_file).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
