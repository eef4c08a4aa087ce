""":class:`HTTPClient` calls about the account's own data, kept out of the transport module.

:class:`AccountCalls` is a base class of :class:`~smscenter.http.client.HTTPClient` (the one
public entry): sender names (senders.php), the address book (phones.php), message templates
(templates.php), sub-clients (users.php), the e-mail history (get.php) and the captcha image URL
(imgcode.php). The form fields and answers are in :mod:`smscenter.http._account_protocol`
and :mod:`smscenter.http._contacts_protocol`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from smscenter import exceptions as exc
from smscenter.http import _account_protocol as acct
from smscenter.http import _contacts_protocol as book
from smscenter.http import _misc_protocol as misc
from smscenter.http import _protocol as proto
from smscenter.http.records import (
    BlacklistScope,
    Contact,
    ContactDetails,
    ContactGroup,
    GroupMove,
    MessageFormat,
    PortedNumber,
    SenderId,
    SenderRegistration,
    ShortLink,
    StatisticsRow,
    SubClientType,
    Template,
)

if TYPE_CHECKING:
    from datetime import tzinfo

    import httpx

    from smscenter.models import DeliveryReport

__all__ = ("AccountCalls",)


class AccountCalls:
    """senders.php, phones.php, templates.php, users.php, the e-mail history and the captcha."""

    __slots__ = ()

    if TYPE_CHECKING:
        _account_tz: tzinfo
        _base_url: httpx.URL

        async def _call(self, request: proto.Request) -> Any: ...

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

    # -- tinyurls.php, ping.php, get_mnp.php --------------------------------------------------

    async def short_link(self, *, url: str | None = None, link_id: str | None = None) -> ShortLink:
        """Click statistics of a link shortened by a ``tinyurl`` send (tinyurls.php), by the
        original address or by the short link's id.

        :raises smscenter.NotFoundError: no such link.
        """
        request = misc.short_link_request(url=url, link_id=link_id)
        return misc.parse_short_link(await self._call(request))

    async def notify_event(
        self,
        group_id: str,
        *,
        recovered: bool = False,
        name: str | None = None,
        host: str | None = None,
        info: str | None = None,
    ) -> None:
        """Send an event notification (ping.php): the group's failure message, or its recovery
        message with ``recovered=True``; ``name``, ``host`` and ``info`` fill its macros.

        :raises smscenter.NotFoundError: no such notification group.
        """
        request = misc.notify_event_request(
            group_id, recovered=recovered, name=name, host=host, info=info
        )
        proto.parse_ok(await self._call(request), "ping")

    async def ported_numbers(self, day: date) -> list[PortedNumber]:
        """Numbers that moved to another operator on ``day`` (get_mnp.php), with their new
        ``mccmnc``."""
        return misc.parse_ported_numbers(await self._call(misc.ported_numbers_request(day)))

    # -- get.php: e-mail history -------------------------------------------------------------

    async def email_history(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        emails: Sequence[str] | None = None,
        count: int | None = None,
        before_id: str | None = None,
    ) -> list[DeliveryReport]:
        """E-mails sent, newest first (get.php ``get_messages`` with ``format=8``).

        Like :meth:`history`, for e-mail: ``emails`` filters by address, ``count`` is at most
        100 and ``before_id`` pages back. No matching e-mail gives an empty list.
        """
        request = acct.email_history_request(
            start=start, end=end, emails=emails, count=count, before_id=before_id
        )
        try:
            data = await self._call(request)
        except exc.NotFoundError:
            return []
        return proto.parse_history(data, tz=self._account_tz)

    # -- senders.php ------------------------------------------------------------------------

    async def senders(self, *, include_all: bool = False) -> list[SenderId]:
        """Sender names of the account (senders.php ``get``); ``include_all`` asks for every
        one (``all=1``), not only the approved ones."""
        return acct.parse_senders(await self._call(acct.senders_request(include_all=include_all)))

    async def add_sender(
        self,
        sender: str,
        *,
        comment: str | None = None,
        registration: SenderRegistration | None = None,
    ) -> str:
        """Register a sender name, with its owner's details; returns the provider's id for it."""
        request = acct.add_sender_request(sender, comment=comment, registration=registration)
        return proto.parse_created_id(await self._call(request), "senders.add")

    async def change_sender(
        self,
        sender: str | None = None,
        *,
        sender_id: str | None = None,
        comment: str | None = None,
        registration: SenderRegistration | None = None,
    ) -> None:
        """Change a sender name's comment or registration details, by name or by id.

        :raises smscenter.NotFoundError: no such name.
        """
        request = acct.change_sender_request(
            sender=sender, sender_id=sender_id, comment=comment, registration=registration
        )
        proto.parse_ok(await self._call(request), "senders.chg")

    async def delete_sender(
        self, sender: str | None = None, *, sender_id: str | None = None
    ) -> None:
        """Remove a sender name, by name or by id.

        :raises smscenter.NotFoundError: no such name.
        """
        request = acct.delete_sender_request(sender=sender, sender_id=sender_id)
        proto.parse_ok(await self._call(request), "senders.del")

    async def send_sender_code(self, sender: str) -> None:
        """Text a confirmation code to a numeric sender (senders.php ``send_code``)."""
        request = acct.send_sender_code_request(sender)
        proto.parse_ok(await self._call(request), "senders.send_code")

    async def check_sender_code(self, sender: str, code: str) -> None:
        """Confirm a numeric sender with the code it received.

        :raises smscenter.VerificationCodeError: the code is wrong.
        """
        request = acct.check_sender_code_request(sender, code)
        proto.parse_ok(await self._call(request), "senders.check_code")

    # -- phones.php -------------------------------------------------------------------------

    async def contacts(
        self,
        *,
        group_id: str | None = None,
        search: str | None = None,
        after_id: str | None = None,
    ) -> list[Contact]:
        """Address-book contacts (phones.php ``get``); page on with ``after_id`` = the last
        contact's :attr:`~Contact.contact_id`."""
        request = book.contacts_request(group_id=group_id, search=search, after_id=after_id)
        return book.parse_contacts(await self._call(request))

    async def add_contact(
        self,
        phone: str,
        *,
        name: str | None = None,
        group_ids: Sequence[str] = (),
        comment: str | None = None,
        details: ContactDetails | None = None,
    ) -> str | None:
        """Add a contact (phones.php ``add``); returns its id when the provider gives one."""
        request = book.add_contact_request(
            phone, name=name, group_ids=group_ids, comment=comment, details=details
        )
        return proto.parse_done(await self._call(request), "phones.add")

    async def change_contact(
        self,
        phone: str,
        *,
        new_phone: str | None = None,
        name: str | None = None,
        group_ids: Sequence[str] | None = None,
        comment: str | None = None,
        details: ContactDetails | None = None,
    ) -> None:
        """Change the contact with number ``phone`` (phones.php ``chg``); ``group_ids``
        replaces its groups.

        :raises smscenter.NotFoundError: no such contact.
        """
        request = book.change_contact_request(
            phone,
            new_phone=new_phone,
            name=name,
            group_ids=group_ids,
            comment=comment,
            details=details,
        )
        proto.parse_ok(await self._call(request), "phones.chg")

    async def delete_contact(self, phone: str) -> None:
        """Delete a contact (phones.php ``del``)."""
        proto.parse_ok(await self._call(book.delete_contact_request(phone)), "phones.del")

    async def move_contact(
        self, phone: str, group_ids: Sequence[str], *, how: GroupMove = GroupMove.MOVE
    ) -> None:
        """Put a contact in exactly these groups (:attr:`GroupMove.MOVE`), add it to them
        (:attr:`GroupMove.ADD`) or take it out of them (:attr:`GroupMove.REMOVE`)."""
        request = book.move_contact_request(phone, group_ids, how=how)
        proto.parse_ok(await self._call(request), "phones.move_group")

    async def groups(self) -> list[ContactGroup]:
        """Contact groups (phones.php ``get_group``)."""
        return book.parse_groups(await self._call(book.groups_request()))

    async def add_group(self, name: str, *, number: str | None = None) -> str:
        """Create a contact group; returns its id."""
        request = book.add_group_request(name, number=number)
        return proto.parse_created_id(await self._call(request), "phones.add_group")

    async def change_group(
        self, group_id: str, *, name: str | None = None, number: str | None = None
    ) -> None:
        """Rename a contact group or change its number (phones.php ``chg_group``).

        :raises smscenter.NotFoundError: no such group.
        """
        request = book.change_group_request(group_id, name=name, number=number)
        proto.parse_ok(await self._call(request), "phones.chg_group")

    async def delete_group(self, group_id: str) -> None:
        """Delete a contact group."""
        request = book.delete_group_request(group_id)
        proto.parse_ok(await self._call(request), "phones.del_group")

    async def add_to_blacklist(
        self, phone: str, *, scope: BlacklistScope = BlacklistScope.ALL
    ) -> None:
        """Keep ``phone`` from receiving the account's messages (phones.php ``add_black``):
        all of them, or only mass or only single ones."""
        request = book.blacklist_add_request(phone, scope=scope)
        proto.parse_ok(await self._call(request), "phones.add_black")

    async def remove_from_blacklist(self, phone: str) -> None:
        """Take ``phone`` off the blacklist (phones.php ``del_black``).

        :raises smscenter.NotFoundError: the number is not on it.
        """
        request = book.blacklist_remove_request(phone)
        proto.parse_ok(await self._call(request), "phones.del_black")

    # -- templates.php ----------------------------------------------------------------------

    async def templates(self) -> list[Template]:
        """The account's message templates (templates.php ``get``)."""
        return acct.parse_templates(await self._call(acct.templates_request()))

    async def add_template(
        self,
        name: str,
        text: str,
        *,
        format: MessageFormat = MessageFormat.SMS,
        sender: str | None = None,
        signature: bool = False,
    ) -> str:
        """Create a template; returns its id. ``signature`` makes it the automatic signature
        (``fl[1]=1``)."""
        request = acct.add_template_request(
            name, text, format=format, sender=sender, signature=signature
        )
        return proto.parse_created_id(await self._call(request), "templates.add")

    async def change_template(
        self,
        template_id: str,
        *,
        name: str | None = None,
        text: str | None = None,
        format: MessageFormat | None = None,
        sender: str | None = None,
        signature: bool | None = None,
    ) -> None:
        """Change a template (templates.php ``chg``).

        :raises smscenter.NotFoundError: no such template.
        """
        request = acct.change_template_request(
            template_id, name=name, text=text, format=format, sender=sender, signature=signature
        )
        proto.parse_ok(await self._call(request), "templates.chg")

    async def delete_template(self, template_id: str) -> None:
        """Delete a template.

        :raises smscenter.NotFoundError: no such template.
        """
        request = acct.delete_template_request(template_id)
        proto.parse_ok(await self._call(request), "templates.del")

    # -- users.php --------------------------------------------------------------------------

    async def add_sub_client(
        self,
        login: str,
        password: str,
        *,
        client_type: SubClientType = SubClientType.INDEPENDENT,
        email: str | None = None,
        phone: str | None = None,
        sender: str | None = None,
        callback_url: str | None = None,
    ) -> str | None:
        """Create a sub-client (users.php ``add``, reseller accounts); returns its id when the
        provider gives one."""
        request = acct.add_sub_client_request(
            login,
            password,
            client_type=client_type,
            email=email,
            phone=phone,
            sender=sender,
            callback_url=callback_url,
        )
        return acct.parse_sub_client_id(await self._call(request))

    async def change_sub_client(
        self,
        login: str,
        *,
        password: str | None = None,
        new_login: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        sender: str | None = None,
        callback_url: str | None = None,
    ) -> None:
        """Change a sub-client (users.php ``chg``).

        :raises smscenter.NotFoundError: no such sub-client.
        """
        request = acct.change_sub_client_request(
            login,
            password=password,
            new_login=new_login,
            email=email,
            phone=phone,
            sender=sender,
            callback_url=callback_url,
        )
        proto.parse_ok(await self._call(request), "users.chg")

    async def pay_sub_client(self, login: str, amount: Decimal | int | str) -> None:
        """Move ``amount`` from the account's balance to a sub-client's (users.php ``pay``)."""
        request = acct.pay_sub_client_request(login, Decimal(amount))
        proto.parse_ok(await self._call(request), "users.pay")

    async def sub_client_statistics(
        self, *, start: date, end: date | None = None, login: str | None = None
    ) -> list[StatisticsRow]:
        """Sending statistics of one sub-client, or of all of them (users.php ``get_stat`` /
        ``get_stat_all``), one row per login."""
        request = acct.sub_client_statistics_request(start=start, end=end, login=login)
        return proto.parse_statistics(await self._call(request))
