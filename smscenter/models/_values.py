"""The values a :class:`~smscenter.models.Message` carries besides text: a send window
(:class:`SendWindow`) and file attachments (:class:`Attachment`)."""

from __future__ import annotations

import attrs

from smscenter.exceptions import ValidationError

__all__ = ("Attachment", "SendWindow")


@attrs.frozen
class SendWindow:
    """Send only between two hours of the day (send.php ``time=h1-h2``).

    Before ``start_hour`` the message waits until it; inside the window it goes now; after
    ``end_hour`` it goes the next day at ``start_hour`` (night-time protection).
    """

    start_hour: int = attrs.field(validator=[attrs.validators.ge(0), attrs.validators.le(24)])
    end_hour: int = attrs.field(validator=[attrs.validators.ge(0), attrs.validators.le(24)])

    def __attrs_post_init__(self) -> None:
        if self.start_hour >= self.end_hour:
            raise ValidationError(
                f"SendWindow start_hour ({self.start_hour}) must be before "
                f"end_hour ({self.end_hour})"
            )


@attrs.frozen
class Attachment:
    """A file sent with an MMS, e-mail, Viber message or voice call (multipart upload)."""

    filename: str = attrs.field(validator=attrs.validators.min_len(1))
    content: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    content_type: str = "application/octet-stream"
