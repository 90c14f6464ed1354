"""``python -m ops <command> --stage …`` (the Make targets call it): preflight and the operator commands.

Like main.py, this entry point is the only place here that reads the process environment (the
stage configuration); credentials and AWS_ENDPOINT_URL are read by botocore itself.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from modules.config import STAGES, ConfigError, load
from ops import commands, preflight
from ops.aws import Clients
from ops.plans import PlanMissing, StagePlan

ROOT = Path(__file__).resolve().parent.parent


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m ops", description=__doc__.splitlines()[0])
    top.add_argument("--plans", default=str(ROOT / "cdktf.out"), help="where make synth wrote the plans (default: cdktf.out)")
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--stage", required=True, choices=STAGES)
        return p

    command("preflight", "read-only checks of the target account; exit 1 when something would break the deploy "
                         "or the first campaign")
    secret = command("secret", "put a secret's value, read from standard input (never argv or the environment)")
    secret.add_argument("--name", required=True, help="e.g. verifier-api-key or unsubscribe-signing-key")
    admin = command("create-admin", "create the first Cognito user; Cognito e-mails a temporary password")
    admin.add_argument("--email", required=True)
    rotate = command("rotate-unsubscribe-key", "a new unsubscribe signing key; the old one verifies links for the overlap")
    rotate.add_argument("--overlap-days", type=int, default=commands.DEFAULT_OVERLAP_DAYS,
                        help=f"days links signed with the old key keep working (default {commands.DEFAULT_OVERLAP_DAYS})")
    redrive = command("redrive", "move a DLQ's messages back into its queue (after the fix is deployed)")
    redrive.add_argument("--queue", required=True, help="the queue's short name: sending, verification, transfers, ses-feedback")
    return top


def main(argv: Sequence[str], environ: Mapping[str, str], *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
         clients: Clients | None = None, now: float | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load(environ)
        stage = config.stage(args.stage)
        outdir = Path(args.plans)
        plan = StagePlan.load(outdir, args.stage)
        aws = clients or Clients(stage.region)
        if args.command == "preflight":
            neighbours = tuple(StagePlan.load(outdir, s.stage) for s in config.neighbours(args.stage))
            context = preflight.Context(config=config, stage=stage, plan=plan, neighbours=neighbours, aws=aws,
                                        account=preflight.caller_account(aws))
            results = preflight.run(context)
            print(f"preflight of {args.stage} in account {context.account}, {stage.region}:", file=stdout)
            for result in results:
                print(result.render(), file=stdout)
            failed = sum(r.status is preflight.Status.FAIL for r in results)
            print(f"{failed} check(s) would break the deploy or the first campaign" if failed else "ready to deploy", file=stdout)
            return preflight.exit_code(results)
        if args.command == "secret":
            lines = commands.put_secret(plan, aws, args.name, commands.read_value(stdin, getpass.getpass))
        elif args.command == "create-admin":
            lines = commands.create_admin(plan, aws, args.email)
        elif args.command == "rotate-unsubscribe-key":
            lines = commands.rotate_unsubscribe_key(plan, aws, args.overlap_days, time.time() if now is None else now)
        else:
            lines = commands.redrive(plan, aws, args.queue)
    except (ConfigError, PlanMissing, commands.OperatorError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print("error: no AWS credentials: export AWS_PROFILE=<profile> (or run aws sso login / aws configure)", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:  # a command's call refused or unreachable: say which, no trace
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line, file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
