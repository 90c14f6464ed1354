from importlib.metadata import version

from modules.catalog import POWERTOOLS_LAYER_PARAMETER, POWERTOOLS_VERSION
from tests.synth import Synth


def test_the_powertools_layer_is_the_version_the_tests_run_with() -> None:
    # The functions run with the public layer of POWERTOOLS_VERSION; the tests with the locked package.
    assert version("aws-lambda-powertools") == POWERTOOLS_VERSION


def test_every_function_runs_with_the_powertools_layer(synth: Synth) -> None:
    plan = synth.stage("dev")
    [(param_id, param)] = plan["data"]["aws_ssm_parameter"].items()
    assert param["name"] == POWERTOOLS_LAYER_PARAMETER
    for fn in plan["resource"]["aws_lambda_function"].values():
        assert fn["layers"] == [f"${{data.aws_ssm_parameter.{param_id}.insecure_value}}"]


def test_the_lambda_archive_carries_the_vendored_validator(synth: Synth) -> None:
    import zipfile

    [archive] = list((synth.outdir / "stacks" / "pivotr-mailer-dev" / "assets").rglob("*.zip"))
    names = zipfile.ZipFile(archive).namelist()
    assert {"email_validator/__init__.py", "idna/__init__.py", "handlers/lead_import.py"} <= set(names)
    assert not any(name.startswith("dns/") for name in names)  # no DNS library: no DNS at import time
