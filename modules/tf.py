"""The one place that imports the CDK toolchain, constructs and the prebuilt AWS bindings.

Two toolchains give the same plans: the owner's CDKTF (``cdktf`` with ``cdktf-cdktf-provider-aws``,
the default) and its maintained fork CDK Terrain (``cdktn`` with ``cdktn-provider-aws``, selected with
``TOOLCHAIN=cdktn``; docs/toolchains.md). Both expose the same names, so this module takes them from
whichever ``modules.bindings`` selected, by module name: everything else imports them from here.
``bindings.prime()`` runs first so that only the submodules listed here are loaded.
"""

# ruff: noqa: E402
from __future__ import annotations

import importlib
from typing import Any

from modules import bindings

IMPORT_PATH = bindings.prime()

from constructs import Construct  # noqa: F401  (both toolchains use the constructs library)

_core = importlib.import_module(bindings.CORE)


def _aws(submodule: str, *names: str) -> Any:
    """The named classes of one submodule of the selected AWS bindings."""
    module = importlib.import_module(f"{bindings.PACKAGE}.{submodule}")
    found = tuple(getattr(module, name) for name in names)
    return found if len(found) > 1 else found[0]


(App, AssetType, Fn, LocalBackend, S3Backend, TerraformAsset, TerraformOutput, TerraformResourceLifecycle, TerraformStack, Token,) = (_core.App, _core.AssetType, _core.Fn, _core.LocalBackend, _core.S3Backend, _core.TerraformAsset, _core.TerraformOutput, _core.TerraformResourceLifecycle, _core.TerraformStack, _core.Token,)
CloudwatchLogGroup = _aws("cloudwatch_log_group", "CloudwatchLogGroup")
IamRole = _aws("iam_role", "IamRole")
IamRolePolicy = _aws("iam_role_policy", "IamRolePolicy")
(LambdaFunction, LambdaFunctionDeadLetterConfig, LambdaFunctionEnvironment, LambdaFunctionLoggingConfig, LambdaFunctionTracingConfig) = _aws("lambda_function", "LambdaFunction", "LambdaFunctionDeadLetterConfig", "LambdaFunctionEnvironment", "LambdaFunctionLoggingConfig", "LambdaFunctionTracingConfig")
(AwsProvider, AwsProviderDefaultTags) = _aws("provider", "AwsProvider", "AwsProviderDefaultTags")
S3Bucket = _aws("s3_bucket", "S3Bucket")
(S3BucketCorsConfiguration, S3BucketCorsConfigurationCorsRule) = _aws("s3_bucket_cors_configuration", "S3BucketCorsConfiguration", "S3BucketCorsConfigurationCorsRule")
(S3BucketLifecycleConfiguration, S3BucketLifecycleConfigurationRule, S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload, S3BucketLifecycleConfigurationRuleExpiration, S3BucketLifecycleConfigurationRuleFilter, S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration) = _aws("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfiguration", "S3BucketLifecycleConfigurationRule", "S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload", "S3BucketLifecycleConfigurationRuleExpiration", "S3BucketLifecycleConfigurationRuleFilter", "S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration")
(S3BucketNotification, S3BucketNotificationQueue) = _aws("s3_bucket_notification", "S3BucketNotification", "S3BucketNotificationQueue")
(S3BucketOwnershipControls, S3BucketOwnershipControlsRule) = _aws("s3_bucket_ownership_controls", "S3BucketOwnershipControls", "S3BucketOwnershipControlsRule")
S3BucketPolicy = _aws("s3_bucket_policy", "S3BucketPolicy")
S3BucketPublicAccessBlock = _aws("s3_bucket_public_access_block", "S3BucketPublicAccessBlock")
(S3BucketServerSideEncryptionConfigurationA, S3BucketServerSideEncryptionConfigurationRuleA, S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA) = _aws("s3_bucket_server_side_encryption_configuration", "S3BucketServerSideEncryptionConfigurationA", "S3BucketServerSideEncryptionConfigurationRuleA", "S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA")
(S3BucketVersioningA, S3BucketVersioningVersioningConfiguration) = _aws("s3_bucket_versioning", "S3BucketVersioningA", "S3BucketVersioningVersioningConfiguration")
SqsQueue = _aws("sqs_queue", "SqsQueue")
(Apigatewayv2Api, Apigatewayv2ApiCorsConfiguration) = _aws("apigatewayv2_api", "Apigatewayv2Api", "Apigatewayv2ApiCorsConfiguration")
(Apigatewayv2Authorizer, Apigatewayv2AuthorizerJwtConfiguration) = _aws("apigatewayv2_authorizer", "Apigatewayv2Authorizer", "Apigatewayv2AuthorizerJwtConfiguration")
Apigatewayv2Integration = _aws("apigatewayv2_integration", "Apigatewayv2Integration")
Apigatewayv2Route = _aws("apigatewayv2_route", "Apigatewayv2Route")
(Apigatewayv2Stage, Apigatewayv2StageAccessLogSettings, Apigatewayv2StageDefaultRouteSettings, Apigatewayv2StageRouteSettings) = _aws("apigatewayv2_stage", "Apigatewayv2Stage", "Apigatewayv2StageAccessLogSettings", "Apigatewayv2StageDefaultRouteSettings", "Apigatewayv2StageRouteSettings")
(BudgetsBudget, BudgetsBudgetCostFilter, BudgetsBudgetNotification) = _aws("budgets_budget", "BudgetsBudget", "BudgetsBudgetCostFilter", "BudgetsBudgetNotification")
CeAnomalyMonitor = _aws("ce_anomaly_monitor", "CeAnomalyMonitor")
(CeAnomalySubscription, CeAnomalySubscriptionSubscriber, CeAnomalySubscriptionThresholdExpression, CeAnomalySubscriptionThresholdExpressionDimension) = _aws("ce_anomaly_subscription", "CeAnomalySubscription", "CeAnomalySubscriptionSubscriber", "CeAnomalySubscriptionThresholdExpression", "CeAnomalySubscriptionThresholdExpressionDimension")
CloudwatchDashboard = _aws("cloudwatch_dashboard", "CloudwatchDashboard")
(CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery, CloudwatchMetricAlarmMetricQueryMetric) = _aws("cloudwatch_metric_alarm", "CloudwatchMetricAlarm", "CloudwatchMetricAlarmMetricQuery", "CloudwatchMetricAlarmMetricQueryMetric")
(CognitoUserPool, CognitoUserPoolAccountRecoverySetting, CognitoUserPoolAccountRecoverySettingRecoveryMechanism, CognitoUserPoolAdminCreateUserConfig, CognitoUserPoolPasswordPolicy, CognitoUserPoolSoftwareTokenMfaConfiguration) = _aws("cognito_user_pool", "CognitoUserPool", "CognitoUserPoolAccountRecoverySetting", "CognitoUserPoolAccountRecoverySettingRecoveryMechanism", "CognitoUserPoolAdminCreateUserConfig", "CognitoUserPoolPasswordPolicy", "CognitoUserPoolSoftwareTokenMfaConfiguration")
(CognitoUserPoolClient, CognitoUserPoolClientTokenValidityUnits) = _aws("cognito_user_pool_client", "CognitoUserPoolClient", "CognitoUserPoolClientTokenValidityUnits")
DataAwsCallerIdentity = _aws("data_aws_caller_identity", "DataAwsCallerIdentity")
DataAwsSqsQueue = _aws("data_aws_sqs_queue", "DataAwsSqsQueue")
DataAwsSsmParameter = _aws("data_aws_ssm_parameter", "DataAwsSsmParameter")
(DynamodbTable, DynamodbTableAttribute, DynamodbTableGlobalSecondaryIndex, DynamodbTablePointInTimeRecovery, DynamodbTableServerSideEncryption) = _aws("dynamodb_table", "DynamodbTable", "DynamodbTableAttribute", "DynamodbTableGlobalSecondaryIndex", "DynamodbTablePointInTimeRecovery", "DynamodbTableServerSideEncryption")
(LambdaEventSourceMapping, LambdaEventSourceMappingScalingConfig) = _aws("lambda_event_source_mapping", "LambdaEventSourceMapping", "LambdaEventSourceMappingScalingConfig")
LambdaPermission = _aws("lambda_permission", "LambdaPermission")
Route53Record = _aws("route53_record", "Route53Record")
SecretsmanagerSecret = _aws("secretsmanager_secret", "SecretsmanagerSecret")
(Sesv2ConfigurationSet, Sesv2ConfigurationSetDeliveryOptions, Sesv2ConfigurationSetReputationOptions) = _aws("sesv2_configuration_set", "Sesv2ConfigurationSet", "Sesv2ConfigurationSetDeliveryOptions", "Sesv2ConfigurationSetReputationOptions")
(Sesv2ConfigurationSetEventDestination, Sesv2ConfigurationSetEventDestinationEventDestination, Sesv2ConfigurationSetEventDestinationEventDestinationSnsDestination) = _aws("sesv2_configuration_set_event_destination", "Sesv2ConfigurationSetEventDestination", "Sesv2ConfigurationSetEventDestinationEventDestination", "Sesv2ConfigurationSetEventDestinationEventDestinationSnsDestination")
Sesv2EmailIdentity = _aws("sesv2_email_identity", "Sesv2EmailIdentity")
SnsTopic = _aws("sns_topic", "SnsTopic")
SnsTopicPolicy = _aws("sns_topic_policy", "SnsTopicPolicy")
SnsTopicSubscription = _aws("sns_topic_subscription", "SnsTopicSubscription")
SqsQueuePolicy = _aws("sqs_queue_policy", "SqsQueuePolicy")
SqsQueueRedriveAllowPolicy = _aws("sqs_queue_redrive_allow_policy", "SqsQueueRedriveAllowPolicy")
