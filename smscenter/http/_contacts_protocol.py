"""The address book without I/O: phones.php (contacts, groups, the blacklist). Arguments in,
:class:`~smscenter.http._request.Request` out; fmt=3 JSON in, records out.

Parameter names follow https://smscentre.com/api/http/ (section "Contacts"); the shared request
type is in :mod:`smscenter.http._request`, the value decoders in :mod:`smscenter.http._answer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from smscenter.exceptions import RemoteProtocolError, ValidationError
from smscenter.http._answer import _rows, _str
from smscenter.http._request import Request, _opt
from smscenter.http.records import (
    BlacklistScope,
    Contact,
    ContactDetails,
    ContactGroup,
    GroupMove,
)


def _details(params: list[tuple[str, str]], details: ContactDetails | None) -> None:
    if details is None:
        return
    _opt(params, "mail", details.email)
    _opt(params, "fnm", details.first_name)
    _opt(params, "lnm", details.last_name)
    _opt(params, "mnm", details.middle_name)
    _opt(params, "bd", details.birthday)
    _opt(params, "myid", details.my_id)
    if details.tags:
        _opt(params, "tags", details.tags)
    if details.other_phones:
        _opt(params, "pho", details.other_phones)


def contacts_request(
    *, group_id: str | None = None, search: str | None = None, after_id: str | None = None
) -> Request:
    """phones.php ``get=1``: address-book contacts; ``after_id`` pages on after a contact."""
    params: list[tuple[str, str]] = [("get", "1")]
    _opt(params, "grp", group_id)
    _opt(params, "search", search)
    _opt(params, "after_id", after_id)
    return Request(command="phones", action="phones.get", params=tuple(params))


def add_contact_request(
    phone: str,
    *,
    name: str | None = None,
    group_ids: Sequence[str] = (),
    comment: str | None = None,
    details: ContactDetails | None = None,
) -> Request:
    """phones.php ``add=1``."""
    params: list[tuple[str, str]] = [("add", "1"), ("phone", phone)]
    _opt(params, "name", name)
    if group_ids:
        _opt(params, "grp", group_ids)
    _opt(params, "cmt", comment)
    _details(params, details)
    return Request(command="phones", action="phones.add", params=tuple(params))


def change_contact_request(
    phone: str,
    *,
    new_phone: str | None = None,
    name: str | None = None,
    group_ids: Sequence[str] | None = None,
    comment: str | None = None,
    details: ContactDetails | None = None,
) -> Request:
    """phones.php ``chg=1``: change the contact with number ``phone``."""
    params: list[tuple[str, str]] = [("chg", "1"), ("phone", phone)]
    _opt(params, "new_phone", new_phone)
    _opt(params, "name", name)
    if group_ids is not None:
        params.append(("grp", ",".join(group_ids)))
    _opt(params, "cmt", comment)
    _details(params, details)
    if len(params) == 2:
        raise ValidationError("change_contact needs at least one field to change")
    return Request(command="phones", action="phones.chg", params=tuple(params))


def delete_contact_request(phone: str) -> Request:
    """phones.php ``del=1``."""
    return Request(command="phones", action="phones.del", params=(("del", "1"), ("phone", phone)))


def move_contact_request(phone: str, group_ids: Sequence[str], *, how: GroupMove) -> Request:
    """phones.php ``move_group=1|2|3``: set, add or remove the contact's groups."""
    if not group_ids:
        raise ValidationError("give at least one group id")
    return Request(
        command="phones",
        action="phones.move_group",
        params=(
            ("move_group", str(int(GroupMove(how)))),
            ("phone", phone),
            ("grp", ",".join(group_ids)),
        ),
    )


def groups_request() -> Request:
    """phones.php ``get_group=1``: contact groups."""
    return Request(command="phones", action="phones.get_group", params=(("get_group", "1"),))


def add_group_request(name: str, *, number: str | None = None) -> Request:
    """phones.php ``add_group=1``."""
    params: list[tuple[str, str]] = [("add_group", "1"), ("name", name)]
    _opt(params, "num", number)
    return Request(command="phones", action="phones.add_group", params=tuple(params))


def change_group_request(
    group_id: str, *, name: str | None = None, number: str | None = None
) -> Request:
    """phones.php ``chg_group=1``: rename a group or change its number."""
    params: list[tuple[str, str]] = [("chg_group", "1"), ("grp", group_id)]
    _opt(params, "name", name)
    _opt(params, "num", number)
    if len(params) == 2:
        raise ValidationError("change_group needs a new name or number")
    return Request(command="phones", action="phones.chg_group", params=tuple(params))


def delete_group_request(group_id: str) -> Request:
    """phones.php ``del_group=1``."""
    return Request(
        command="phones", action="phones.del_group", params=(("del_group", "1"), ("grp", group_id))
    )


def blacklist_add_request(phone: str, *, scope: BlacklistScope = BlacklistScope.ALL) -> Request:
    """phones.php ``add_black=1``: keep ``phone`` from getting messages (all, mass or single)."""
    return Request(
        command="phones",
        action="phones.add_black",
        params=(("add_black", "1"), ("phone", phone), ("type", str(int(BlacklistScope(scope))))),
    )


def blacklist_remove_request(phone: str) -> Request:
    """phones.php ``del_black=1``."""
    return Request(
        command="phones", action="phones.del_black", params=(("del_black", "1"), ("phone", phone))
    )


def _split(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if str(v))
    return tuple(v.strip() for v in str(value or "").split(",") if v.strip())


def _birthday(value: Any) -> date | None:
    text = _str(value)
    if text is None or text.strip("0.- ") == "":
        return None
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise RemoteProtocolError(f"phones: not a birthday the provider writes: {text!r}")


def parse_contacts(data: Any) -> list[Contact]:
    """phones.php get rows, with the other contact fields when the provider includes them."""
    out = []
    for row in _rows(data, "phones"):
        out.append(
            Contact(
                phone=str(row.get("phone", "")),
                name=_str(row.get("name")),
                group_ids=_split(row.get("grp", row.get("groups"))),
                comment=_str(row.get("cmt", row.get("comment"))),
                contact_id=_str(row.get("id")),
                details=ContactDetails(
                    email=_str(row.get("mail")),
                    first_name=_str(row.get("fnm")),
                    last_name=_str(row.get("lnm")),
                    middle_name=_str(row.get("mnm")),
                    birthday=_birthday(row.get("bd")),
                    my_id=_str(row.get("myid")),
                    tags=_split(row.get("tags")),
                    other_phones=_split(row.get("pho")),
                ),
            )
        )
    return out


def parse_groups(data: Any) -> list[ContactGroup]:
    """phones.php get_group rows."""
    return [
        ContactGroup(
            group_id=str(row.get("id", row.get("grp", ""))),
            name=str(row.get("name", "")),
            number=_str(row.get("num", row.get("number"))),
        )
        for row in _rows(data, "phones groups")
    ]
