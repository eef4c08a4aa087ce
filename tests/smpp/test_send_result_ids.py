"""The one place a ``SendResult`` is made of SMPP message ids (``_jobs.send_result``) gives the
canonical id (:func:`~smscenter.ids.canonical_message_id`) and keeps the id as written, for
every spelling an SMSC may use (SMPP 3.4 §4.4.2 leaves the id's content to the SMSC)."""

from __future__ import annotations

import pytest

from smscenter import Message
from smscenter.ids import canonical_message_id
from smscenter.smpp.client._jobs import JobState, new_job, noop, send_result


@pytest.mark.parametrize(
    "raw", ["1000000001", "7", "0", "0042", "000", "00ab", "10A", "10a", "3f2a-1", "١٢٣", " 42 "]
)
def test_send_result_ids_are_canonical_and_keep_the_wire_spelling(raw: str) -> None:
    message = Message(to="79991234567", text="hi")
    job = new_job((b"body",), noop, False, None, True, message, "79991234567", 0)
    job.responses[0] = raw
    job.state = JobState.DONE
    result = send_result(job)
    assert result.message_id == canonical_message_id(raw)
    assert result.part_ids == (canonical_message_id(raw),)
    assert result.raw_message_id == raw
