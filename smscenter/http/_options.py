"""The one place :class:`~smscenter.options.SendOptions` become send.php form fields.

Parameter names and forms follow https://smscentre.com/api/http/send/sms/ (``period`` in hours,
``freq`` in minutes, ``param=<wait>,<interval>,<attempts>``) and the provider's "Various" page
for ``imgcode`` / ``userip``.
"""

from __future__ import annotations

from smscenter.options import SendOptions

__all__ = ("option_params", "with_viber_button")


def option_params(options: SendOptions | None) -> list[tuple[str, str]]:
    """The form fields for ``options`` (none for ``None``)."""
    if options is None:
        return []
    params: list[tuple[str, str]] = []
    if options.spread is not None:
        params.append(("period", options.spread.period_hours))
        params.append(("freq", str(options.spread.every_minutes)))
    if options.file_url is not None:
        params.append(("fileurl", options.file_url))
    if options.captcha_code is not None:
        params.append(("imgcode", options.captcha_code))
    if options.user_ip is not None:
        params.append(("userip", options.user_ip))
    if options.report_failed:
        params.append(("err", "1"))
    if options.partner_id is not None:
        params.append(("pp", str(options.partner_id)))
    if options.call is not None:
        params.append(("param", options.call.wire))
    if options.reverify_days is not None:
        params.append(("smsreq", str(options.reverify_days)))
    return params


def with_viber_button(text: str, options: SendOptions | None) -> str:
    """``text`` with the Viber button macro on a line of its own, when there is a button."""
    if options is None or options.viber_button is None:
        return text
    return f"{text}\n{options.viber_button.macro}"
