"""The demo job behind ``smscenter demo``: a realistic run against the embedded simulator.

It needs no account and nothing leaves the machine: :func:`start_simulator` starts
:class:`~smscenter.testing.SMSCSimulator` on 127.0.0.1 with a real-time clock and short delivery
delays, then :func:`run_demo`

1. sends a few messages over HTTP (:class:`~smscenter.HTTPClient`): a price quote, then the
   sends with their ids, parts, cost and the balance after each;
2. checks their statuses right away and again once the simulated operators have answered;
3. sends a bulk job over an SMPP pool of several binds (``MCONn``) while the delivery receipts
   come back on the same binds, with the simulator's per-account throughput limit below the
   pool's rate so throttling shows;
4. prints a summary table whose numbers add up (:attr:`DemoSummary.consistent`).

Needs the ``testing`` and ``cli`` extras (the simulator and rich).
"""

from __future__ import annotations

import inspect
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import anyio
import attrs
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from smscenter.cli import bulk as bulk_mod
from smscenter.config import Limits
from smscenter.http.client import HTTPClient
from smscenter.models import DeliveryReport, Message, MessageStatus, SendResult
from smscenter.testing import Behaviour, SMSCSimulator

__all__ = ("DemoSummary", "SMPPPart", "run_demo", "smpp_available", "start_simulator")

#: The final outcomes the simulated operators draw from, ``{(status, err): weight}``:
#: mostly delivered, some subscribers offline or unknown, a few messages expire.
DEMO_OUTCOMES: dict[tuple[int, int], float] = {
    (1, 0): 92.0,  # delivered
    (20, 6): 4.0,  # undeliverable: subscriber offline
    (20, 1): 2.0,  # undeliverable: subscriber not found
    (3, 0): 2.0,  # expired
}

#: The demo account's password: SMPP carries at most 8 octets.
DEMO_PASSWORD = "demo1234"
#: Enough for the bulk job (one SMS part costs 2.5 on the simulator).
DEMO_BALANCE = Decimal(50_000)

_HTTP_MESSAGES = (
    ("+7 999 123-45-67", "Your confirmation code: 4721"),
    (
        "+79991234568",
        "Здравствуйте! Ваш заказ №1042 собран и передан в службу доставки. "
        "Курьер позвонит за час до приезда.",
    ),
    (
        "+79991234569",
        "Dear customer, your subscription renews on 1 December. To keep your plan and your "
        "saved preferences nothing needs to be done; to change or cancel it, reply STOP or "
        "visit your account page.",
    ),
    ("+79990000000", "Your table for two is booked for 19:30 tonight."),
)
# The last number is one the simulated operator cannot reach.
_UNREACHABLE = ("79990000000", (20, 1))

_BULK_TEXTS = (
    "Your code is {code}. Do not share it with anyone.",
    "Order #{order} has shipped and arrives tomorrow.",
    "Reminder: your appointment is tomorrow at {hour}:00.",
    "Weekend sale: 20% off everything until Sunday. Reply STOP to opt out.",
)


def _accepts(name: str) -> bool:
    return name in inspect.signature(SMSCSimulator.__init__).parameters


def smpp_available(sim: SMSCSimulator) -> bool:
    """Whether this simulator serves SMPP too (its SMPP half is newer than its HTTP half)."""
    try:
        return getattr(sim, "smpp_port", None) is not None
    except RuntimeError:  # built with smpp=False
        return False


@asynccontextmanager
async def start_simulator(
    *,
    seed: int = 0,
    http_port: int = 0,
    smpp_port: int = 0,
    delivery_delay: float = 2.0,
    failure_rate: float | None = None,
) -> AsyncIterator[SMSCSimulator]:
    """Run the simulator on a real-time clock (statuses move on by themselves).

    :param delivery_delay: seconds from sending to the final status (a third of it to
        "transmitted").
    :param failure_rate: the share of messages that end undeliverable; ``None`` uses the demo's
        mix (:data:`DEMO_OUTCOMES`).
    """
    outcomes = (
        dict(DEMO_OUTCOMES)
        if failure_rate is None
        else {(1, 0): 1.0 - failure_rate, (20, 6): failure_rate}
    )
    behaviour = Behaviour(
        transmit_delay=delivery_delay / 3,
        delivery_delay=delivery_delay,
        outcomes={k: v for k, v in outcomes.items() if v > 0} or {(1, 0): 1.0},
    )
    kwargs: dict[str, Any] = {}
    if _accepts("smpp_port"):
        kwargs["smpp_port"] = smpp_port
    async with SMSCSimulator(
        clock=time.time,
        seed=seed,
        http_port=http_port,
        behaviour=behaviour,
        # SMPP 3.4 carries at most 8 octets of password (§5.2.3).
        password=DEMO_PASSWORD,
        balance=DEMO_BALANCE,
        **kwargs,
    ) as sim:
        yield sim


