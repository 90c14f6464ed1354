"""The typed TypeScript client (client/) matches docs/openapi.json and type-checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "node_modules" / ".bin"


def test_the_generated_types_are_those_of_the_current_document(tmp_path: Path) -> None:
    # Given docs/openapi.json as committed / When openapi-typescript generates the types again
    generated = tmp_path / "schema.d.ts"
    subprocess.run([BIN / "openapi-typescript", ROOT / "docs" / "openapi.json", "-o", generated],
                   check=True, capture_output=True, cwd=ROOT)
    # Then they are the committed ones (`make client` regenerates them)
    assert generated.read_text() == (ROOT / "client" / "schema.d.ts").read_text(), "run `make client`"


def test_the_client_and_its_compile_time_checks_type_check() -> None:
    # Given the client and client/check.ts (calls as a frontend makes them, and a status set that must be exhaustive)
    # When tsc checks them
    result = subprocess.run([BIN / "tsc", "-p", ROOT / "client"], capture_output=True, text=True, cwd=ROOT)
    # Then there is no error
    assert result.returncode == 0, result.stdout + result.stderr
