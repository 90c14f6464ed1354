"""SES: the owner's identity, configuration set and feedback queue, or (greenfield) new ones."""

from __future__ import annotations

import json

from modules import tf
from modules.config import SesConfig
from modules.iam import Grantee, Statement
from modules.naming import Naming
from modules.queues import Configurable, ExistingQueue, Queue, QueueProps, QueueRef, queue_name_from_url

EVENT_TYPES = ("SEND", "BOUNCE", "COMPLAINT", "DELIVERY", "REJECT", "OPEN", "CLICK", "DELIVERY_DELAY")
FEEDBACK_VISIBILITY = 60  # seconds: 6x process-feedback's 10 s timeout
FEEDBACK_MAX_RECEIVES = 5
DMARC_POLICY = "v=DMARC1; p=quarantine; adkim=s; aspf=s"
RECORD_TTL = 1800  # seconds


class Ses(tf.Construct):
    """What functions need to send mail and receive feedback."""

    def __init__(self, scope: tf.Construct, id: str, *, config: SesConfig, naming: Naming, region: str) -> None:
        super().__init__(scope, id)
        self.config = config
        account = tf.DataAwsCallerIdentity(self, "account").account_id
        prefix = f"arn:aws:ses:{region}:{account}"
        self.identity_arn = f"{prefix}:identity/{config.identity_domain}"
        self.configuration_set_name = config.configuration_set
        self.feedback_queue: QueueRef
        if config.create:
            self._create(naming)
        else:
            feedback_name = (
                queue_name_from_url(config.feedback_queue_url)
                if config.feedback_queue_url
                else naming.name("ses-feedback")
            )
            self.feedback_queue = ExistingQueue(self, "feedback", queue_name=feedback_name, short_name="ses-feedback")
        self.configuration_set_arn = f"{prefix}:configuration-set/{self.configuration_set_name}"

    def _create(self, naming: Naming) -> None:
        config = self.config
        identity = tf.Sesv2EmailIdentity(
            self, "identity", email_identity=config.identity_domain, configuration_set_name=None
        )
        configuration_set = tf.Sesv2ConfigurationSet(
            self,
            "configuration-set",
            configuration_set_name=config.configuration_set,
            delivery_options=tf.Sesv2ConfigurationSetDeliveryOptions(tls_policy="REQUIRE"),
            reputation_options=tf.Sesv2ConfigurationSetReputationOptions(reputation_metrics_enabled=True),
        )
        self.topic = tf.SnsTopic(self, "topic", name=naming.name("ses-events"))
        tf.Sesv2ConfigurationSetEventDestination(
            self,
            "events",
            configuration_set_name=configuration_set.configuration_set_name,
            event_destination_name="sns",
            event_destination=tf.Sesv2ConfigurationSetEventDestinationEventDestination(
                enabled=True,
                matching_event_types=list(EVENT_TYPES),
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
        tf.SqsQueuePolicy(
            self,
            "feedback-policy",
            queue_url=queue.url,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "OnlySesEventsTopic",
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue.arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": self.topic.arn}},
                        }
                    ],
                },
                sort_keys=True,
            ),
        )
        tf.SnsTopicSubscription(self, "feedback-subscription", topic_arn=self.topic.arn, protocol="sqs", endpoint=queue.arn)
        if config.route53_zone_id:
            self._dns(identity, config)

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
        """ses:SendEmail (SES v2) from the identity, through the configuration set, and no other."""
        grantee.add_to_policy(Statement(("ses:SendEmail",), (self.identity_arn, self.configuration_set_arn)))
