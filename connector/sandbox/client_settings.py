"""Connector settings that point at a running sandbox (for the demo and tests)."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from connector.config import Settings, settings_from_data


class SandboxEndpoint(Protocol):
    """What a running sandbox tells a client: where it is and how to log in."""

    instance_url: str
    ca_file: Any
    private_key_file: Any

    @property
    def username(self) -> str: ...
    @property
    def password(self) -> str: ...
    @property
    def security_token(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...


def salesforce_section(
    sandbox: SandboxEndpoint,
    auth: Literal["jwt", "client_credentials", "password", "password_soap"] = "password",
) -> dict[str, Any]:
    """The `salesforce:` section for a sandbox, by auth flow (`password_soap`: no client id)."""
    section: dict[str, Any] = {
        "login_url": sandbox.instance_url,
        "ca_bundle": str(sandbox.ca_file),
        "auth": "password" if auth == "password_soap" else auth,
    }
    if auth != "password_soap":
        section["client_id"] = sandbox.client_id
    if auth in ("client_credentials", "password"):
        section["client_secret"] = sandbox.client_secret
    if auth in ("jwt", "password", "password_soap"):
        section["username"] = sandbox.username
    if auth in ("password", "password_soap"):
        section["password"] = sandbox.password
        section["security_token"] = sandbox.security_token
    if auth == "jwt":
        section["private_key_file"] = str(sandbox.private_key_file)
    return section


def settings_for(sandbox: SandboxEndpoint, *, auth: Literal[
        "jwt", "client_credentials", "password", "password_soap"] = "password",
        **sections: Any) -> Settings:
    """Full Settings for a sandbox; extra top-level sections (store, source, …) as keyword
    arguments, and `salesforce_extra` merged into the salesforce section."""
    salesforce = salesforce_section(sandbox, auth)
    salesforce.update(sections.pop("salesforce_extra", {}))
    return settings_from_data({"salesforce": salesforce, **sections}, None, env={})
