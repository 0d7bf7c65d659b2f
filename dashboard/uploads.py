"""Uploaded files: checked names, saved to a private temporary folder, imported like the CLI."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from dashboard import fhir, importer, store

SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,120}$")


def import_uploads(
    st_: store.Store,
    files: Iterable,
    *,
    skip_invalid: bool,
    progress: importer.Progress,
) -> importer.ImportResult:
    """Validate and import uploaded files as one batch (the same code as the CLI)."""
    files = list(files)
    if not files:
        raise importer.ImportFailed(
            "There is no file to import: choose one or more CSV, Parquet or FHIR (.json, "
            ".ndjson) files, and press Import once each shows its size (a file still uploading "
            "is not sent)."
        )
    with tempfile.TemporaryDirectory(prefix="mdt-upload-") as tmp:
        folder = Path(tmp)
        names = []
        for f in files:
            name = Path(f.name).name  # never a path from the browser
            if not SAFE_NAME.match(name):
                raise importer.ImportFailed(
                    f"'{name}' is not a file name the import accepts; name files after their "
                    "table, e.g. sessions.csv."
                )
            if Path(name).suffix.lower() not in fhir.SUFFIXES:
                importer.classify(Path(name))  # the same sentence as the CLI for a wrong file
            (folder / name).write_bytes(f.getvalue())
            names.append(name)
        return importer.import_into(
            st_,
            folder,
            skip_invalid=skip_invalid,
            via="upload",
            source="upload: " + ", ".join(names),
            progress=progress,
        )
