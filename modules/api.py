"""HTTP API (API Gateway v2): routes to functions, Cognito JWT auth, CORS, throttling, access logs."""

from __future__ import annotations

import json
from dataclasses import dataclass

from modules import tf
from modules.config import AuthMode
from modules.function import PythonFunction
from modules.metrics import Metric
from modules.naming import Naming
from modules.routes import Routes, Throttle

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
        "user": "$context.authorizer.claims.sub",
    },
    sort_keys=True,
)
CORS_MAX_AGE = 3600  # seconds
TOKEN_VALIDITY_HOURS = 1  # hours, access and id tokens
REFRESH_VALIDITY_DAYS = 30  # days


@dataclass(frozen=True)
class ApiProps:
    cors_origins: tuple[str, ...]
    auth: AuthMode
    throttle_rate: int  # requests per second
    throttle_burst: int
    log_retention_days: int


class UserPool(tf.Construct):
    """Admin-created users only (no self sign-up); one public app client for the frontend."""

    def __init__(self, scope: tf.Construct, id: str, *, naming: Naming, protect: bool) -> None:
        super().__init__(scope, id)
        self.pool = tf.CognitoUserPool(
            self,
            "pool",
            name=naming.name("users"),
            admin_create_user_config=tf.CognitoUserPoolAdminCreateUserConfig(allow_admin_create_user_only=True),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=tf.CognitoUserPoolSoftwareTokenMfaConfiguration(enabled=True),
            password_policy=tf.CognitoUserPoolPasswordPolicy(
                minimum_length=12, require_lowercase=True, require_uppercase=True, require_numbers=True,
                require_symbols=True, temporary_password_validity_days=3,
            ),
            account_recovery_setting=tf.CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[
                    tf.CognitoUserPoolAccountRecoverySettingRecoveryMechanism(name="verified_email", priority=1)
                ]
            ),
            deletion_protection="ACTIVE" if protect else "INACTIVE",
        )
        self.client = tf.CognitoUserPoolClient(
            self,
            "client",
            name=naming.name("frontend"),
            user_pool_id=self.pool.id,
            generate_secret=False,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            access_token_validity=TOKEN_VALIDITY_HOURS,
            id_token_validity=TOKEN_VALIDITY_HOURS,
            refresh_token_validity=REFRESH_VALIDITY_DAYS,
            token_validity_units=[
                tf.CognitoUserPoolClientTokenValidityUnits(access_token="hours", id_token="hours", refresh_token="days")
            ],
        )


class HttpApi(tf.Construct):
    def __init__(self, scope: tf.Construct, id: str, *, props: ApiProps, naming: Naming, region: str,
                 user_pool: UserPool | None) -> None:
        super().__init__(scope, id)
        if props.auth == "cognito" and user_pool is None:
            raise ValueError("auth 'cognito' needs a user pool")
        self.props = props
        self.api_name = naming.name("api")
        self.api = tf.Apigatewayv2Api(
            self,
            "api",
            name=self.api_name,
            protocol_type="HTTP",
            cors_configuration=tf.Apigatewayv2ApiCorsConfiguration(
                allow_origins=list(props.cors_origins),
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["authorization", "content-type"],
                max_age=CORS_MAX_AGE,
            ),
        )
        self.api_id: str = self.api.id  # read once: each read is a jsii round trip
        self.access_logs = tf.CloudwatchLogGroup(
            self, "access-logs", name=f"/aws/apigateway/{self.api_name}", retention_in_days=props.log_retention_days
        )
        self.stage = tf.Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api_id,
            name="$default",
            auto_deploy=True,
            access_log_settings=tf.Apigatewayv2StageAccessLogSettings(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            default_route_settings=tf.Apigatewayv2StageDefaultRouteSettings(
                throttling_rate_limit=props.throttle_rate, throttling_burst_limit=props.throttle_burst
            ),
        )
        self.authorizer: tf.Apigatewayv2Authorizer | None = None
        if props.auth == "cognito" and user_pool is not None:
            self.authorizer = tf.Apigatewayv2Authorizer(
                self,
                "jwt",
                api_id=self.api_id,
                name="cognito",
                authorizer_type="JWT",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration=tf.Apigatewayv2AuthorizerJwtConfiguration(
                    issuer=f"https://cognito-idp.{region}.amazonaws.com/{user_pool.pool.id}",
                    audience=[user_pool.client.id],
                ),
            )
        self.authorizer_id: str | None = self.authorizer.id if self.authorizer is not None else None
        self._integrations: dict[str, str] = {}  # function short name -> integration id
        self.routes: dict[str, tuple[str, bool]] = {}  # route key -> (function short name, authorized)
        self._route_settings: list[tf.Apigatewayv2StageRouteSettings] = []
        self._throttled_routes: list[tf.Apigatewayv2Route] = []

    def _integration(self, function: PythonFunction) -> str:
        name = function.props.name
        if name not in self._integrations:
            self._integrations[name] = tf.Apigatewayv2Integration(
                self,
                f"integration-{name}",
                api_id=self.api_id,
                integration_type="AWS_PROXY",
                integration_uri=function.invoke_arn,
                payload_format_version="2.0",
            ).id
            # Connecting a function grants the invoke it needs, from this API only.
            function.allow_invoke_from(
                "apigateway.amazonaws.com", f"{self.api.execution_arn}/*/*", id=f"invoke-from-{self.api_name}"
            )
        return self._integrations[name]

    def add(self, routes: Routes, function: PythonFunction) -> None:
        """The routes of ``function`` as ``modules.routes`` declares them (public ones unauthorized, with their throttle)."""
        self.add_routes(function, *routes.keys, public=routes.public, throttle=routes.throttle)

    def add_routes(self, function: PythonFunction, *route_keys: str, public: bool = False,
                   throttle: Throttle | None = None) -> None:
        """Route ``"METHOD /path"`` keys to ``function``; authorized unless ``public``; with their own
        route-level ``throttle`` instead of the stage's default when given."""
        if throttle and (throttle.rate > self.props.throttle_rate or throttle.burst > self.props.throttle_burst):
            raise ValueError(f"{route_keys}: a route's throttle cannot exceed the stage's default")
        integration_id = self._integration(function)
        for route_key in route_keys:
            if route_key in self.routes:
                raise ValueError(f"route {route_key} is already mapped")
            authorized = self.authorizer_id is not None and not public
            route = tf.Apigatewayv2Route(
                self,
                f"route-{route_key}",
                api_id=self.api_id,
                route_key=route_key,
                target=f"integrations/{integration_id}",
                authorization_type="JWT" if authorized else "NONE",
                authorizer_id=self.authorizer_id if authorized else None,
            )
            self.routes[route_key] = (function.props.name, authorized)
            if throttle:
                self._route_settings.append(tf.Apigatewayv2StageRouteSettings(
                    route_key=route_key, throttling_rate_limit=throttle.rate, throttling_burst_limit=throttle.burst))
                self._throttled_routes.append(route)
        if throttle:
            # The stage names routes by key: they must exist before its settings (AWS refuses otherwise).
            self.stage.put_route_settings(self._route_settings)
            self.stage.depends_on = [f"{r.terraform_resource_type}.{r.friendly_unique_id}" for r in self._throttled_routes]

    @property
    def url(self) -> str:
        return self.stage.invoke_url

    def metric(self, name: str, statistic: str = "Sum") -> Metric:
        return Metric("AWS/ApiGateway", name, {"ApiId": self.api_id, "Stage": "$default"}, statistic)

    def metric_server_errors(self) -> Metric:
        return self.metric("5xx")

    def metric_latency(self) -> Metric:
        return self.metric("Latency", "p90")
