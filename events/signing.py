"""Per-event Ed25519 key pairs (cryptography): tickets are signed so offline gates can verify them."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat


def generate_keypair() -> tuple[bytes, bytes]:
    """Return (private, public) as 32 raw bytes each."""
    private_key = Ed25519PrivateKey.generate()
    private_bytes = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public_bytes = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private_bytes, public_bytes


def sign(private_bytes: bytes, message: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(bytes(private_bytes)).sign(message)


def is_valid_signature(public_bytes: bytes, message: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_bytes)).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
