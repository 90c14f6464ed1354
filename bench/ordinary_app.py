"""Baseline for the synth benchmark: the ordinary import of the prebuilt bindings and a trivial 3-stage app."""

import os
import sys

import cdktf_cdktf_provider_aws  # noqa: F401  the ordinary import: runs the package __init__ (all submodules)
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

app = App(outdir=sys.argv[1] if len(sys.argv) > 1 else os.path.join("cdktf.out", "baseline"))
for stage in ("dev", "staging", "prod"):
    stack = TerraformStack(app, f"trivial-{stage}")
    AwsProvider(stack, "aws", region="ap-south-1")
app.synth()
