"""Project secrets at rest: sealed with Fernet (AES-128-CBC and HMAC-SHA256, from the vetted
`cryptography` package), so a copy of the database alone reveals no secret."""

from cryptography.fernet import Fernet, InvalidToken


class SecretUnreadable(ValueError):
    """The sealed value was not made with this key (another server's key, or tampered)."""


class SecretBox:
    """Seals and opens secret values with one key. Holds no other state."""

    def __init__(self, key: bytes) -> None:
        """Raise `ValueError` if `key` is not a Fernet key (32 url-safe base64-encoded bytes)."""
        self._fernet = Fernet(key)

    @staticmethod
    def new_key() -> bytes:
        return Fernet.generate_key()

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as error:
            raise SecretUnreadable("the value was sealed with another key") from error
