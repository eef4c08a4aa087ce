"""The provider's HTTP API without I/O: arguments in, form fields out; fmt=3 JSON in, models out.

Every provider parameter name (``phones``, ``mes``, ``psw``...) lives in this package's sans-IO
modules and nowhere else. The client (:mod:`smscenter.http.client`) only moves :class:`Request`
values over the wire and hands the decoded JSON back to the ``parse_*`` functions, so all of
this is testable without a socket. This module is the one namespace the client and its call
helpers read it through (``proto.send_request``, ``proto.parse_send``); the concepts live in:

* :mod:`smscenter.http._request`: the :class:`Request` value and the encoding of model values
  (times, validity, dates, message options) into form fields;
* :mod:`smscenter.http._builders`: one request builder per core script;
* :mod:`smscenter.http._answer`: error answers to typed exceptions, and the value decoders;
* :mod:`smscenter.http._parsers`: one answer decoder per core script.

The account, mailing and other scripts have their own ``*_protocol`` modules beside these.

Sources: the provider's HTTP API pages (https://smscentre.com/api/http/: send.php, status.php,
get.php, info.php, receive_phones, wait_call, downloads) and its official client libraries
(``cost=3``, format flags, ``time`` forms).
"""

from __future__ import annotations

from smscenter.http._answer import (
    ERRORS_BY_COMMAND,
    check_answer,
    error_class,
    error_from_answer,
    parse_int,
    parse_local,
    parse_money,
    parse_timestamp,
)
from smscenter.http._builders import (
    balance_request,
    buy_number_request,
    delete_request,
    download_file_request,
    downloads_request,
    history_request,
    incoming_request,
    list_send_request,
    megafon_accounts_request,
    operator_request,
    prices_request,
    receive_numbers_request,
    send_request,
    set_number_renewal_request,
    statistics_request,
    status_many_request,
    status_request,
    wait_call_request,
)
from smscenter.http._parsers import (
    parse_balance,
    parse_bought_number,
    parse_cost,
    parse_created_id,
    parse_done,
    parse_downloads,
    parse_history,
    parse_incoming,
    parse_megafon_accounts,
    parse_ok,
    parse_operator,
    parse_prices,
    parse_receive_numbers,
    parse_recipients,
    parse_report,
    parse_send,
    parse_statistics,
    parse_status_many,
    parse_wait_call,
)
from smscenter.http._request import (
    COMMON_PARAMS,
    SECRET_PARAMS,
    Request,
    encode_date,
    encode_time,
    encode_validity,
    message_options,
    wire_text,
)

__all__ = (
    "COMMON_PARAMS",
    "ERRORS_BY_COMMAND",
    "Request",
    "SECRET_PARAMS",
    "balance_request",
    "buy_number_request",
    "check_answer",
    "delete_request",
    "download_file_request",
    "downloads_request",
    "encode_date",
    "encode_time",
    "encode_validity",
    "error_class",
    "error_from_answer",
    "history_request",
    "incoming_request",
    "list_send_request",
    "megafon_accounts_request",
    "message_options",
    "operator_request",
    "parse_balance",
    "parse_bought_number",
    "parse_cost",
    "parse_created_id",
    "parse_done",
    "parse_downloads",
    "parse_history",
    "parse_incoming",
    "parse_int",
    "parse_local",
    "parse_megafon_accounts",
    "parse_money",
    "parse_ok",
    "parse_operator",
    "parse_prices",
    "parse_receive_numbers",
    "parse_recipients",
    "parse_report",
    "parse_send",
    "parse_statistics",
    "parse_status_many",
    "parse_timestamp",
    "parse_wait_call",
    "prices_request",
    "receive_numbers_request",
    "send_request",
    "set_number_renewal_request",
    "statistics_request",
    "status_many_request",
    "status_request",
    "wait_call_request",
    "wire_text",
)
