"""The simulator's address book: phones.php (contacts, groups, the blacklist).

Contacts with their fields and groups, moving and deleting them, groups by number, and the
blacklist, with the commands and fields of https://smscentre.com/api/http/ ("Contacts").
Registered by :mod:`smscenter.testing._http_app`; a send to ``G<n>`` reads these groups.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from smscenter.testing import _state as st
from smscenter.testing._http_base import _OK, _Answer, _limit, _Params, _split_phones
from smscenter.testing._state import SimError

if TYPE_CHECKING:
    from smscenter.testing._http_app import SimulatorApp

__all__ = ("handle_phones",)


#: phones.php contact fields kept as sent and returned by ``get``.
_CONTACT_FIELDS = ("mail", "fnm", "lnm", "mnm", "bd", "myid", "tags", "pho")


def _groups_of(raw: str) -> set[int]:
    out: set[int] = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise SimError(1, "invalid grp")
        out.add(int(part))
    return out


def _contact_by_phone(account: st.Account, phone: str) -> st.SimContact | None:
    norm = st.normalize_phone(phone) or phone
    return next((c for c in account.contacts.values() if c.phone == norm), None)


def _keep_contact_fields(contact: st.SimContact, params: _Params) -> None:
    birthday = params.get("bd").strip()
    if birthday:
        try:
            datetime.strptime(birthday, "%d.%m.%Y")
        except ValueError:
            raise SimError(1, "invalid bd") from None
    for phone in _split_phones(params.get("pho")):
        if st.normalize_phone(phone) is None:
            raise SimError(1, "invalid pho")
    contact.fields.update({k: params.get(k) for k in _CONTACT_FIELDS if params.has(k)})


def _contact_row(contact: st.SimContact) -> dict[str, object]:
    row: dict[str, object] = {
        "id": contact.id,
        "phone": contact.phone,
        "name": contact.name,
        "grp": ",".join(str(g) for g in sorted(contact.groups)),
        "cmt": contact.comment,
    }
    row.update(contact.fields)
    return row


def handle_phones(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    """phones.php: contacts (all fields, ``after_id`` paging), groups, moves, the blacklist."""
    state = app.state
    _limit(app, account, ("phones", params.fingerprint()), 3)
    if params.flag("add"):
        phone = st.normalize_phone(params.get("phone"))
        if phone is None:
            raise SimError(1, "invalid phone")
        contact = _contact_by_phone(account, phone)
        if contact is None:
            contact = st.SimContact(id=state.next_misc_id(), phone=phone)
            account.contacts[contact.id] = contact
        contact.name = params.get("name", contact.name)
        contact.comment = params.get("cmt", contact.comment)
        contact.groups |= _groups_of(params.get("grp"))
        _keep_contact_fields(contact, params)
        return _Answer({"id": contact.id})
    if params.flag("chg"):
        contact = _contact_by_phone(account, params.get("phone"))
        if contact is None:
            raise SimError(3, "contact not found")
        if params.get("new_phone"):
            new = st.normalize_phone(params.get("new_phone"))
            if new is None:
                raise SimError(1, "invalid new_phone")
            contact.phone = new
        if params.has("name"):
            contact.name = params.get("name")
        if params.has("cmt"):
            contact.comment = params.get("cmt")
        if params.has("grp"):
            contact.groups = _groups_of(params.get("grp"))
        _keep_contact_fields(contact, params)
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("del"):
        contact = _contact_by_phone(account, params.get("phone"))
        if contact is None:
            raise SimError(3, "contact not found")
        del account.contacts[contact.id]
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("get"):
        groups = _groups_of(params.get("grp"))
        search = params.get("search").lower()
        after = params.int("after_id", 0, low=0)
        rows = [
            _contact_row(c)
            for c in sorted(account.contacts.values(), key=lambda c: c.id)
            if c.id > after
            and (not groups or groups & c.groups)
            and (not search or search in c.phone or search in c.name.lower())
        ]
        return _Answer(rows)
    if params.flag("add_group"):
        name = params.get("name").strip()
        if not name:
            raise SimError(1, "name is empty")
        num = params.int("num", 0, low=0) or state.next_misc_id()
        account.groups[num] = name
        return _Answer({"id": num})
    if params.flag("chg_group"):
        num = params.int("grp", 0)
        if num not in account.groups:
            raise SimError(3, "group not found")
        name = params.get("name", account.groups[num])
        new_num = params.int("num", num, low=1)
        if new_num != num:
            if new_num in account.groups:
                raise SimError(5, "group number in use")
            del account.groups[num]
            for c in account.contacts.values():
                if num in c.groups:
                    c.groups.discard(num)
                    c.groups.add(new_num)
        account.groups[new_num] = name
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("del_group"):
        num = params.int("grp", 0)
        if account.groups.pop(num, None) is None:
            raise SimError(3, "group not found")
        for c in account.contacts.values():
            c.groups.discard(num)
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("get_group"):
        return _Answer(
            [
                {
                    "id": num,
                    "num": num,
                    "name": name,
                    "cnt": sum(1 for c in account.contacts.values() if num in c.groups),
                }
                for num, name in sorted(account.groups.items())
            ]
        )
    move = params.int("move_group", 0, low=0, high=3)
    if move:
        contact = _contact_by_phone(account, params.get("phone"))
        if contact is None:
            raise SimError(3, "contact not found")
        target = _groups_of(params.get("grp"))
        if not target:
            raise SimError(1, "grp is empty")
        if target - set(account.groups):
            raise SimError(3, "group not found")
        if move == 1:
            contact.groups = target
        elif move == 2:
            contact.groups |= target
        else:
            contact.groups -= target
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("add_black") or params.flag("del_black"):
        phone = st.normalize_phone(params.get("phone"))
        if phone is None:
            raise SimError(1, "invalid phone")
        if params.flag("add_black"):
            account.blacklist.add(phone)
            account.blacklist_scope[phone] = params.int("type", 0, low=0, high=2)
        elif phone in account.blacklist:
            account.blacklist.discard(phone)
            account.blacklist_scope.pop(phone, None)
        else:
            raise SimError(3, "phone not found")
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("get_black"):
        return _Answer([{"phone": p} for p in sorted(account.blacklist)])
    raise SimError(1, "unknown phones.php command")
