"""TLS material for one workshop: a small, short-lived CA and one key + certificate per party.

MPyC's `--ssl` mode reads, relative to the party's working directory,

    .config/party_{i}.crt   .config/party_{i}.key   .config/mpyc_ca.crt

and checks that the peer it connects to presents a certificate named `MPyC party {j}` signed by the
CA. Everything here is made fresh for every export with the `cryptography` package:

* the CA key is generated, used to sign the party certificates, and then thrown away (it is never
  written to disk), so nobody can issue another certificate for this workshop afterwards;
* every party gets its own EC P-256 key; a bundle receives only its own key plus the CA certificate;
* validity is short (default 14 days): a workshop CA is not meant to outlive the pilot run.

Rotating the CA therefore means: export again (new CA, new keys) and hand out the new bundles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "PartyCredentials",
    "WorkshopPKI",
    "ca_fingerprint",
    "check_party_files",
    "make_pki",
    "party_common_name",
]

DEFAULT_DAYS = 14
MAX_DAYS = 90


def party_common_name(i: int) -> str:
    """The certificate name MPyC expects for party i (it is the TLS server name it checks)."""
    return f"MPyC party {i}"


@dataclass(frozen=True)
class PartyCredentials:
    index: int
    key_pem: bytes
    cert_pem: bytes


@dataclass(frozen=True)
class WorkshopPKI:
    ca_cert_pem: bytes
    parties: list[PartyCredentials]
    workshop_id: str
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def fingerprint(self) -> str:
        return ca_fingerprint(self.ca_cert_pem)


def ca_fingerprint(cert_pem: bytes) -> str:
    """SHA-256 over the certificate's DER bytes, as `AB:CD:...` (what `openssl x509 -fingerprint -sha256` prints)."""
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[k:k + 2] for k in range(0, len(digest), 2))


def _name(common_name: str, workshop_id: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"MPC Trust Sandbox workshop {workshop_id}"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def make_pki(m: int, *, days: int = DEFAULT_DAYS, workshop_id: str | None = None) -> WorkshopPKI:
    """A fresh CA (its key is discarded on return) and credentials for parties 0..m-1."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"certificate validity must be 1 to {MAX_DAYS} days, not {days}")
    if m < 1:
        raise ValueError("at least one party is needed")
    workshop_id = workshop_id or secrets.token_hex(4)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    not_before, not_after = now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"MPC Trust Sandbox workshop CA {workshop_id}", workshop_id)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    parties = []
    for i in range(m):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(party_common_name(i), workshop_id))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        parties.append(PartyCredentials(
            index=i,
            key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()),
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        ))
    del ca_key  # never stored: no further certificates can be issued for this workshop
    return WorkshopPKI(ca_cert_pem=ca_cert.public_bytes(serialization.Encoding.PEM), parties=parties,
                       workshop_id=workshop_id, not_before=not_before, not_after=not_after)


def write_party_files(config_dir: Path, pki: WorkshopPKI, index: int) -> None:
    """Write ONLY party `index`'s key and certificate plus the CA certificate into `config_dir` (`.config/`)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    cred = pki.parties[index]
    key_path = config_dir / f"party_{index}.key"
    key_path.touch(mode=0o600, exist_ok=True)
    key_path.chmod(0o600)
    key_path.write_bytes(cred.key_pem)
    (config_dir / f"party_{index}.crt").write_bytes(cred.cert_pem)
    (config_dir / "mpyc_ca.crt").write_bytes(pki.ca_cert_pem)


def check_party_files(config_dir: Path, index: int, *, now: dt.datetime | None = None) -> str:
    """Check a bundle's TLS files before starting; return the CA fingerprint or raise ValueError.

    Checks: all three files present; the certificate is named `MPyC party {index}`, is signed by the
    CA in the bundle, is within its validity period, and belongs to the private key.
    """
    paths = {name: config_dir / name for name in (f"party_{index}.crt", f"party_{index}.key", "mpyc_ca.crt")}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ValueError(f"TLS file(s) missing from the bundle: {', '.join(missing)}")
    try:
        cert = x509.load_pem_x509_certificate(paths[f"party_{index}.crt"].read_bytes())
        ca = x509.load_pem_x509_certificate(paths["mpyc_ca.crt"].read_bytes())
        key = serialization.load_pem_private_key(paths[f"party_{index}.key"].read_bytes(), password=None)
    except ValueError as exc:
        raise ValueError(f"unreadable TLS file in {config_dir}: {exc}") from None
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [party_common_name(index)]:
        raise ValueError(f"certificate {paths[f'party_{index}.crt']} is named {names}, "
                         f"expected {party_common_name(index)!r} for party index {index}")
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, Exception) as exc:  # InvalidSignature has no message
        raise ValueError(f"certificate of party {index} is not signed by the CA in this bundle "
                         f"({type(exc).__name__}); the bundle mixes files from different exports") from None
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise ValueError(f"the key of party {index} does not belong to its certificate")
    now = now or dt.datetime.now(dt.UTC)
    for label, c in (("certificate", cert), ("CA certificate", ca)):
        if not c.not_valid_before_utc <= now <= c.not_valid_after_utc:
            raise ValueError(f"the {label} is valid from {c.not_valid_before_utc:%Y-%m-%d %H:%M} to "
                             f"{c.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not now: ask the workshop lead "
                             "for a fresh export")
    return ca_fingerprint(paths["mpyc_ca.crt"].read_bytes())
