"""What the mailer is made of: its tables and functions (SPEC §4), as data."""

from __future__ import annotations

from modules.function import FunctionProps
from modules.tables import Index, TableProps

# Powertools for AWS Lambda comes from its public layer, resolved from the public SSM parameter
# of exactly this version, which must equal the version Pipfile.lock installs for the tests
# (tests/test_catalog.py checks it).
POWERTOOLS_VERSION = "3.37.0"
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/arm64/python3.13/{POWERTOOLS_VERSION}"

# Pure-Python libraries the functions need that neither the runtime nor the Powertools layer has;
# copied into the archive from the locked environment. (email_validator imports dnspython only for
# deliverability checks, which import never does: no DNS at import time.)
VENDORED: tuple[str, ...] = ("email_validator", "idna")

# Order matters only for reading; main.py unpacks them by position.
TABLES: tuple[TableProps, ...] = (
    TableProps(
        name="leads",
        partition_key="id",
        indexes=(Index("email-index", "email"), Index("status-index", "status", "createdAt")),
    ),
    TableProps(name="campaigns", partition_key="id"),
    TableProps(name="templates", partition_key="id"),
    TableProps(name="logs", partition_key="campaignId", sort_key="timestamp", indexes=(Index("lead-index", "leadId", "timestamp"),)),
    TableProps(name="metrics", partition_key="campaignId", sort_key="date"),
    TableProps(name="settings", partition_key="key"),
    # Our addition (SPEC §4 allows one where a feature needs it): one item per lead of a campaign's
    # audience snapshot, whose conditional claim makes each (campaign, lead) reach SES at most once.
    # open-index is sparse: only recipients not yet sent, skipped or failed carry openCampaign, so
    # releasing and the completion check read what is left, not the whole audience.
    TableProps(name="recipients", partition_key="campaignId", sort_key="leadId",
               indexes=(Index("open-index", "openCampaign", "leadId"),)),
    # Our addition: addresses that bounced, complained or unsubscribed, keyed by the lead id of the
    # address (a fixed hash of the normalized e-mail), so an opt-out outlives the lead record.
    TableProps(name="suppression", partition_key="id"),
    # Our addition: import and export jobs (services/transfers.py), one item each, listed newest first.
    TableProps(name="jobs", partition_key="id", indexes=(Index("kind-index", "kind", "createdAt"),)),
)

FUNCTIONS: tuple[FunctionProps, ...] = (
    FunctionProps("send-email", "handlers.send_email.handler", timeout=30, memory=256, reserved_concurrency=5,
                  description="Sends one campaign e-mail per SQS message through SES"),
    FunctionProps("verify-email", "handlers.verify_email.handler", timeout=15, memory=256, reserved_concurrency=3,
                  description="Verifies lead addresses with MyEmailVerifier"),
    FunctionProps("process-feedback", "handlers.process_feedback.handler", timeout=10, memory=128,
                  reserved_concurrency=10, description="Applies SES bounces, complaints and events"),
    # Behind the HTTP API, whose integrations time out at 30 s (fixed by AWS): 29 s at most (rule api-timeout).
    FunctionProps("lead-import", "handlers.lead_import.handler", timeout=29, memory=512, reserved_concurrency=2,
                  description="Imports small CSV or JSON files at once; creates import and export jobs"),
    # Moves a job on in 1 MiB blocks until 30 s are left, then queues "go on" for the next invocation.
    FunctionProps("transfer-worker", "handlers.transfer_worker.handler", timeout=120, memory=512, reserved_concurrency=2,
                  description="Runs import and export jobs: uploads from S3 into leads, CSV exports into S3"),
    FunctionProps("api-leads", "handlers.api_leads.handler", timeout=10, memory=256, reserved_concurrency=10,
                  description="Leads API"),
    # The public /unsubscribe on its own: a flood of it cannot use the authenticated routes' capacity.
    FunctionProps("api-unsubscribe", "handlers.api_unsubscribe.handler", timeout=10, memory=256, reserved_concurrency=3,
                  description="Public one-click unsubscribe (RFC 8058) and its confirmation page"),
    FunctionProps("api-campaigns", "handlers.api_campaigns.handler", timeout=10, memory=256, reserved_concurrency=10,
                  description="Campaigns and templates API"),
    FunctionProps("api-metrics", "handlers.api_metrics.handler", timeout=10, memory=256, reserved_concurrency=10,
                  description="Health check and campaign metrics API"),
)
