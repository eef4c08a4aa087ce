"""SMPP 3.4 wire constants: command ids, statuses, TLV tags, address and coding values.

Every enum here is a wire code and therefore tolerant: a value we have no name for (a vendor
``command_status`` in 0x400-0x4FF, a 5.0 TLV tag, a national ``data_coding``) becomes a
pseudo-member named ``UNKNOWN_<n>`` that still compares equal to its integer, never an error
(SMSCs do send values SMPP 3.4 reserves: be tolerant of them).
"""

from __future__ import annotations

import enum
from typing import Any

from smscenter._provider import unknown_member

__all__ = (
    "DEFAULT_MAX_PDU_LENGTH",
    "HEADER_LENGTH",
    "INTERFACE_VERSION",
    "MAX_SEQUENCE_NUMBER",
    "NPI",
    "TON",
    "BindMode",
    "CommandId",
    "CommandStatus",
    "DataCoding",
    "EsmClass",
    "MessageState",
    "RegisteredDelivery",
    "Tag",
)

#: Every PDU starts with command_length, command_id, command_status, sequence_number (4 x u32).
HEADER_LENGTH = 16
#: Sequence numbers run 0x00000001..0x7FFFFFFF and then wrap to 1 (SMPP 3.4 §3.2).
MAX_SEQUENCE_NUMBER = 0x7FFFFFFF
#: interface_version we announce in binds: SMPP 3.4.
INTERFACE_VERSION = 0x34
#: Largest command_length accepted by default: a message_payload TLV may hold 64 KiB, plus room
#: for the mandatory fields. A peer announcing more is rejected before anything is buffered.
DEFAULT_MAX_PDU_LENGTH = 0x10000 + 1024


class _WireEnum(enum.IntEnum):
    @classmethod
    def _missing_(cls, value: object) -> Any:
        return unknown_member(cls, value)


class CommandId(_WireEnum):
    """``command_id`` values (SMPP 3.4 §5.1.2.1). A response id is the request id | 0x80000000."""

    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    REPLACE_SM = 0x00000007
    REPLACE_SM_RESP = 0x80000007
    CANCEL_SM = 0x00000008
    CANCEL_SM_RESP = 0x80000008
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    SUBMIT_MULTI = 0x00000021
    SUBMIT_MULTI_RESP = 0x80000021
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103

    @property
    def is_response(self) -> bool:
        """True for responses (the top bit set), generic_nack included."""
        return bool(self & 0x80000000)


class CommandStatus(_WireEnum):
    """``command_status`` values (SMPP 3.4 §5.1.3). Vendor values are kept as ``UNKNOWN_<n>``."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RREPLACEFAIL = 0x13
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVDLNAME = 0x34
    ESME_RINVDESTFLAG = 0x40
    ESME_RINVSUBREP = 0x42
    ESME_RINVESMCLASS = 0x43
    ESME_RCNTSUBDL = 0x44
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RINVREPFLAG = 0x54
    ESME_RINVNUMMSGS = 0x55
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVDFTMSGID = 0x63
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RQUERYFAIL = 0x67
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


class Tag(_WireEnum):
    """TLV tags: every SMPP 3.4 optional parameter (§5.3.2) plus the provider's own
    (smscentre.com/api/smpp)."""

    DEST_ADDR_SUBUNIT = 0x0005
    DEST_NETWORK_TYPE = 0x0006
    DEST_BEARER_TYPE = 0x0007
    DEST_TELEMATICS_ID = 0x0008
    SOURCE_ADDR_SUBUNIT = 0x000D
    SOURCE_NETWORK_TYPE = 0x000E
    SOURCE_BEARER_TYPE = 0x000F
    SOURCE_TELEMATICS_ID = 0x0010
    QOS_TIME_TO_LIVE = 0x0017
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    SOURCE_SUBADDRESS = 0x0202
    DEST_SUBADDRESS = 0x0203
    USER_MESSAGE_REFERENCE = 0x0204
    USER_RESPONSE_CODE = 0x0205
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    NUMBER_OF_MESSAGES = 0x0304
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    USSD_SERVICE_OP = 0x0501
    DISPLAY_TIME = 0x1201
    SMS_SIGNAL = 0x1203
    MS_VALIDITY = 0x1204
    ALERT_ON_MESSAGE_DELIVERY = 0x130C
    ITS_REPLY_TYPE = 0x1380
    ITS_SESSION_INFO = 0x1383
    # The provider's vendor tags (smscentre.com/api/smpp, "additional TLV fields" of the receipt
    # deliver_sm).
    #: message cost as a C-string " n.nnnn" (max 6 octets).
    COST = 0x2000
    #: 2-byte flag: message type (bits 0-3), second balance (5), template (8), kind (9-10).
    FLAG = 0x2001
    #: 2-byte number of SMS parts of the message.
    PARTS = 0x2002
    #: subscriber's MCC+MNC as a C-string (max 5 digits + NUL: "Var. max 5" on
    #: smscentre.com/api/smpp).
    MCCMNC = 0x2003
    #: 2-byte additional status: 2 read, 4 link clicked.
    EXTRA_STATUS = 0x2004


class TON(_WireEnum):
    """Type of number (SMPP 3.4 §5.2.5)."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK_SPECIFIC = 3
    SUBSCRIBER_NUMBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6


