"""One clear line for every error a command can meet: what failed, where, and what to check.

The library raises typed errors (:mod:`smscenter.exceptions`); a command that runs several
tasks at once (``listen``, ``bulk``) may receive them wrapped in an :class:`ExceptionGroup`.
:func:`primary_error` digs the one that explains the failure out of such a group, and
:func:`explain` turns it into the line the command prints after ``error:``.
"""

from __future__ import annotations

import attrs

from smscenter import exceptions as exc

__all__ = ("Target", "explain", "leaf_errors", "primary_error")


@attrs.frozen
class Target:
    """What a command talks to: the channel, its address, and the settings that name it."""

    channel: str  # "HTTP" or "SMPP"
    address: str
    settings: str

    @classmethod
    def http(cls, base_url: str) -> Target:
        """The provider's HTTP API at ``base_url``."""
        return cls("HTTP", base_url, "--base-url (SMSC_BASE_URL)")

    @classmethod
    def smpp(cls, host: str, port: int, tls: bool) -> Target:
        """The SMSC's SMPP service."""
        address = f"{host}:{port}" + (" (TLS)" if tls else "")
        return cls(
            "SMPP",
            address,
            "--smpp-host, --smpp-port and --smpp-tls (SMSC_SMPP_HOST, SMSC_SMPP_PORT, "
            "SMSC_SMPP_TLS)",
        )


def leaf_errors(error: BaseException) -> list[BaseException]:
    """The errors inside ``error``, exception groups (nested too) flattened out."""
    if isinstance(error, BaseExceptionGroup):
        leaves: list[BaseException] = []
        for inner in error.exceptions:
            leaves.extend(leaf_errors(inner))
        return leaves
    return [error]


def _rank(error: BaseException) -> int:
    # The provider's own refusal says most, then a transport failure, then anything typed; a
    # cancellation or a bare group member without facts says least.
    if isinstance(error, exc.APIError):
        return 0
    if isinstance(error, exc.TransportError | exc.UnknownOutcomeError):
        return 1
    if isinstance(error, exc.SMSCenterError):
        return 2
    if isinstance(error, Exception):
        return 3
    return 4


def primary_error(error: BaseException) -> BaseException:
    """The error that explains a failure: ``error`` itself, or the most telling one in a group
    (the provider's refusal before a transport failure before anything else)."""
    leaves = leaf_errors(error)
    if not leaves:
        return error
    return min(leaves, key=_rank)


def _reason(error: BaseException) -> str:
    """The error's own text, without the address the line already names."""
    text = " ".join(str(error).split())
    # "could not connect to host:port#1: All connection attempts failed" and
    # "ConnectError (host:port): ..." both end in the reason proper.
    head, sep, tail = text.rpartition(": ")
    if sep and tail and any(ch in head for ch in ":(") and len(tail) > 3:
        text = tail
    name = type(error).__name__
    return f"{name}: {text}" if text and text != name else name


def explain(error: BaseException, target: Target | None) -> str:
    """One line: what failed, where, what to check (no ``error:`` prefix, not yet scrubbed)."""
    reason = _reason(error)
    if target is None:
        where = ""
        check_address = "the provider's address settings"
    else:
        where = f" at {target.address}"
        check_address = target.settings
    service = f"the {target.channel} service{where}" if target is not None else "the provider"
    if isinstance(error, exc.AuthenticationError):
        return (
            f"the provider refused the login ({service}): {reason}; check the login "
            "and the password or API key (--login, SMSC_LOGIN, SMSC_PASSWORD, SMSC_API_KEY "
            "or the config file)"
        )
    if isinstance(error, exc.IPBlockedError):
        return (
            f"the provider blocks this IP address ({service}): {reason}; check the "
            "account's allowed IP addresses on the provider's site"
        )
    if isinstance(error, exc.InsufficientFundsError):
        return f"not enough money on the account: {reason}; top up the balance"
    if isinstance(error, exc.APIError):
        return f"{reason} (answered by {service})"
    if isinstance(error, exc.ConnectTimeout):
        return (
            f"no connection to {service} in time: {reason}; check {check_address}, "
            "the network and any firewall"
        )
    if isinstance(error, exc.ConnectError):
        return (
            f"cannot connect to {service}: {reason}; check {check_address} and that "
            "the service is up and reachable from here"
        )
    if isinstance(error, exc.BindTimeout):
        return (
            f"the SMSC{where} did not answer the bind in time: {reason}; check {check_address} "
            "(the provider's SMPP port is 3700, 3443 with TLS)"
        )
    if isinstance(error, exc.ConnectionLost):
        return (
            f"the connection to {service} was closed: {reason}; check {check_address} "
            "(is it the SMPP service, with the right TLS setting?) and that the login may "
            "bind there"
        )
    if isinstance(error, exc.OperationTimeout):
        return (
            f"no answer from {service} in time: {reason}; check the network and that "
            "the service is healthy"
        )
    if isinstance(error, exc.RemoteProtocolError):
        return f"{service} does not answer like the provider: {reason}; check {check_address}"
    if isinstance(error, exc.UnknownOutcomeError):
        return (
            f"no answer from {service} after sending: {reason}; the message may have "
            "gone out: check its status before sending it again"
        )
    if isinstance(error, exc.TransportError):
        return f"{service} could not be reached: {reason}; check {check_address}"
    return reason
