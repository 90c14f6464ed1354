"""Operator tooling for a real account: ``make preflight`` and the operator commands (``python -m ops``).

Everything here runs with the caller's AWS credentials and reads the synthesized plans (``make
synth``) for names, so the commands and the infrastructure cannot drift apart.
"""

import sys
from pathlib import Path

# The key ring format of the unsubscribe links lives with the functions (pivotr.domain.unsubscribe).
LAMBDA_SOURCE = Path(__file__).resolve().parent.parent / "lambda_src"
if str(LAMBDA_SOURCE) not in sys.path:
    sys.path.append(str(LAMBDA_SOURCE))
