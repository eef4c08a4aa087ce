"""The simulator's newer HTTP calls, kept apart from :mod:`smscenter.testing._http_app`.

send.php's typed options (checked as the provider checks them: a value out of range is error 1,
a wrong captcha code error 10), templates.php, users.php (sub-clients) and the e-mail history of
get.php. Handlers take and return the same values as those in ``_http_app``, which registers
them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from smscenter.testing._state import SimError

if TYPE_CHECKING:
    from smscenter.testing._http_app import _Params

__all__ = ("CAPTCHA_CODE", "CAPTCHA_IMAGE", "check_send_options")

_PARAM_RE = re.compile(r"(\d+),(\d+),(\d+)")
#: The code the simulated captcha image always shows (``imgcode.php``).
CAPTCHA_CODE = "1234"
#: What imgcode.php answers: a 1x1 GIF (the provider draws the code; no login needed).
CAPTCHA_IMAGE = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def _number(params: _Params, key: str, low: float, high: float) -> float | None:
    raw = params.get(key).strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SimError(1, f"invalid {key}") from None
    if not low <= value <= high:
        raise SimError(1, f"invalid {key}")
    return value


def check_send_options(params: _Params) -> None:
    """Refuse the send.php / jobs.php options the provider would refuse (error 1, or 10 for a
    wrong captcha code)."""
    _number(params, "period", 0.1, 720)
    if _number(params, "freq", 1, 1440) is not None and not params.get("period"):
        raise SimError(1, "freq needs period")
    _number(params, "smsreq", 10, 999)
    url = params.get("fileurl").strip()
    if url and not url.lower().startswith(("http://", "https://")):
        raise SimError(1, "invalid fileurl")
    user_ip = params.get("userip").strip()
    if user_ip:
        try:
            ipaddress.ip_address(user_ip)
        except ValueError:
            raise SimError(1, "invalid userip") from None
    code = params.get("imgcode")
    if code and code != CAPTCHA_CODE:
        raise SimError(10, "invalid image code")
    partner = params.get("pp").strip()
    if partner and not partner.isdigit():
        raise SimError(1, "invalid pp")
    call = params.get("param").strip()
    if call:
        match = _PARAM_RE.fullmatch(call)
        if match is None:
            raise SimError(1, "invalid param")
        wait, interval, attempts = (int(g) for g in match.groups())
        if not (10 <= wait <= 35 and 10 <= interval <= 3600 and 1 <= attempts <= 9):
            raise SimError(1, "invalid param")
