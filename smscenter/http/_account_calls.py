""":class:`HTTPClient` calls about the account's own data, kept out of the transport module.

:class:`AccountCalls` is a base class of :class:`~smscenter.http.client.HTTPClient` (the one
public entry): sender names (senders.php), the address book (phones.php), message templates
(templates.php), sub-clients (users.php), the e-mail history (get.php) and the captcha image URL
(imgcode.php). The form fields and answers are in :mod:`smscenter.http._account_protocol`.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from datetime import tzinfo

    from smscenter.http._protocol import Request

__all__ = ("AccountCalls",)


class AccountCalls:
    """senders.php, phones.php, templates.php, users.php and the e-mail history."""

    __slots__ = ()

    if TYPE_CHECKING:
        _account_tz: tzinfo
        _base_url: httpx.URL

        async def _call(self, request: Request) -> Any: ...

    # -- captcha ----------------------------------------------------------------------------

    def captcha_url(self) -> str:
        """The address of a fresh captcha image (imgcode.php) to show on a web form.

        Pass the code the visitor typed, with their IP address, as
        ``SendOptions(captcha_code=..., user_ip=...)``; a wrong code is refused with
        :class:`~smscenter.VerificationCodeError` (error 10). The random query keeps browsers
        from showing a cached image (https://smscentre.com/api/http/, "Various").
        """
        base = self._base_url
        url = base.copy_with(path=base.path.rstrip("/") + "/sys/imgcode.php")
        return f"{url}?{secrets.randbelow(10**9)}"
