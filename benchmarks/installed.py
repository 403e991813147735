"""Shared by the benchmarks that time whole processes."""

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def byte_compile(*folders: str) -> None:
    """Byte-compile the project's code as installing a package does, so no timed process
    compiles its source (PYTHONDONTWRITEBYTECODE, set in some shells, would have each one
    compile it again; DuckDB, gbstats and the rest come compiled from their install)."""
    for folder in folders or ("growthlab",):
        compileall.compile_dir(ROOT / folder, quiet=1)
