"""The PDUs that run the link rather than carry a message (SMPP 3.4 "session management"): bind
and its responses (§4.1), outbind (§4.1.7), unbind (§4.2), generic_nack (§4.3) and enquire_link
(§4.11).

Import them from :mod:`smscenter.smpp.pdu`. Importing this module registers each class with the
codec (:func:`~smscenter.smpp._codec.codec`).
"""

from __future__ import annotations

import attrs

from smscenter.smpp._codec import codec, cstr, u8
from smscenter.smpp._pdu_base import Pdu
from smscenter.smpp.constants import CommandId, Tag

__all__ = (
    "BindReceiver",
    "BindReceiverResp",
    "BindTransceiver",
    "BindTransceiverResp",
    "BindTransmitter",
    "BindTransmitterResp",
    "EnquireLink",
    "EnquireLinkResp",
    "GenericNack",
    "Outbind",
    "Unbind",
    "UnbindResp",
)


@attrs.frozen(kw_only=True, slots=False)
class _BindResp(Pdu):
    system_id: str = cstr(16)

    @property
    def sc_interface_version(self) -> int | None:
        """TLV 0x0210: the SMPP version the SMSC supports."""
        return self._tlv_int(Tag.SC_INTERFACE_VERSION, 1)


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransmitterResp(_BindResp):
    """bind_transmitter_resp (§4.1.2)."""

    command_id = CommandId.BIND_TRANSMITTER_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindReceiverResp(_BindResp):
    """bind_receiver_resp (§4.1.4)."""

    command_id = CommandId.BIND_RECEIVER_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransceiverResp(_BindResp):
    """bind_transceiver_resp (§4.1.6)."""

    command_id = CommandId.BIND_TRANSCEIVER_RESP


@attrs.frozen(kw_only=True, slots=False)
class _Bind(Pdu):
    system_id: str = cstr(16)
    #: Never shown in repr (a password never reaches a log).
    password: str = cstr(9, repr=False)
    system_type: str = cstr(13)
    interface_version: int = u8(0x34)
    addr_ton: int = u8()
    addr_npi: int = u8()
    address_range: str = cstr(41)


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransmitter(_Bind):
    """bind_transmitter (§4.1.1): bind to submit messages."""

    command_id = CommandId.BIND_TRANSMITTER
    response_class = BindTransmitterResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindReceiver(_Bind):
    """bind_receiver (§4.1.3): bind to receive deliver_sm."""

    command_id = CommandId.BIND_RECEIVER
    response_class = BindReceiverResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransceiver(_Bind):
    """bind_transceiver (§4.1.5): both directions on one bind."""

    command_id = CommandId.BIND_TRANSCEIVER
    response_class = BindTransceiverResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class Outbind(Pdu):
    """outbind (§4.1.7): the SMSC asks the ESME to bind (no response PDU)."""

    command_id = CommandId.OUTBIND
    system_id: str = cstr(16)
    password: str = cstr(9, repr=False)


@codec
@attrs.frozen(kw_only=True, slots=False)
class UnbindResp(Pdu):
    """unbind_resp (§4.2.2)."""

    command_id = CommandId.UNBIND_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class Unbind(Pdu):
    """unbind (§4.2.1)."""

    command_id = CommandId.UNBIND
    response_class = UnbindResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class GenericNack(Pdu):
    """generic_nack (§4.3.1): the answer to a PDU that could not be understood."""

    command_id = CommandId.GENERIC_NACK


@codec
@attrs.frozen(kw_only=True, slots=False)
class EnquireLinkResp(Pdu):
    """enquire_link_resp (§4.11.2)."""

    command_id = CommandId.ENQUIRE_LINK_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class EnquireLink(Pdu):
    """enquire_link (§4.11.1): keepalive."""

    command_id = CommandId.ENQUIRE_LINK
    response_class = EnquireLinkResp
