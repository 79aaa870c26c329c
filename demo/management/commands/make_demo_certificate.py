"""A self-signed demo certificate and key for the PAdES signature of stored letters.

`make run` creates them (once) and points PDF_SIGNING_CERT / PDF_SIGNING_KEY at them, so the
demo's signed letters carry a digital signature. It is a demo: readers will not trust it (it
is self-signed), and a bureau uses the certificate its CA issued to the unit instead.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

CERT_NAME = "demo-signing-cert.pem"
KEY_NAME = "demo-signing-key.pem"
DEFAULT_NAME = "晋城市工业和信息化局（演示证书）"


def default_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / (
        "deputy-suggestions/demo-signing"
    )


def make_certificate(out: Path, *, common_name: str = DEFAULT_NAME, passphrase: str = "",
                     days: int = 5 * 365) -> tuple[Path, Path]:
    """Write a new RSA key and a self-signed certificate for document signing to ``out``.

    RSA rather than ECDSA: pyHanko declares an ECDSA signature as PDF 2.0 (ISO 32002), which
    a PDF/A-3 letter may not be."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning (RFC 9336)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "人大代表建议办理系统（演示）"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    out.mkdir(parents=True, exist_ok=True)
    encryption = (serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
                  else serialization.NoEncryption())
    key_path, cert_path = out / KEY_NAME, out / CERT_NAME
    key_path.touch(mode=0o600, exist_ok=True)
    key_path.chmod(0o600)
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


class Command(BaseCommand):
    help = ("Create a self-signed demo certificate and key for the digital (PAdES) signature of "
            "signed letters, unless they exist; print the settings that use them.")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(default_dir()),
                            help="directory for the files (default: %(default)s)")
        parser.add_argument("--common-name", default=DEFAULT_NAME)
        parser.add_argument("--passphrase", default="", help="encrypt the key with it")
        parser.add_argument("--force", action="store_true", help="replace existing files")

    def handle(self, *args, out: str, common_name: str, passphrase: str, force: bool, **options):
        directory = Path(out).expanduser()
        cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
        if force or not (cert_path.is_file() and key_path.is_file()):
            try:
                cert_path, key_path = make_certificate(
                    directory, common_name=common_name, passphrase=passphrase)
            except OSError as error:
                raise CommandError(f"Cannot write the demo certificate in {directory}: {error}") from error
            self.stdout.write(f"Demo signing certificate created in {directory}")
        else:
            self.stdout.write(f"Demo signing certificate kept: {directory}")
        self.stdout.write(f"PDF_SIGNING_CERT={cert_path}")
        self.stdout.write(f"PDF_SIGNING_KEY={key_path}")
