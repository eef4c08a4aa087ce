""":class:`HTTPClient` calls for mailings (jobs.php), kept out of the transport module.

:class:`MailingCalls` is a base class of :class:`~smscenter.http.client.HTTPClient`; the form
fields and answers are in :mod:`smscenter.http._mailing_protocol`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from smscenter import exceptions as exc
from smscenter.http import _mailing_protocol as jobs
from smscenter.http import _protocol as proto
from smscenter.http.records import Mailing, MailingRepeat, MailingResend
from smscenter.models import Message

if TYPE_CHECKING:
    from datetime import tzinfo

__all__ = ("MailingCalls",)


class MailingCalls:
    """jobs.php: create (or price), read, cancel and delete mailings."""

    __slots__ = ()

    if TYPE_CHECKING:
        _account_tz: tzinfo

        async def _call(self, request: proto.Request) -> Any: ...

    async def add_mailing(
        self,
        name: str,
        message: Message,
        *,
        price_only: bool = False,
        repeat: MailingRepeat | None = None,
        max_repeats: int | None = None,
        resend: MailingResend | None = None,
    ) -> Mailing:
        """Create a mailing that the provider runs itself (jobs.php ``add``).

        :param price_only: only price it (``cost=1``): nothing is created or sent, and the
            result's :attr:`Mailing.cost` is what it would cost.
        :param repeat: run it again periodically (``rpt``), at most ``max_repeats`` times
            (``rptn``).
        :param resend: resend by SMS what could not be delivered (``fl[5]``, ``mes2``,
            ``sender2``).
        """
        request = jobs.add_mailing_request(
            name,
            message,
            price_only=price_only,
            repeat=repeat,
            max_repeats=max_repeats,
            resend=resend,
        )
        mailing = jobs.parse_mailing(await self._call(request), tz=self._account_tz)
        return attrs.evolve(mailing, name=mailing.name or name)

    async def add_template_mailing(
        self,
        name: str,
        template_id: str,
        to: Sequence[str],
        *,
        sender: str | None = None,
        price_only: bool = False,
        repeat: MailingRepeat | None = None,
        max_repeats: int | None = None,
        resend: MailingResend | None = None,
    ) -> Mailing:
        """Create a mailing whose text is a saved template (jobs.php ``tpl``); the other
        arguments are :meth:`add_mailing`'s."""
        request = jobs.add_template_mailing_request(
            name,
            template_id,
            list(to),
            sender=sender,
            price_only=price_only,
            repeat=repeat,
            max_repeats=max_repeats,
            resend=resend,
        )
        mailing = jobs.parse_mailing(await self._call(request), tz=self._account_tz)
        return attrs.evolve(mailing, name=mailing.name or name)

    async def mailing(self, mailing_id: str) -> Mailing:
        """One mailing (jobs.php ``get``)."""
        data = await self._call(jobs.mailing_request(mailing_id))
        if isinstance(data, list):
            if not data:
                raise exc.NotFoundError(3, "mailing not found", endpoint="jobs.get")
            data = data[0]
        return jobs.parse_mailing(data, tz=self._account_tz)

    async def mailings(
        self, *, start: date | None = None, end: date | None = None
    ) -> list[Mailing]:
        """All mailings, optionally within a period (jobs.php ``get_all``)."""
        request = jobs.mailings_request(start=start, end=end)
        return jobs.parse_mailings(await self._call(request), tz=self._account_tz)

    async def cancel_mailing(self, mailing_id: str) -> None:
        """Cancel a mailing that has not run yet."""
        request = jobs.cancel_mailing_request(mailing_id)
        proto.parse_ok(await self._call(request), "jobs.cancel")

    async def delete_mailing(self, mailing_id: str) -> None:
        """Delete a mailing."""
        request = jobs.delete_mailing_request(mailing_id)
        proto.parse_ok(await self._call(request), "jobs.del")
