"""Settings: every environment variable PilotGate reads, validated once at start.

Nothing else in the code reads ``os.environ``; the validated ``Settings`` object is passed down.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ENTRA_ID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12,16}$")  # lower-cased before the check
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"
)

CsvSet = Annotated[frozenset[str], NoDecode]

MIN_REPORT_LINK_SECRET = 32  # characters; signs report links with HMAC-SHA256

# Where the Bot Framework channel publishes its token-signing keys (public cloud); sovereign clouds have their own.
DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """PilotGate configuration (see README, "Configuration")."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    port: int = Field(3978, ge=1, le=65535, validation_alias=_env("PORT"))
    host: str | None = Field(None, validation_alias=_env("HOST"))
    storage: Literal["sqlite", "cosmos"] = Field("sqlite", validation_alias=_env("STORAGE"))
    sqlite_path: Path = Field(Path("./data/pilotgate.db"), validation_alias=_env("SQLITE_PATH"))
    cosmos_endpoint: str | None = Field(None, validation_alias=_env("COSMOS_ENDPOINT"))
    cosmos_key: str | None = Field(None, validation_alias=_env("COSMOS_KEY"), repr=False)
    cosmos_database: str = Field("pilotgate", min_length=1, validation_alias=_env("COSMOS_DATABASE"))
    app_id: str = Field("", validation_alias=_env("MicrosoftAppId"))
    app_password: str = Field("", validation_alias=_env("MicrosoftAppPassword"), repr=False)
    app_type: Literal["", "SingleTenant", "MultiTenant", "UserAssignedMSI"] = Field(
        "", validation_alias=_env("MicrosoftAppType")
    )
    app_tenant_id: str = Field("", validation_alias=_env("MicrosoftAppTenantId"))
    allowed_tenants: CsvSet = Field(frozenset(), validation_alias=_env("ALLOWED_TENANTS"))
    admin_users: CsvSet = Field(frozenset(), validation_alias=_env("ADMIN_USERS"))
    api_token: str = Field("", validation_alias=_env("API_TOKEN"), repr=False)
    scheduler_interval_s: float = Field(60, ge=0, validation_alias=_env("SCHEDULER_INTERVAL_S"))
    allow_clock_override: bool = Field(False, validation_alias=_env("ALLOW_CLOCK_OVERRIDE"))
    public_hostname: str = Field("", validation_alias=_env("PUBLIC_HOSTNAME"))
    bot_openid_metadata_url: str = Field(DEFAULT_OPENID_METADATA_URL, validation_alias=_env("BOT_OPENID_METADATA_URL"))
    report_link_secret: str = Field("", validation_alias=_env("REPORT_LINK_SECRET"), repr=False)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", validation_alias=_env("LOG_LEVEL"))

    @field_validator("allowed_tenants", "admin_users", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip().lower() for part in value.split(",") if part.strip())
        return value

    @field_validator("allowed_tenants", "admin_users")
    @classmethod
    def _ids_only(cls, value: frozenset[str]) -> frozenset[str]:
        # Entra ids are GUIDs; the Agents Playground's are GUID-like with a longer last group, so accept hex ids.
        bad = sorted(v for v in value if not _ENTRA_ID.match(v))
        if bad:
            raise ValueError(f"expected comma-separated Entra GUIDs; {bad[0]!r} is not one")
        return value

    @field_validator("cosmos_endpoint")
    @classmethod
    def _endpoint_is_url(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected a URL such as https://myaccount.documents.azure.com:443/")
        return value or None

    @field_validator("app_id", "app_tenant_id")
    @classmethod
    def _guid_or_empty(cls, value: str) -> str:
        if value and not _GUID.match(value):
            raise ValueError("expected a GUID (the Entra app/tenant id)")
        return value

    @field_validator("public_hostname")
    @classmethod
    def _hostname_or_empty(cls, value: str) -> str:
        if value and not _HOSTNAME.match(value):
            raise ValueError("expected a host name such as pilotgate.contoso.com (no scheme, no path)")
        return value.lower()

    @field_validator("report_link_secret")
    @classmethod
    def _long_enough_secret(cls, value: str) -> str:
        if value and len(value) < MIN_REPORT_LINK_SECRET:
            raise ValueError(
                f"use at least {MIN_REPORT_LINK_SECRET} characters (e.g. the output of 'openssl rand -hex 32'), "
                "or leave it empty to turn report links off"
            )
        return value

    @field_validator("bot_openid_metadata_url")
    @classmethod
    def _metadata_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError(f"expected an http(s) URL such as {DEFAULT_OPENID_METADATA_URL}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.storage == "cosmos" and not self.cosmos_endpoint:
            raise ValueError("COSMOS_ENDPOINT is required when STORAGE=cosmos")
        if self.app_id and self.app_type == "SingleTenant" and not self.app_tenant_id:
            raise ValueError("MicrosoftAppTenantId is required when MicrosoftAppType=SingleTenant")
        if self.app_id and self.app_type in ("", "SingleTenant", "MultiTenant") and not self.app_password:
            raise ValueError("MicrosoftAppPassword is required when MicrosoftAppId is set (or use UserAssignedMSI)")
        return self

    @property
    def anonymous(self) -> bool:
        """Local anonymous mode: no Bot Framework credentials (playground and tests only)."""
        return not self.app_id

    @property
    def listen_host(self) -> str:
        # Anonymous mode never listens beyond loopback unless HOST says so explicitly.
        if self.host:
            return self.host
        return "127.0.0.1" if self.anonymous else "0.0.0.0"  # noqa: S104

    def is_admin(self, aad_object_id: str | None) -> bool:
        return aad_object_id is not None and aad_object_id.lower() in self.admin_users

    def tenant_allowed(self, tenant_id: str | None) -> bool:
        if not self.allowed_tenants:
            return True
        return tenant_id is not None and tenant_id.lower() in self.allowed_tenants


_ENV_NAMES = {
    name: (field.validation_alias.choices[0] if isinstance(field.validation_alias, AliasChoices) else name)
    for name, field in Settings.model_fields.items()
}


class SettingsError(Exception):
    """A configuration problem, phrased as one line that names the variable."""


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings; raise SettingsError with one clear line on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else ""
    variable = _ENV_NAMES.get(field, field)
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if not variable:
        return f"configuration error: {message}"
    given = error.get("input")
    # pydantic names a field by its environment alias: compare both, so no secret's value is ever echoed.
    secrets = {"cosmos_key", "app_password", "api_token", "report_link_secret"}
    secret = field in secrets or variable in {_ENV_NAMES[name] for name in secrets}
    shown = (
        "" if secret or isinstance(given, dict) or field in {"allowed_tenants", "admin_users"} else f" (got {given!r})"
    )
    return f"configuration error: {variable}: {message}{shown}"
