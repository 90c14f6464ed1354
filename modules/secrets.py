"""Secrets Manager secrets whose values are set outside Terraform (never in the plan or state)."""

from __future__ import annotations

from modules import tf
from modules.iam import Grantee, Statement
from modules.naming import env_var
from modules.queues import Configurable

RECOVERY_WINDOW = 30  # days a deleted secret can still be restored


class Secret(tf.Construct):
    def __init__(self, scope: tf.Construct, id: str, *, short_name: str, secret_name: str, description: str) -> None:
        super().__init__(scope, id)
        self.short_name = short_name
        self.secret_name = secret_name
        # No aws_secretsmanager_secret_version: the value is put with the CLI or console.
        self.secret = tf.SecretsmanagerSecret(
            self, "secret", name=secret_name, description=description, recovery_window_in_days=RECOVERY_WINDOW
        )
        self.arn: str = self.secret.arn


    def connect(self, function: Configurable) -> None:
        """Let ``function`` read this secret at run time: the read grant and ``<NAME>_SECRET_ARN``."""
        self.grant_read(function)
        function.add_environment(env_var(self.short_name, "SECRET_ARN"), self.arn)

    def grant_read(self, grantee: Grantee) -> None:
        """secretsmanager:GetSecretValue on this one secret."""
        grantee.add_to_policy(Statement(("secretsmanager:GetSecretValue",), (self.arn,)))
