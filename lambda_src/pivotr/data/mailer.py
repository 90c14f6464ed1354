"""The data-access layer for SES v2: one e-mail per call, errors sorted by what sending should do next."""

from __future__ import annotations

from functools import cached_property

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from pivotr.domain.sending import Email

# SES refuses this one message for good: the recipient is marked failed.
PERMANENT = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})
TIMEOUTS = (5, 10)  # seconds: connect, read; well inside send-email's 30 s


class Retry(Exception):
    """SES did not take the message (throttling, quota, an outage): send it again later."""


class Rejected(Exception):
    """SES refused this message for good."""


class Unknown(Exception):
    """The request may have reached SES (the answer was lost): never send it again blindly."""


class Mailer:
    def __init__(self, configuration_set: str) -> None:
        self.configuration_set = configuration_set

    @cached_property
    def _client(self):
        # One attempt per call: throttling is retried through the queue, so no request is hidden.
        return boto3.client("sesv2", config=Config(retries={"max_attempts": 1, "mode": "standard"},
                                                   connect_timeout=TIMEOUTS[0], read_timeout=TIMEOUTS[1]))

    def send(self, email: Email) -> str:
        """SES's message id; raises Retry, Rejected or Unknown."""
        body = {kind: {"Data": value, "Charset": "UTF-8"} for kind, value in (("Html", email.html), ("Text", email.text)) if value}
        try:
            response = self._client.send_email(
                FromEmailAddress=email.from_address,
                Destination={"ToAddresses": [email.to]},
                Content={"Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": body,
                    "Headers": [{"Name": name, "Value": value} for name, value in email.headers],
                }},
                EmailTags=[{"Name": name, "Value": value} for name, value in email.tags],
                ConfigurationSetName=self.configuration_set,
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in PERMANENT:
                raise Rejected(f"{code}: {error.response.get('Error', {}).get('Message', '')}"[:300]) from None
            raise Retry(code) from None
        except (ConnectTimeoutError, EndpointConnectionError) as error:
            raise Retry(type(error).__name__) from None  # never reached SES
        except (ReadTimeoutError, ConnectionClosedError) as error:
            raise Unknown(type(error).__name__) from None
        return str(response["MessageId"])
