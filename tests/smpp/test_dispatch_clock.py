"""The reader's dispatch reads the clock once per batch of events, not once per receipt: with a
receipt per message, a clock read per ``deliver_sm`` was a visible share of the client's CPU."""

from __future__ import annotations

from test_pump_dispatch import Bind

from smscenter.smpp.pdu import DeliverSm


def test_the_receipts_of_one_read_share_one_clock_reading() -> None:
    bind = Bind()
    readings: list[float] = []

    def clock() -> float:
        readings.append(bind.now)
        return bind.now

    bind.dispatch._clock = clock
    for n in range(5):
        bind.smsc.send(
            DeliverSm(
                source_addr=f"7999000000{n}",
                esm_class=0x04,
                short_message=f"id:{100 + n} stat:DELIVRD err:000".encode(),
            )
        )
    bind.dispatch.handle(bind.esme.receive_data(bind.smsc.data_to_send()))
    reports = bind.dispatch._intake._buffer.items
    assert [item.message_id for item, *_ in reports] == [str(100 + n) for n in range(5)]
    assert readings == [bind.now]
