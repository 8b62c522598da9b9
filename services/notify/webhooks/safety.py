"""Keeps webhooks from turning the platform into a proxy into its own network (SSRF): the URL
rules checked at registration, and the address rules the delivery transport checks again when it
connects, since a name's addresses may change in between (DNS rebinding)."""
from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
# Names that only ever mean this machine or a private network, refused before any lookup.
PRIVATE_NAMES = ("localhost", "local", "internal", "localdomain", "home.arpa")

_net = ipaddress.ip_network
# First match names the problem, so the specific ranges come before those that hold them.
_V4_RULES = tuple((_net(cidr), label) for cidr, label in (
    ("169.254.169.254/32", "a cloud metadata address"),
    ("100.100.100.200/32", "a cloud metadata address"),
    ("0.0.0.0/8", "an unspecified (this-network) address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "an IETF protocol address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a 6to4 relay address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address"),
))
_V6_RULES = tuple((_net(cidr), label) for cidr, label in (
    ("fd00:ec2::254/128", "a cloud metadata address"),
    ("::/128", "the unspecified address"),
    ("::1/128", "the loopback address"),
    ("::/96", "an IPv4-compatible address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001::/32", "a Teredo address"),
    ("2001::/23", "an IETF protocol address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("fc00::/7", "a unique-local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
))
_NAT64 = _net("64:ff9b::/96")
_GLOBAL_UNICAST_V6 = _net("2000::/3")
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")


class UnsafeURL(ValueError):
    """A URL webhooks will not call; the message says why (it is shown for the `url` field)."""


class ForbiddenAddress(UnsafeURL):
    """The host has, or the connection reached, an address webhooks may not reach."""


class _Allow(NamedTuple):
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    hosts: frozenset[str]


def normalise_allow(allow: Sequence[str]) -> tuple[str, ...]:
    """The allow-list as a tuple of trimmed, non-empty entries (so `setting.split(",")` will do);
    a malformed entry is a configuration error and raises ValueError."""
    if isinstance(allow, str):
        raise TypeError("allow is a sequence of networks and host names, not one string")
    entries = tuple(entry.strip() for entry in allow if entry.strip())
    _parse_allow(entries)
    return entries


@lru_cache(maxsize=64)
def _parse_allow(allow: tuple[str, ...]) -> _Allow:
    networks, hosts = [], set()
    for entry in allow:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            host = entry.strip().lower().rstrip(".")
            if not all(_LABEL.fullmatch(label) for label in host.split(".")):
                raise ValueError(f"webhook allow-list entry {entry!r} is neither a network nor a host name") from None
            hosts.add(host)
    return _Allow(tuple(networks), frozenset(hosts))


def is_allowed_host(host: str, allow: Sequence[str] = ()) -> bool:
    return host.lower().rstrip(".") in _parse_allow(tuple(allow)).hosts


def address_problem(ip: IPAddress, allow: Sequence[str] = ()) -> str | None:
    """What makes `ip` unreachable for webhooks ("a loopback address"…), or None if it is public
    or allow-listed."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d reaches a.b.c.d through a dual-stack socket
            problem = address_problem(ip.ipv4_mapped, allow)
            return problem and f"an IPv4-mapped form of {ip.ipv4_mapped}, {problem}"
        ip = ipaddress.IPv6Address(int(ip))  # a zone (%eth0) plays no part in the rules
    if any(ip in network for network in _parse_allow(tuple(allow)).networks):
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        label = next((label for network, label in _V4_RULES if ip in network), None)
        return label or (None if ip.is_global else "not a public address")
    # Translated forms reach the IPv4 address they embed: judge that one.
    embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else ip.sixtofour
    if embedded is not None:
        problem = address_problem(embedded, allow)
        return problem and f"a translated form of {embedded}, {problem}"
    label = next((label for network, label in _V6_RULES if ip in network), None)
    if label:
        return label
    return None if ip in _GLOBAL_UNICAST_V6 and ip.is_global else "not a public address"


def is_forbidden_address(ip: IPAddress, allow: Sequence[str] = ()) -> bool:
    return address_problem(ip, allow) is not None


def refusal(host: str, ip: IPAddress, problem: str, how: str = "resolves to") -> str:
    """The message for a refused address, naming host, address and reason."""
    where = f"{ip}" if host.strip("[]") == str(ip) else f"{host} {how} {ip}, which"
    return f"{where} is not allowed for webhooks: it is {problem}, and webhooks only go to public addresses"


def resolve_checked(host: str, port: int, allow: Sequence[str] = ()) -> list[tuple]:
    """getaddrinfo's answers for host:port, raising ForbiddenAddress if ANY is not allowed (an
    attacker's DNS may mix a public answer with a private one). Lookup failures raise socket.gaierror."""
    host = host.strip("[]")
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise socket.gaierror(socket.EAI_NONAME, "no addresses")
    if is_allowed_host(host, allow):
        return infos
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        problem = address_problem(ip, allow)
        if problem:
            raise ForbiddenAddress(refusal(host, ip, problem))
    return infos


def _authority(url: str) -> str:
    rest = url.partition("://")[2]
    return re.split(r"[/?#\\]", rest, maxsplit=1)[0]


def _host(raw: str) -> tuple[str, IPAddress | None]:
    """The host in canonical form, and its address when it is one. Numeric IPv4 spellings that
    resolvers accept (`2130706433`, `0177.0.0.1`, `0x7f.1`) become dotted quads, so they are judged
    as what they are."""
    if raw.startswith("["):
        try:
            ip = ipaddress.IPv6Address(raw[1:-1])
        except ValueError:
            raise UnsafeURL(f"{raw} is not a valid IPv6 address") from None
        return f"[{ip}]", ip
    host = raw.lower().rstrip(".")
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):  # no top-level domain is numeric: this is an IPv4 address
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            raise UnsafeURL(f"{raw} is not a valid IPv4 address") from None
        return str(ip), ip
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeURL(f"{raw} is not a valid host name")
    return host, None


def normalise_url(url: str, allow: Sequence[str] = ()) -> str:
    """Every check but the address lookup; the URL back in canonical form (no fragment, no default
    port, numeric hosts spelled plainly). It is parsed as urllib3 will parse it to send it, so no
    second reading of the same text can reach another host."""
    if not isinstance(url, str) or not url:
        raise UnsafeURL("a URL is required")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise UnsafeURL("the URL may not contain spaces or control characters")
    if "\\" in url:
        raise UnsafeURL("the URL may not contain backslashes")
    if not re.match(r"(?i)https?://", url):
        raise UnsafeURL("the URL must start with https:// or http://")
    if "@" in _authority(url):
        raise UnsafeURL("the URL may not contain a user name or password")
    try:
        parts = parse_url(url)
    except LocationParseError:
        port = _authority(url).rpartition("]")[2].rpartition(":")[2]
        if port.isdigit():
            raise UnsafeURL("the port must be between 1 and 65535") from None
        raise UnsafeURL("the URL is not valid") from None
    if not parts.host:
        raise UnsafeURL("the URL has no host")
    if parts.port is not None and not 1 <= parts.port <= 65535:
        raise UnsafeURL("the port must be between 1 and 65535")
    host, ip = _host(parts.host)
    if ip is None and not is_allowed_host(host, allow):
        if any(host == name or host.endswith("." + name) for name in PRIVATE_NAMES):
            raise UnsafeURL(f"{host} is a local or internal host name, which webhooks may not reach")
        if "." not in host:
            raise UnsafeURL(f"{host} is not a public host name (it has no domain)")
    if ip is not None:
        problem = address_problem(ip, allow)
        if problem:
            raise ForbiddenAddress(refusal(host, ip, problem))
    port = None if parts.port == DEFAULT_PORTS[parts.scheme] else parts.port
    return Url(scheme=parts.scheme, host=host, port=port, path=parts.path or "/", query=parts.query).url


def check_url(url: str, allow: Sequence[str] = ()) -> str:
    """The URL in canonical form if webhooks may call it, else UnsafeURL saying why: http(s), a host
    that resolves only to public addresses (or is allow-listed), no credentials, a sane port."""
    allow = normalise_allow(allow)
    normalised = normalise_url(url, allow)
    parts = parse_url(normalised)
    try:
        resolve_checked(parts.host, parts.port or DEFAULT_PORTS[parts.scheme], allow)
    except socket.gaierror:
        raise UnsafeURL(f"{parts.host} does not resolve to an address") from None
    return normalised
