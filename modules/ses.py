"""SES for one stage: its own configuration set, event destination and feedback queue, created here
(``create``) or the owner's existing ones referenced by name; the domain identity is account-wide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modules import tf
from modules.config import SES_EVENT_TYPES, SesConfig
from modules.iam import Grantee, Statement
from modules.naming import Naming
from modules.queues import Configurable, ExistingQueue, Queue, QueueProps, QueueRef

if TYPE_CHECKING:
    from modules.function import PythonFunction

FEEDBACK_VISIBILITY = 60  # seconds: 6x process-feedback's 10 s timeout
FEEDBACK_MAX_RECEIVES = 5
DMARC_POLICY = "v=DMARC1; p=quarantine; adkim=s; aspf=s"
RECORD_TTL = 1800  # seconds


class Ses(tf.Construct):
    """What functions need to send mail and receive feedback."""

    def __init__(self, scope: tf.Construct, id: str, *, config: SesConfig, naming: Naming, region: str, account: str) -> None:
        super().__init__(scope, id)
        self.config = config
        prefix = f"arn:aws:ses:{region}:{account}"
        self.identity_arn = f"{prefix}:identity/{config.identity_domain}"
        self.sender_identity_arn = f"{prefix}:identity/{config.from_email}"
        self.any_identity_arn = f"{prefix}:identity/*"
        self.configuration_set_name = config.configuration_set
        self.feedback_queue: QueueRef
        if config.create_identity:
            self._identity(config)
        if config.create:
            self._create(naming)
        else:
            self.feedback_queue = ExistingQueue(self, "feedback", queue_name=naming.feedback_queue(config),
                                                short_name="ses-feedback")
        self.configuration_set_arn = f"{prefix}:configuration-set/{self.configuration_set_name}"
        if not config.create:  # the owner's topic
            self.topic_arn = config.owner_topic_arn(region, account)

    def _identity(self, config: SesConfig) -> None:
        identity = tf.Sesv2EmailIdentity(
            self, "identity", email_identity=config.identity_domain, configuration_set_name=None
        )
        if config.route53_zone_id:
            self._dns(identity, config)

    def _create(self, naming: Naming) -> None:
        config = self.config
        configuration_set = tf.Sesv2ConfigurationSet(
            self,
            "configuration-set",
            configuration_set_name=config.configuration_set,
            delivery_options=tf.Sesv2ConfigurationSetDeliveryOptions(tls_policy="REQUIRE"),
            reputation_options=tf.Sesv2ConfigurationSetReputationOptions(reputation_metrics_enabled=True),
        )
        self.topic = tf.SnsTopic(self, "topic", name=naming.name("ses-events"))
        self.topic_arn: str = self.topic.arn
        tf.Sesv2ConfigurationSetEventDestination(
            self,
            "events",
            configuration_set_name=configuration_set.configuration_set_name,
            event_destination_name="sns",
            event_destination=tf.Sesv2ConfigurationSetEventDestinationEventDestination(
                enabled=True,
                matching_event_types=list(SES_EVENT_TYPES),
                sns_destination=tf.Sesv2ConfigurationSetEventDestinationEventDestinationSnsDestination(
                    topic_arn=self.topic.arn
                ),
            ),
        )
        queue = Queue(
            self,
            "feedback",
            props=QueueProps(name="ses-feedback", visibility_timeout=FEEDBACK_VISIBILITY, max_receive_count=FEEDBACK_MAX_RECEIVES),
            queue_name=naming.name("ses-feedback"),
        )
        self.feedback_queue = queue
        policy = queue.accept_events_from("sns.amazonaws.com", self.topic.arn)  # only this stage's topic
        tf.SnsTopicSubscription(self, "feedback-subscription", topic_arn=self.topic.arn, protocol="sqs",
                                endpoint=queue.arn, raw_message_delivery=config.raw_delivery or None,
                                depends_on=[policy])

    def _dns(self, identity: tf.Sesv2EmailIdentity, config: SesConfig) -> None:
        domain, zone = config.identity_domain, config.route53_zone_id
        for index in range(3):  # SES Easy DKIM publishes three tokens
            token = tf.Token.as_string(tf.Fn.element(identity.dkim_signing_attributes.tokens, index))
            tf.Route53Record(
                self, f"dkim-{index}", zone_id=zone, type="CNAME", ttl=RECORD_TTL,
                name=f"{token}._domainkey.{domain}", records=[f"{token}.dkim.amazonses.com"],
            )
        tf.Route53Record(self, "spf", zone_id=zone, type="TXT", ttl=RECORD_TTL, name=domain,
                         records=["v=spf1 include:amazonses.com ~all"])
        tf.Route53Record(self, "dmarc", zone_id=zone, type="TXT", ttl=RECORD_TTL, name=f"_dmarc.{domain}",
                         records=[DMARC_POLICY])

    def connect_feedback(self, function: PythonFunction) -> None:
        """Let ``function`` consume this stage's feedback queue and apply only what this stage's topic
        published (the topic ARN and whether the subscription delivers raw SES JSON)."""
        function.add_sqs_source(self.feedback_queue)
        function.add_environment("FEEDBACK_TOPIC_ARNS", self.topic_arn)
        function.add_environment("FEEDBACK_RAW_DELIVERY", "true" if self.config.raw_delivery else "false")

    def connect_sender(self, function: Configurable) -> None:
        """Let ``function`` send mail: the send grant, the quota it paces itself by, and where to send from."""
        self.grant_send_email(function)
        self.grant_read_quota(function)
        function.add_environment("SES_QUOTA_SHARE", str(self.config.quota_share))
        function.add_environment("SES_CONFIGURATION_SET", self.configuration_set_name)
        function.add_environment("SES_FROM_EMAIL", self.config.from_email)
        function.add_environment("SES_IDENTITY_DOMAIN", self.config.identity_domain)

    def grant_read_quota(self, grantee: Grantee) -> None:
        """ses:GetAccount: the account's maximum send rate and 24-hour quota (an account-level read)."""
        grantee.add_to_policy(Statement(("ses:GetAccount",), ("*",)))

    def grant_send_email(self, grantee: Grantee) -> None:
        """ses:SendEmail (SES v2) through this stage's configuration set, on the identities SES checks:
        the domain, the From address's own identity (SES authorizes that one when the address is
        verified on its own) and, while the account is in the sandbox, each recipient's identity
        (any identity of the account, for mail from this From address only)."""
        grantee.add_to_policy(Statement(("ses:SendEmail",),
                                        (self.identity_arn, self.sender_identity_arn, self.configuration_set_arn)))
        if self.config.sandbox:
            grantee.add_to_policy(Statement(("ses:SendEmail",), (self.any_identity_arn,),
                                            conditions=(("StringEquals", "ses:FromAddress", (self.config.from_email,)),)))
