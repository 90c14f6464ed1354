"""Shared fixtures: the whole app is synthesized once per test session."""

from __future__ import annotations

import itertools
import logging
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.synth import ROOT, Synth, run_synth

# Tests import the Lambda code the way the Lambda runtime does: lambda_src/ is the archive root.
sys.path.insert(0, str(ROOT / "lambda_src"))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    return Synth(outdir=outdir, stdout=run_synth(outdir))


@pytest.fixture(scope="session")
def stages() -> tuple[str, ...]:
    return ("dev", "staging", "prod")


@pytest.fixture
def root() -> Path:
    return ROOT


_ACCOUNTS = itertools.count(1)


@pytest.fixture
def moto_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto account of its own for one test (the operator tooling's), with fake credentials only.

    Its own account id (MOTO_ACCOUNT_ID), because the handler tests' session-wide mock may be active in
    the same worker: a nested mock_aws shares its state instead of starting afresh."""
    from moto import mock_aws

    account = str(210_000_000_000 + next(_ACCOUNTS))
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "ap-south-1", "MOTO_ACCOUNT_ID": account}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield account


# -- IAM versus calls, second half: every granted action is used by some test or has a reason --------
def _whole_suite(config: pytest.Config) -> bool:
    args = {str(Path(a).resolve()) for a in config.args}
    return not config.option.keyword and not config.option.markexpr and args <= {str(ROOT / "tests"), str(ROOT)}


# The longest files start first, one per worker, so that the rest fills in around them instead of one
# of them starting last and running alone. xdist hands out files in collection order only with
# --no-loadscope-reorder (make test passes it); by default it sends the files with most tests first.
LONGEST_FIRST = ("test_campaign_lifecycle.py", "test_sending_faults.py", "test_fast_import.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


def pytest_sessionstart(session: pytest.Session) -> None:
    from tests import iam_check

    if not hasattr(session.config, "workerinput"):  # the controller (or the only process)
        iam_check.clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fails the run when a policy grants an (action, resource) that no handler test used and no
    reason in tests/iam_check.py REASONS covers (all xdist workers' records together)."""
    from tests import iam_check

    if hasattr(session.config, "workerinput") or not _whole_suite(session.config):
        return  # only the whole suite exercises every grant
    unused = iam_check.unused_without_reason()
    if unused:
        print("\nIAM versus calls FAILED: granted, never used by any handler test, and no written reason:")
        print("\n".join(f"  {line}" for line in unused))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif unused is not None:
        print("\nIAM versus calls: every granted action was used by a handler test or has a written reason")


# -- no e-mail address in any log record (issue 15 item 6), checked for every test ------------------
_ADDRESS = re.compile(r"([\w.!#$%&*+/=?^~-]+)@(?:[\w-]+\.)+[\w-]{2,}", re.UNICODE)
_LOG_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_LEAKS: list[str] = []


def _record_text(record: logging.LogRecord) -> str:
    """Everything of a record a handler could write: message, extra fields, exception with its chain."""
    parts = [record.getMessage()]
    parts += [repr(value) for name, value in vars(record).items() if name not in _LOG_RECORD_FIELDS]
    if record.exc_info and record.exc_info[1] is not None:
        parts += traceback.format_exception(*record.exc_info)
    return "\n".join(parts)


@pytest.fixture(scope="session", autouse=True)
def _log_witness() -> Iterator[None]:
    """Sees every record of every logger after its handlers ran (the redacting filter runs before)."""
    original = logging.Logger.callHandlers

    def witnessed(self: logging.Logger, record: logging.LogRecord) -> None:
        original(self, record)
        text = _record_text(record)
        for match in _ADDRESS.finditer(text):
            if match.group(1) != "***":
                _LEAKS.append(f"{record.name} {record.levelname}: {match.group(0)} in {text[:300]!r}")

    logging.Logger.callHandlers = witnessed  # type: ignore[method-assign]
    yield
    logging.Logger.callHandlers = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def no_address_in_any_log_record() -> Iterator[None]:
    """Fails the test whose code logged an e-mail address (the addresses every test uses)."""
    _LEAKS.clear()
    yield
    leaks, _LEAKS[:] = list(_LEAKS), []
    assert not leaks, "e-mail addresses reached log records:\n" + "\n".join(leaks[:5])
