""":class:`HTTPClient` calls of the core scripts besides sending, kept out of the transport module.

:class:`CoreCalls` is a base class of :class:`~smscenter.http.client.HTTPClient`: statuses
(status.php), the balance, the history, incoming messages and statistics (get.php), prices and
operators (info.php), receive numbers (receive_phones), wait_call and the list of exports
(downloads.php). The form fields and answers are in :mod:`smscenter.http._builders` and
:mod:`smscenter.http._parsers`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from smscenter import exceptions as exc
from smscenter.http import _protocol as proto
from smscenter.http.records import (
    CallToConfirm,
    DownloadTask,
    MegafonAccount,
    OperatorInfo,
    PriceList,
    ReceiveNumber,
    StatisticsRow,
)
from smscenter.models import (
    Balance,
    DeliveryReport,
    IncomingMessage,
)

__all__ = ("CoreCalls",)


class CoreCalls:
    """status.php, balance.php, get.php, info.php, receive_phones, wait_call, downloads.php."""

    __slots__ = ()

    if TYPE_CHECKING:
        _account_tz: tzinfo

        async def _call(self, request: proto.Request) -> Any: ...

    # -- statuses ----------------------------------------------------------------------------

    async def status(self, message_id: str, phone: str, *, detail: int = 0) -> DeliveryReport:
        """The delivery status of one message (status.php).

        :param detail: 0 basic, 1 with text, cost and sender, 2 also country and operator.
            HLR results come back as :attr:`DeliveryReport.hlr`.
        :raises smscenter.NotFoundError: no such message.
        """
        request = proto.status_request(message_id, phone, detail=detail)
        return proto.parse_report(
            await self._call(request),
            tz=self._account_tz,
            message_id=str(message_id),
            phone=phone,
        )

    async def status_many(
        self, items: Iterable[tuple[str, str]], *, detail: int = 0
    ) -> list[DeliveryReport]:
        """Statuses of many ``(message_id, phone)`` pairs in one request.

        A message the provider does not know comes back with :attr:`MessageStatus.NOT_FOUND`.
        """
        pairs = [(str(i), p) for i, p in items]
        request = proto.status_many_request(pairs, detail=detail)
        return proto.parse_status_many(await self._call(request), pairs, tz=self._account_tz)

    async def delete(self, message_id: str, phone: str) -> None:
        """Delete a sent message from the history (status.php ``del=1``).

        :raises smscenter.OperationFailedError: the provider could not delete it.
        """
        data = await self._call(proto.delete_request(message_id, phone))
        if isinstance(data, dict) and "result" in data:
            proto.parse_ok(data, "delete")

    async def balance(self) -> Balance:
        """The account balance, with currency (balance.php ``cur=1``)."""
        return proto.parse_balance(await self._call(proto.balance_request()))

    # -- get.php / info.php -----------------------------------------------------------------

    async def history(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        phones: Sequence[str] | None = None,
        count: int | None = None,
        before_id: str | None = None,
    ) -> list[DeliveryReport]:
        """Sent-message history, newest first (get.php ``get_messages``, smscentre.com/api/http).

        Each row is a full :class:`DeliveryReport` (status, times, text, cost, operator). No
        matching message gives an empty list.

        :param count: at most 100 rows; page back with ``before_id`` = the last row's id.
        """
        request = proto.history_request(
            start=start, end=end, phones=phones, count=count, before_id=before_id
        )
        try:
            data = await self._call(request)
        except exc.NotFoundError:
            return []  # error 3 "message not found": an empty page, not a failure
        return proto.parse_history(data, tz=self._account_tz)

    async def incoming(
        self, *, hours: int | None = None, after_id: str | None = None, to_phone: str | None = None
    ) -> list[IncomingMessage]:
        """Messages subscribers sent you (get.php ``get_answers``, smscentre.com/api/http).

        :param hours: how far back, at most 168; ``after_id`` returns only newer ones.
        """
        request = proto.incoming_request(hours=hours, after_id=after_id, to_phone=to_phone)
        return proto.parse_incoming(await self._call(request), tz=self._account_tz)

    async def statistics(
        self,
        *,
        start: date,
        end: date | None = None,
        in_account_currency: bool = False,
        second_balance: bool = False,
    ) -> list[StatisticsRow]:
        """Sending statistics for a period (get.php ``get_stat``)."""
        request = proto.statistics_request(
            start=start,
            end=end,
            in_account_currency=in_account_currency,
            second_balance=second_balance,
        )
        return proto.parse_statistics(await self._call(request))

    async def prices(self) -> PriceList:
        """The account's tariffs (get.php ``get_price``)."""
        return proto.parse_prices(await self._call(proto.prices_request()))

    async def megafon_accounts(self, *, account: str | None = None) -> list[MegafonAccount]:
        """MegaFon personal-account statistics (get.php ``get_mega_accounts``).

        :raises smscenter.NotFoundError: the account has none.
        """
        request = proto.megafon_accounts_request(account=account)
        return proto.parse_megafon_accounts(await self._call(request))

    async def operator(self, phone: str) -> OperatorInfo:
        """The operator, country and region of a number (info.php ``get_operator``).

        :raises smscenter.NotFoundError: the operator is unknown.
        """
        return proto.parse_operator(await self._call(proto.operator_request(phone)), phone=phone)

    # -- receive numbers, wait_call, downloads ----------------------------------------------

    async def receive_numbers(self) -> list[ReceiveNumber]:
        """Dedicated numbers available to rent (receive_phones.php ``get``)."""
        return proto.parse_receive_numbers(await self._call(proto.receive_numbers_request()))

    async def buy_number(self, phone: str, *, renew: bool = True) -> Decimal:
        """Rent a dedicated number for the rest of the month; returns the amount charged.

        :raises smscenter.InsufficientFundsError: not enough money.
        """
        request = proto.buy_number_request(phone, renew=renew)
        return proto.parse_bought_number(await self._call(request))

    async def set_number_renewal(self, phone: str, *, renew: bool) -> None:
        """Switch a rented number's renewal for next month on or off."""
        request = proto.set_number_renewal_request(phone, renew=renew)
        proto.parse_ok(await self._call(request), "receive_phones.chg")

    async def wait_call(self, phone: str) -> CallToConfirm:
        """Start a confirm-by-call: the number ``phone`` must call within 15 minutes.

        :raises smscenter.BlacklistedError: ``phone`` is in the account's blacklist.
        """
        return proto.parse_wait_call(await self._call(proto.wait_call_request(phone)))

    async def downloads(
        self, *, count: int | None = None, after_id: str | None = None
    ) -> list[DownloadTask]:
        """Deferred export tasks (downloads.php ``get_list``)."""
        request = proto.downloads_request(count=count, after_id=after_id)
        return proto.parse_downloads(await self._call(request), tz=self._account_tz)
