"""Email over SMTP (STARTTLS or TLS, with login) for alerts and digests; standard library only."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from connector import clock
from connector.alerts.outcome import DeliveryFailed
from connector.config import SmtpSettings

MESSAGE_ID_DOMAIN = "engagement-connector"


def build_email(sender: str, to: str, subject: str, text: str, html: str, key: str) -> EmailMessage:
    """A multipart/alternative mail (plain text and HTML) whose Message-ID derives from the
    delivery key, so a mail system can recognise a repeat."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    msg["Message-ID"] = f"<{key[:40]}@{MESSAGE_ID_DOMAIN}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(f"<!doctype html><html><body>{html}</body></html>", subtype="html")
    return msg


def _context(smtp: SmtpSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(smtp.ca_bundle) if smtp.ca_bundle else None)


def send_email(smtp: SmtpSettings, msg: EmailMessage) -> None:
    """Send one mail; a refused address or a rejected login is permanent, the rest transient."""
    if not smtp.host:
        raise DeliveryFailed(
            "No mail server is configured. Fix: set alerts.smtp.host in the configuration.",
            permanent=True,
        )
    where = f"{smtp.host}:{smtp.port}"
    try:
        if smtp.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=_context(smtp)
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=_context(smtp))
            if smtp.username:
                password = smtp.password.get_secret_value() if smtp.password else ""
                client.login(smtp.username, password)
            client.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(
            f"{addr}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for addr, (code, text) in exc.recipients.items()
        )
        raise DeliveryFailed(
            f"The mail server {where} refused the recipient ({reasons}). Fix: correct the "
            "follower's email address (connector unfollow / follow, or alerts.yaml).",
            permanent=True,
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(
            f"The mail server {where} rejected the login ({exc.smtp_code}). Fix: check "
            "alerts.smtp.username and the password.",
            permanent=True,
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryFailed(
            f"The mail server {where} does not support what was asked ({exc}). Fix: check "
            "alerts.smtp.security (starttls, tls or none).",
            permanent=True,
        ) from None
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        raise DeliveryFailed(
            f"The mail server {where} answered {exc.smtp_code} {text}.",
            permanent=500 <= exc.smtp_code < 600,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(
            f"The mail server {where} could not be reached ({exc or type(exc).__name__}); "
            "the mail will be retried.",
            permanent=False,
        ) from None
