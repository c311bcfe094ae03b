"""Key material kept beside the org file: a local CA, the server's certificate, a JWT key pair.

Created on first start and reused afterwards, so a client that trusts the CA once keeps
trusting the sandbox across restarts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from connector import clock

VALID_DAYS = 3650


@dataclass(frozen=True)
class TlsFiles:
    """The CA certificate clients trust, and the server's certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class JwtKeys:
    """A key pair for the JWT bearer flow: clients sign with the key, the sandbox verifies."""

    private_key_file: Path
    cert_file: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Engagement Connector Sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _load_key(path: Path) -> Any:
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _new_ca(
    files: TlsFiles, ca_key_file: Path
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    now = clock.now() - timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Engagement Connector Sandbox CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(ca_key_file, ca_key)
    return ca_key, ca_cert


def _alt_names(hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _covers(cert_file: Path, hosts: tuple[str, ...]) -> bool:
    """Whether the server certificate names every host (and is not about to expire)."""
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    try:
        present = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    fresh = cert.not_valid_after_utc > clock.now() + timedelta(days=1)
    return fresh and all(name in present for name in _alt_names(hosts))


def ensure_tls(directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> TlsFiles:
    """The sandbox's CA and server certificate in `directory`, created when missing.

    The CA is kept across starts (clients trust it once); the server certificate is issued
    again from it when it does not name every one of `hosts`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(
        directory / "sandbox-ca.pem", directory / "sandbox-cert.pem", directory / "sandbox-key.pem"
    )
    ca_key_file = directory / "sandbox-ca-key.pem"
    have_server = files.cert_file.exists() and files.key_file.exists()
    if files.ca_file.exists() and have_server and _covers(files.cert_file, hosts):
        return files
    if files.ca_file.exists() and ca_key_file.exists():
        ca_key = _load_key(ca_key_file)
        ca_cert = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    else:
        ca_key, ca_cert = _new_ca(files, ca_key_file)
    now = clock.now() - timedelta(days=1)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(files.key_file, key)
    return files


def ensure_jwt_keys(directory: Path) -> JwtKeys:
    """An RSA key pair and self-signed certificate for JWT bearer logins, created when missing."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = JwtKeys(directory / "jwt-private-key.pem", directory / "jwt-cert.pem")
    if keys.private_key_file.exists() and keys.cert_file.exists():
        return keys
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name("Engagement Connector Sandbox JWT")
    now = clock.now() - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .sign(key, hashes.SHA256())
    )
    _write_key(keys.private_key_file, key)
    keys.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return keys
