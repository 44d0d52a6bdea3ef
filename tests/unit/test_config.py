"""Settings fail fast with one line that names the variable."""

from __future__ import annotations

import pytest

from config import DEFAULT_OPENID_METADATA_URL, Settings, SettingsError, load_settings

GUID = "6a7e5f9c-0b1d-4e2a-9c3f-5b8d7e6a4c21"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in list(Settings.model_fields):
        monkeypatch.delenv(name, raising=False)
    for name in ("PORT", "HOST", "STORAGE", "COSMOS_ENDPOINT", "MicrosoftAppId", "MicrosoftAppPassword", "API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]  # no .env here


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("STORAGE", "mongo", "STORAGE: Input should be 'sqlite' or 'cosmos'"),
        ("PORT", "abc", "PORT: Input should be a valid integer"),
        ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
        ("SCHEDULER_INTERVAL_S", "-5", "SCHEDULER_INTERVAL_S"),
        ("ALLOWED_TENANTS", "contoso", "ALLOWED_TENANTS: expected comma-separated Entra GUIDs"),
        ("MicrosoftAppId", "not-a-guid", "MicrosoftAppId: expected a GUID"),
        ("PUBLIC_HOSTNAME", "https://x.com/", "PUBLIC_HOSTNAME: expected a host name"),
        ("ALLOW_CLOCK_OVERRIDE", "maybe", "ALLOW_CLOCK_OVERRIDE"),
        ("BOT_OPENID_METADATA_URL", "login.botframework.com/v1", "BOT_OPENID_METADATA_URL: expected an http(s) URL"),
        ("BOT_OPENID_METADATA_URL", "ftp://keys.example/openid", "BOT_OPENID_METADATA_URL: expected an http(s) URL"),
        ("BOT_OPENID_METADATA_URL", "https:///no-host", "BOT_OPENID_METADATA_URL: expected an http(s) URL"),
    ],
)
def test_bad_value_stops_start_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_cosmos_needs_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE", "cosmos")
    with pytest.raises(SettingsError, match="COSMOS_ENDPOINT is required when STORAGE=cosmos"):
        load_settings()


def test_secrets_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", GUID)
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppPassword", "s3cret-value")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "MicrosoftAppTenantId" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    monkeypatch.setenv("MicrosoftAppTenantId", GUID)
    assert "s3cret" not in repr(load_settings())


def test_defaults_listen_on_loopback_in_anonymous_mode() -> None:
    settings = load_settings()
    assert settings.anonymous and settings.listen_host == "127.0.0.1"
    assert settings.port == 3978 and settings.storage == "sqlite"
    assert settings.allowed_tenants == frozenset() and settings.tenant_allowed("any")


def test_with_credentials_listens_on_all_interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", GUID)
    monkeypatch.setenv("MicrosoftAppPassword", "x")
    assert load_settings().listen_host == "0.0.0.0"


def test_lists_are_comma_separated_and_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_TENANTS", f" {GUID.upper()} , ")
    monkeypatch.setenv("ADMIN_USERS", GUID)
    settings = load_settings()
    assert settings.tenant_allowed(GUID) and not settings.tenant_allowed("8f0c2b7e-4a51-4c1e-9d3a-2b6f7e1c0a11")
    assert settings.is_admin(GUID.upper()) and not settings.is_admin(None)


def test_signing_keys_come_from_the_public_cloud_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().bot_openid_metadata_url == DEFAULT_OPENID_METADATA_URL
    assert DEFAULT_OPENID_METADATA_URL == "https://login.botframework.com/v1/.well-known/openidconfiguration"
    sovereign = "https://login.botframework.azure.us/v1/.well-known/openidconfiguration"
    monkeypatch.setenv("BOT_OPENID_METADATA_URL", sovereign)
    assert load_settings().bot_openid_metadata_url == sovereign