@attrs.frozen(kw_only=True)
class SMPPPart:
    """What the SMPP bulk job did.

    ``acknowledged + failed + unknown == sent`` and every acknowledged message is either in
    ``final`` (by status) or ``awaiting_receipt``.
    """

    messages: int
    binds: int
    sent: int
    acknowledged: int
    failed: int
    unknown: int
    parts: int
    final: dict[str, int]
    awaiting_receipt: int
    throttled: int
    send_seconds: float
    total_seconds: float
    cost: Decimal

    @property
    def delivered(self) -> int:
        """Messages whose receipt says delivered."""
        return self.final.get(MessageStatus.DELIVERED.value, 0)

    @property
    def rate(self) -> float:
        """Acknowledged messages per second while sending."""
        return self.acknowledged / self.send_seconds if self.send_seconds > 0 else 0.0

    @property
    def consistent(self) -> bool:
        """Whether the counts add up."""
        return (
            self.sent == self.messages
            and self.acknowledged + self.failed + self.unknown == self.sent
            and sum(self.final.values()) + self.awaiting_receipt == self.acknowledged
        )


@attrs.frozen(kw_only=True)
class DemoSummary:
    """The demo's numbers (what the summary table shows)."""

    http_sent: int
    http_parts: int
    http_cost: Decimal
    http_final: dict[str, int]
    balance_start: Decimal
    balance_end: Decimal
    smpp: SMPPPart | None = None
    smpp_skipped: str | None = None

    @property
    def consistent(self) -> bool:
        """Whether the counts add up, and the money too."""
        spent = self.http_cost + (self.smpp.cost if self.smpp is not None else Decimal(0))
        return (
            sum(self.http_final.values()) == self.http_sent
            and self.balance_start - self.balance_end == spent
            and (self.smpp is None or self.smpp.consistent)
        )


def _status_cell(report: DeliveryReport) -> str:
    colour = (
        "green" if report.status.is_delivered else "red" if report.status.is_failure else "yellow"
    )
    error = f" ({report.error.name.lower().replace('_', ' ')})" if report.error else ""
    return f"[{colour}]{report.status.value}{error}[/]"


async def _http_part(
    console: Console, sim: SMSCSimulator, delivery_delay: float
) -> tuple[Decimal, list[SendResult], dict[str, int]]:
    sim.behaviour.phone_outcomes[_UNREACHABLE[0]] = _UNREACHABLE[1]
    async with HTTPClient(sim.credentials, base_url=sim.base_url) as api:
        start = await api.balance()
        console.print(f"Balance: [bold]{start.balance}[/] {start.currency or ''}")
        phone, text = _HTTP_MESSAGES[1]
        quote = await api.cost(Message(to=phone, text=text))
        console.print(
            f"Price check (send.php cost=1, nothing sent): the Cyrillic order notice takes "
            f"{quote.parts} parts and costs {quote.cost}"
        )
        sent = Table(title="Sent over HTTP", box=box.SIMPLE_HEAVY, title_justify="left")
        for column in ("to", "text", "id", "parts", "cost", "balance"):
            if column == "text":
                sent.add_column(column, no_wrap=True, max_width=24, overflow="ellipsis")
            else:
                sent.add_column(column, justify="right", min_width=len(column))
        results: list[SendResult] = []
        messages: list[Message] = []
        for phone, text in _HTTP_MESSAGES:
            message = Message(to=phone, text=text)
            result = await api.send(message)
            messages.append(message)
            results.append(result)
            sent.add_row(
                message.to[0],
                text,
                result.message_id,
                str(result.parts),
                str(result.cost),
                str(result.balance),
            )
        console.print(sent)
        pairs = [
            (r.message_id, m.to[0])
            for r, m in zip(results, messages, strict=True)
            if r.message_id is not None  # (an HTTP send's result always has one)
        ]
        first = [await api.status(mid, phone) for mid, phone in pairs]
        # Real-time clock: the simulated operators answer after delivery_delay seconds.
        deadline = time.monotonic() + delivery_delay * 3 + 5
        with console.status("waiting for the operators' answers..."):
            await anyio.sleep(delivery_delay + 0.3)
            while True:
                later = [await api.status(mid, phone) for mid, phone in pairs]
                if all(r.status.is_final for r in later) or time.monotonic() > deadline:
                    break
                await anyio.sleep(0.5)
        table = Table(title="Statuses (status.php)", box=box.SIMPLE_HEAVY, title_justify="left")
        for column in ("message id", "to", "right after sending", f"after {delivery_delay:g} s"):
            table.add_column(column, no_wrap=column != f"after {delivery_delay:g} s")
        for (mid, phone), before, after in zip(pairs, first, later, strict=True):
            table.add_row(mid, phone, _status_cell(before), _status_cell(after))
        console.print(table)
        final = Counter(r.status.value for r in later)
    return start.balance, results, dict(final)


