"""Matching receipts to sends when the SMSC writes the receipt text's id in another base.

A receipt names the message it reports on in the ``receipted_message_id`` TLV (SMPP 3.4
§5.3.2.12), spelled as ``submit_sm_resp`` gave it, and in the ``id:`` of its text, whose format
SMPP 3.4 Appendix B leaves to the SMSC. Some SMSCs send no TLV and write the text's id in decimal
where ``submit_sm_resp`` gave hexadecimal, or the reverse (Kannel has its ``msg-id-type`` setting
for them). :class:`ReceiptIdMatcher` reads a pool's receipts with the style it was given, or,
with :attr:`~smscenter.ids.ReceiptIdStyle.AUTO`, finds the style out:

- from receipts that carry both the TLV and a text id (the TLV shows which reading is right);
- from the ids this pool received in ``submit_sm_resp``: a TLV-less receipt whose text id,
  read one way only, is an id the pool was given, is read that way.

Three agreeing observations and none against fix the style (the id memory is then dropped);
until then each receipt is matched on its own. What cannot be matched is never silently
guessed away: a receipt whose id matches no recent send, or whose readings are ambiguous, is
logged once as a warning naming the ``receipt_ids`` option.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from datetime import tzinfo

import attrs

from smscenter._provider import MOSCOW
from smscenter.ids import ReceiptIdStyle, canonical_message_id, receipt_text_id
from smscenter.models import DeliveryReport
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.receipts import ReceiptReader, parse_receipt_text

__all__ = ("ReceiptIdMatcher",)

logger = logging.getLogger("smscenter.smpp.client.pool")

_TAG_RECEIPTED_ID = 0x001E
_TAG_PAYLOAD = 0x0424
_READINGS = (ReceiptIdStyle.SAME, ReceiptIdStyle.DECIMAL_TEXT, ReceiptIdStyle.HEX_TEXT)
#: Agreeing observations (and none against) after which AUTO settles on a style.
DECIDE_AFTER = 3
#: How many recent submit_sm_resp ids AUTO remembers while it is still learning.
MEMORY = 65_536


class ReceiptIdMatcher:
    """Reads a pool's receipts with one id style (given, or detected: see the module).

    :param style: the pool's ``receipt_ids`` option.
    :param tz: the zone receipt dates are written in.
    """

    def __init__(self, style: ReceiptIdStyle = ReceiptIdStyle.AUTO, *, tz: tzinfo = MOSCOW):
        self._tz = tz
        self._reader = ReceiptReader(tz=tz)
        #: The style in force: the one given, or the one detected (``AUTO`` while learning).
        self.style = style
        #: True while AUTO is still finding out (the pool then reports its ids: :meth:`saw`).
        self.learning = style is ReceiptIdStyle.AUTO
        # An OrderedDict: dropping the oldest id is O(1) (popitem), where deleting a plain
        # dict's first key again and again costs a scan over the deleted slots each time.
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._votes = dict.fromkeys(_READINGS, 0)
        self._warned: set[str] = set()
        #: TLV-less receipts whose id matched none of the recent sends (AUTO, still learning).
        self.unmatched = 0

    # --- what the pool tells us ---------------------------------------------------------------

    def saw(self, ids: Iterable[object]) -> None:
        """Ids from ``submit_sm_resp`` (as written; non-strings are skipped)."""
        seen = self._seen
        for raw in ids:
            if type(raw) is str and raw:
                seen[canonical_message_id(raw)] = None
        while len(seen) > MEMORY:
            seen.popitem(last=False)

    # --- reading ------------------------------------------------------------------------------

    def read(self, pdu: DeliverSm) -> DeliveryReport:
        """The :class:`~smscenter.models.DeliveryReport` of a receipt, its id read in the
        style in force."""
        if not self.learning:
            return self._reader.report(pdu, text_ids=self.style)
        report = self._reader.report(pdu)
        tlv = pdu.tlv(_TAG_RECEIPTED_ID)
        if tlv is not None and tlv.partition(b"\0")[0]:
            self._learn_from_tlv(pdu, report.message_id)
            return report
        text_id = report.raw_message_id
        if not text_id:
            return report
        readings = {style: receipt_text_id(text_id, style) for style in _READINGS}
        matching = [s for s, mid in readings.items() if mid is not None and mid in self._seen]
        values = {readings[s] for s in matching}
        if len(values) == 1:
            if len(matching) == 1:
                self._vote(matching[0])
            chosen = values.pop()
        else:
            leader = self._leader(matching or list(_READINGS))
            chosen = readings[leader] or report.message_id
            if matching:
                self._warn(
                    "ambiguous",
                    "smpp: the receipt id %r reads as several ids this pool sent (%s); read as %s. "
                    "Set SMPPOptions(receipt_ids=...) if receipts do not match their sends",
                    text_id,
                    ", ".join(str(readings[s]) for s in matching),
                    leader.value,
                )
            else:
                self.unmatched += 1
                # Nothing sent yet (a receiver bind, or receipts of an earlier run): no news.
                self._warn(
                    "unmatched" if self._seen else "",
                    "smpp: the receipt id %r matches none of the ids this pool received in "
                    "submit_sm_resp (in any base); read as %s. If receipts do not match their "
                    "sends, set SMPPOptions(receipt_ids=...)",
                    text_id,
                    leader.value,
                )
        if chosen is None or chosen == report.message_id:
            return report
        return attrs.evolve(report, message_id=chosen, raw_message_id=text_id)

    # --- learning -----------------------------------------------------------------------------

    def _learn_from_tlv(self, pdu: DeliverSm, tlv_id: str) -> None:
        data = pdu.short_message or pdu.tlv(_TAG_PAYLOAD) or b""
        text = data.decode("utf-16-be" if pdu.data_coding == 8 else "latin-1", "replace")
        text_id = parse_receipt_text(text, tz=self._tz).message_id
        if not text_id:
            return
        agree = [s for s in _READINGS if receipt_text_id(text_id, s) == tlv_id]
        # A text id that reads the same in every base ("7") says nothing.
        if len(agree) == 1 and len({receipt_text_id(text_id, s) for s in _READINGS}) > 1:
            self._vote(agree[0])

    def _vote(self, style: ReceiptIdStyle) -> None:
        votes = self._votes
        votes[style] += 1
        others = sum(n for s, n in votes.items() if s is not style)
        if others:
            self._warn(
                "conflict",
                "smpp: receipts disagree about how their text writes message ids (%s); each "
                "receipt is matched on its own. Set SMPPOptions(receipt_ids=...) to decide",
                ", ".join(f"{s.value}: {n}" for s, n in votes.items() if n),
            )
        elif votes[style] >= DECIDE_AFTER:
            self.style = style
            self.learning = False
            self._seen.clear()
            logger.info("smpp: receipt texts write message ids as %r (detected)", style.value)

    def _leader(self, among: list[ReceiptIdStyle]) -> ReceiptIdStyle:
        best = max(among, key=lambda s: (self._votes[s], s is ReceiptIdStyle.SAME))
        return best

    def _warn(self, kind: str, message: str, *args: object) -> None:
        if not kind or kind in self._warned:
            logger.debug(message, *args)
            return
        self._warned.add(kind)
        logger.warning(message, *args)
