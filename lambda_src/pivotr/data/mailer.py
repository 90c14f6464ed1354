"""The data-access layer for SES v2: exactly one SendEmail request per call, and what its answer proves.

botocore retries on its own unless told not to: ``retries={"max_attempts": 1}`` means one *retry*
(two requests), so a slow answer or a 5xx would reach SES twice under one claim. The client here is
built with ``total_max_attempts=1`` (attempts, not retries): one request, whatever happens.

Every answer is sorted by what it proves about the message (see ``Outcome``), because only an answer
that proves SES did not take the message may ever lead to sending it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from pivotr.data import clients
from pivotr.domain.rate import SendQuota
from pivotr.domain.sending import Email


@dataclass(frozen=True)
class Timeouts:
    """Seconds. One SendEmail can take at most ``connect + read`` (one attempt, no retries), so the
    sender stops starting calls when the invocation has less than ``worst_case_ms`` left."""

    connect: float = 2.0
    read: float = 6.0
    scale: float = 1.0  # real seconds the socket waits per second counted here; tests shrink it, never code

    @property
    def worst_case_ms(self) -> int:
        return int((self.connect + self.read) * 1000)


# Proven not taken, and about this moment: release the claim and try again later.
THROTTLED = frozenset({"TooManyRequestsException", "Throttling", "ThrottlingException"})
# Proven not taken, and about this recipient or this message: the recipient is failed for good.
RECIPIENT = frozenset({"BadRequestException", "InvalidParameterValue"})
# Proven not taken, and about the account or its configuration: every other recipient would be
# refused the same way, so the campaign pauses with the reason instead of failing them one by one.
ACCOUNT = frozenset({"AccessDeniedException", "AccountSuspendedException", "SendingPausedException",
                     "MailFromDomainNotVerifiedException", "NotFoundException", "LimitExceededException",
                     "UnrecognizedClientException", "ExpiredTokenException", "InvalidClientTokenId"})


class Throttled(Exception):
    """SES refused this call for now (rate, or the 24-hour quota when ``daily``): the message was not taken."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.daily = "daily" in text.lower()  # "Daily message quota exceeded" (SES's documented wording)


class Rejected(Exception):
    """SES refused this message for good (the recipient or the content): it was not taken."""


class AccountRefused(Exception):
    """SES refused because of the account or configuration (sandbox, paused, quota, access, identity)."""


class Unknown(Exception):
    """The request may have reached SES and been taken (timeout, reset, 5xx): never send it again blindly."""


def classify(error: ClientError) -> Exception:
    """The outcome an SES error answer proves (ClientError carries the HTTP status and the code)."""
    info = error.response.get("Error", {})
    code, message = str(info.get("Code", "")), str(info.get("Message", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    text = f"{code}: {message}"[:300]
    if status >= 500:
        return Unknown(text)  # SES may have taken it before failing
    if code in THROTTLED or status == 429:
        return Throttled(text)
    if code in ACCOUNT or status in (401, 403):
        return AccountRefused(text)
    if code == "MessageRejected":
        # "Email address is not verified": the sandbox (recipient) or the sender's identity. Either way
        # every recipient of the campaign meets it: an account matter, not this recipient's.
        return AccountRefused(text) if "not verified" in message.lower() else Rejected(text)
    if code in RECIPIENT:
        return Rejected(text)
    if not status:
        return Unknown(text)  # no HTTP answer behind it: nothing proves SES did not take it
    return AccountRefused(text)  # an unknown refusal: stop and let a person look rather than fail everyone


class Mailer:
    def __init__(self, configuration_set: str, timeouts: Timeouts = Timeouts(), endpoint_url: str | None = None) -> None:
        self.configuration_set, self.timeouts, self.endpoint_url = configuration_set, timeouts, endpoint_url

    @cached_property
    def _client(self):
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                        connect_timeout=self.timeouts.connect * self.timeouts.scale,
                        read_timeout=self.timeouts.read * self.timeouts.scale)
        return clients.sesv2(config, self.endpoint_url)

    def quota(self, now: float) -> SendQuota:
        """The account's sending quota in this region (SES v2 GetAccount), as read at ``now``."""
        quota = self._client.get_account()["SendQuota"]
        return SendQuota(float(quota.get("MaxSendRate", 1)), float(quota.get("Max24HourSend", 200)),
                         float(quota.get("SentLast24Hours", 0)), now)

    def send(self, email: Email) -> str:
        """SES's message id; raises Throttled, Rejected, AccountRefused or Unknown."""
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
            raise classify(error) from None
        except (ConnectTimeoutError, EndpointConnectionError) as error:
            raise Throttled(type(error).__name__) from None  # no connection: the request never left
        except Exception as error:  # read timeout, connection reset, anything else: it may have been taken
            raise Unknown(type(error).__name__) from None
        return str(response["MessageId"])