def _bulk_recipients(count: int, seed: int) -> list[bulk_mod.Recipient]:
    out = []
    for i in range(count):
        template = _BULK_TEXTS[i % len(_BULK_TEXTS)]
        text = template.format(
            code=(i * 7919 + seed) % 9000 + 1000, order=10_000 + i, hour=9 + i % 9
        )
        out.append(bulk_mod.Recipient(row=i + 1, phone=f"7900{i + seed:07d}", text=text))
    return out


async def _smpp_part(
    console: Console,
    sim: SMSCSimulator,
    *,
    messages: int,
    binds: int,
    rate: float,
    seed: int,
    receipt_timeout: float,
) -> SMPPPart:
    from smscenter.smpp.client.pool import SMPPPool

    knobs: Any = getattr(sim.behaviour, "smpp")  # noqa: B009 (newer than this module's typing)
    # The account's limit (the provider's default is 30/s; raised here) sits below the pool's
    # rate: the SMSC answers some submits with ESME_RTHROTTLED, and the pool resends them after
    # a pause and slows down to what the SMSC takes.
    knobs.throughput = rate / 2
    host: str = getattr(sim, "smpp_host")  # noqa: B009
    port: int = getattr(sim, "smpp_port")  # noqa: B009
    recipients = _bulk_recipients(messages, seed)
    progress = bulk_mod.BulkProgress(total=len(recipients))
    final: dict[str, MessageStatus] = {}
    acked: set[str] = set()
    all_final = anyio.Event()
    sending_done = [False]

    def check_done() -> None:
        if sending_done[0] and acked.issubset(final):
            all_final.set()

    def on_sent(recipient: bulk_mod.Recipient, row: bulk_mod.ResultRow) -> None:
        acked.add(row.message_id)

    limits = Limits(connections=binds, window=200, max_rate=rate)
    console.print(
        f"SMPP bulk job: {messages} messages over {binds} binds (MCON{binds}) to "
        f"{host}:{port}, pool rate {rate:g}/s, account limit {knobs.throughput:g}/s"
    )
    balance_before = sim.balance()
    started = time.monotonic()
    async with SMPPPool(host, port, sim.credentials, limits=limits) as pool:
        progress.throttled = lambda: pool.statistics().throttled

        async def receipts() -> None:
            async with pool.reports() as stream:
                async for event in stream:
                    if isinstance(event, DeliveryReport) and event.status.is_final:
                        final[event.message_id] = event.status
                        check_done()

        ui = Progress(
            TextColumn("[bold]sending"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
            refresh_per_second=8,
        )

        def counts() -> str:
            p = progress
            return (
                f"[green]ack {p.acknowledged}[/]  [red]failed {p.failed}[/]  "
                f"throttled {pool.statistics().throttled}  "
                f"receipts {len(final)}  {p.rate:,.0f}/s"
            )

        task = ui.add_task("bulk", total=len(recipients), counts="")

        async def refresh() -> None:
            while True:
                ui.update(task, completed=progress.done, counts=counts())
                await anyio.sleep(0.125)

        async with anyio.create_task_group() as group:
            group.start_soon(receipts)
            with ui:
                group.start_soon(refresh)
                await bulk_mod.run_bulk(
                    recipients, bulk_mod.SMPPBulkSender(pool), progress, on_sent=on_sent
                )
                send_seconds = time.monotonic() - started
                sending_done[0] = True
                check_done()
                with anyio.move_on_after(receipt_timeout):
                    await all_final.wait()
                ui.update(task, completed=progress.done, counts=counts())
            group.cancel_scope.cancel()
        throttled = pool.statistics().throttled
    by_status = Counter(final[mid].value for mid in acked if mid in final)
    return SMPPPart(
        messages=messages,
        binds=binds,
        sent=progress.sent,
        acknowledged=progress.acknowledged,
        failed=progress.failed,
        unknown=progress.unknown,
        parts=progress.parts,
        final=dict(by_status),
        awaiting_receipt=sum(1 for mid in acked if mid not in final),
        throttled=throttled,
        send_seconds=send_seconds,
        total_seconds=time.monotonic() - started,
        cost=balance_before - sim.balance(),
    )


def _summary(summary: DemoSummary) -> Table:
    smpp = summary.smpp
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("")
    table.add_column("HTTP", justify="right")
    title = "SMPP pool" if smpp is None else f"SMPP pool ({smpp.binds} binds)"
    table.add_column(title, justify="right")

    def smpp_cell(value: object) -> str:
        return "-" if smpp is None else str(value)

    statuses = sorted(
        set(summary.http_final) | (set(smpp.final) if smpp else set()),
        key=lambda s: (s != MessageStatus.DELIVERED.value, s),
    )
    table.add_row("messages", str(summary.http_sent), smpp_cell(smpp and smpp.messages))
    table.add_row("acknowledged", str(summary.http_sent), smpp_cell(smpp and smpp.acknowledged))
    table.add_row(
        "refused / unknown", "0 / 0", smpp_cell(smpp and f"{smpp.failed} / {smpp.unknown}")
    )
    table.add_row("[dim]final status:[/]", "", "")
    for name in statuses:
        table.add_row(
            f"  {name}",
            str(summary.http_final.get(name, 0)),
            smpp_cell(smpp and smpp.final.get(name, 0)),
        )
    table.add_row("  awaiting receipt", "0", smpp_cell(smpp and smpp.awaiting_receipt))
    table.add_row("SMS parts billed", str(summary.http_parts), smpp_cell(smpp and smpp.parts))
    table.add_row("send rate", "-", smpp_cell(smpp and f"{smpp.rate:,.0f} msg/s"))
    table.add_row("throttled (resent)", "-", smpp_cell(smpp and smpp.throttled))
    table.add_row("cost", str(summary.http_cost), smpp_cell(smpp and smpp.cost))
    return table


async def run_demo(
    console: Console,
    *,
    messages: int = 2000,
    binds: int = 3,
    rate: float = 1000.0,
    seed: int = 7,
    smpp: bool = True,
    delivery_delay: float = 2.0,
    receipt_timeout: float = 20.0,
) -> DemoSummary:
    """Start the simulator, run the demo job, print its tables on ``console``.

    :param messages: / :param binds: / :param rate: the SMPP bulk job's size, binds and rate.
    :param smpp: run the SMPP part (when the simulator serves SMPP).
    :param delivery_delay: seconds the simulated operators take to answer.
    :param receipt_timeout: how long to wait for the last receipts after sending.
    """
    console.rule("[bold]smscenter demo")
    async with start_simulator(seed=seed, delivery_delay=delivery_delay) as sim:
        smpp_address = (
            f", SMPP {getattr(sim, 'smpp_host')}:{getattr(sim, 'smpp_port')}"  # noqa: B009
            if smpp_available(sim)
            else ""
        )
        console.print(
            f"Embedded simulator: HTTP {sim.base_url}{smpp_address}, login {sim.login!r}. "
            "No account needed, nothing leaves this machine."
        )
        console.rule("1. HTTP: send, price, status")
        balance_start, results, http_final = await _http_part(console, sim, delivery_delay)
        part: SMPPPart | None = None
        skipped: str | None = None
        if not smpp:
            skipped = "skipped (--http-only)"
        elif not smpp_available(sim):
            skipped = "skipped: this simulator has no SMPP half"
        else:
            console.rule("2. SMPP: bulk over a pool of binds, receipts coming back")
            part = await _smpp_part(
                console,
                sim,
                messages=messages,
                binds=binds,
                rate=rate,
                seed=seed,
                receipt_timeout=receipt_timeout,
            )
        balance_end = sim.balance()
    summary = DemoSummary(
        http_sent=len(results),
        http_parts=sum(r.parts for r in results),
        http_cost=sum((r.cost or Decimal(0) for r in results), Decimal(0)),
        http_final=http_final,
        balance_start=balance_start,
        balance_end=balance_end,
        smpp=part,
        smpp_skipped=skipped,
    )
    console.rule("Summary")
    console.print(_summary(summary))
    if skipped:
        console.print(f"SMPP part {skipped}.")
    console.print(
        f"Balance {summary.balance_start} -> {summary.balance_end}. "
        + ("All numbers add up." if summary.consistent else "[red]The numbers do not add up![/]")
    )
    return summary
