"""APM provider credentials encrypted at rest: the portal's one set of keys (``wedsync_ops.crypto``).

Kept as the names the apm app has always used: ``encrypt_credentials``, ``decrypt_credentials``,
``rotate_token`` and ``CredentialsError``.
"""

from wedsync_ops.crypto import CredentialsError, rotate_token
from wedsync_ops.crypto import decrypt_json as decrypt_credentials
from wedsync_ops.crypto import encrypt_json as encrypt_credentials

__all__ = ["CredentialsError", "decrypt_credentials", "encrypt_credentials", "rotate_token"]