class NPI(_WireEnum):
    """Numbering plan indicator (SMPP 3.4 §5.2.6)."""

    UNKNOWN = 0
    ISDN = 1
    DATA = 3
    TELEX = 4
    LAND_MOBILE = 6
    NATIONAL = 8
    PRIVATE = 9
    ERMES = 10
    INTERNET = 14
    WAP_CLIENT_ID = 18


class DataCoding(_WireEnum):
    """``data_coding`` (SMPP 3.4 §5.2.19).

    The provider uses ``coding * 4`` (smscentre.com/api/smpp): 0 GSM 03.38, 4 ISO-8859-1, 8 UCS2.
    The spec's Latin-1 value 3 is accepted on input as well.
    """

    DEFAULT = 0x00
    IA5 = 0x01
    OCTET_UNSPECIFIED = 0x02
    LATIN_1 = 0x03
    OCTET_UNSPECIFIED_4 = 0x04
    JIS = 0x05
    CYRILLIC = 0x06
    LATIN_HEBREW = 0x07
    UCS2 = 0x08
    PICTOGRAM = 0x09
    ISO_2022_JP = 0x0A
    EXTENDED_KANJI = 0x0D
    KS_C_5601 = 0x0E
    #: The provider's ISO-8859-1 text (its "coding = 1", smscentre.com/api/smpp); an alias of 0x04.
    PROVIDER_LATIN_1 = 0x04


class EsmClass(enum.IntFlag):
    """``esm_class`` bits (SMPP 3.4 §5.2.12).

    Bits 0-1 are the messaging mode, bits 2-5 the message type, bits 6-7 GSM features. Use the
    ``*_MASK`` members to pick a group: ``esm & EsmClass.TYPE_MASK == EsmClass.DELIVERY_RECEIPT``
    tells a receipt from a mobile-originated message.
    """

    DEFAULT = 0x00
    DATAGRAM = 0x01
    FORWARD = 0x02
    STORE_AND_FORWARD = 0x03
    MODE_MASK = 0x03
    DELIVERY_RECEIPT = 0x04
    DELIVERY_ACK = 0x08
    MANUAL_USER_ACK = 0x10
    CONVERSATION_ABORT = 0x18
    INTERMEDIATE_NOTIFICATION = 0x20
    TYPE_MASK = 0x3C
    UDHI = 0x40
    REPLY_PATH = 0x80
    GSM_MASK = 0xC0


class RegisteredDelivery(enum.IntFlag):
    """``registered_delivery`` bits (SMPP 3.4 §5.2.17)."""

    NONE = 0x00
    #: SMSC receipt on final outcome, success or failure.
    SMSC_RECEIPT = 0x01
    #: SMSC receipt on failure only.
    SMSC_RECEIPT_ON_FAILURE = 0x02
    SMSC_RECEIPT_MASK = 0x03
    SME_DELIVERY_ACK = 0x04
    SME_MANUAL_ACK = 0x08
    SME_ACK_MASK = 0x0C
    INTERMEDIATE_NOTIFICATION = 0x10


class MessageState(_WireEnum):
    """``message_state`` (TLV 0x0427 and query_sm_resp; SMPP 3.4 §5.2.28, 0 and 9 from 5.0)."""

    SCHEDULED = 0
    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8
    SKIPPED = 9


class BindMode(enum.Enum):
    """Which kind of bind a session holds."""

    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"
    TRANSCEIVER = "transceiver"

    @property
    def can_send(self) -> bool:
        """Whether this bind may submit messages."""
        return self is not BindMode.RECEIVER

    @property
    def can_receive(self) -> bool:
        """Whether this bind gets deliver_sm."""
        return self is not BindMode.TRANSMITTER
