"""Coarse until disclosed: while an event's address is hidden, the public gets a point about a
kilometre off, never the exact one.

The coarse point is the event's grid cell (0.01° of latitude, about 1.1 km, and as many metres of
longitude) with an offset inside the cell that an HMAC of the event's id under a server secret
chooses. It depends on the exact point only through the cell, so its digits say nothing finer
than the cell; it is the same for every request and every process (the secret is kept in the
database), so averaging many answers reveals nothing; and without the secret the offset cannot
be undone. A candidate that falls within MIN_METRES of the exact point is passed over for the
next one the HMAC gives: the public point is never the place itself.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from services.events.models import PlaceKey
from shared.kernel import current_kernel

GRID_DEGREES = 0.01  # a cell's height: about 1.1 km
EDGE = 0.1  # offsets keep this share of a cell from its edges: at most ~1.4 km from the exact point
MIN_METRES = 200.0  # never closer to the exact point than this
DECIMALS = 3  # about 100 m: the coarse point does not look more exact than it is
EARTH_METRES = 6_371_000.0


def place_secret(session: Session) -> bytes:
    """The server's secret for coarse points, made on first use and kept in the database, so
    every process of the service gives the same points."""
    key = session.get(PlaceKey, 1)
    if key is None:
        session.add(PlaceKey(id=1, secret=secrets.token_hex(32)))
        session.flush()
        key = session.get(PlaceKey, 1)
    return bytes.fromhex(key.secret)


def keep_place_secret(kernel) -> None:
    """Read (or make) the secret as the service starts, so no request waits for it."""
    try:
        with kernel.db.transaction() as session:
            kernel.provide(place_secret=place_secret(session))
    except SQLAlchemyError:  # not migrated yet, or another process making it now: read on first use
        kernel.dependencies.pop("place_secret", None)


def current_place_secret() -> bytes:
    """The secret, read once per process (it never changes)."""
    known = current_kernel().dependencies
    if "place_secret" not in known:
        try:
            with current_kernel().db.transaction() as session:
                known["place_secret"] = place_secret(session)
        except IntegrityError:  # another process made it at the same moment: theirs it is
            with current_kernel().db.transaction() as session:
                known["place_secret"] = place_secret(session)
    return known["place_secret"]


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_METRES * math.asin(min(1.0, math.sqrt(a)))


def _offsets(secret: bytes, event_id: str, attempt: int) -> tuple[float, float]:
    digest = hmac.new(secret, f"{event_id}:{attempt}".encode(), hashlib.sha256).digest()
    return (int.from_bytes(digest[:8], "big") / 2**64, int.from_bytes(digest[8:16], "big") / 2**64)


def coarse_point(latitude: float, longitude: float, event_id: str, secret: bytes) -> tuple[float, float]:
    """The public's point for an event whose address is hidden: in the exact point's cell, at
    an offset only the secret and the event's id decide, never within MIN_METRES of it."""
    row = math.floor(latitude / GRID_DEGREES)
    south = row * GRID_DEGREES
    # A cell about as wide as it is high, however far from the equator (up to 78°).
    width = GRID_DEGREES / max(math.cos(math.radians(south + GRID_DEGREES / 2)), 0.2)
    west = math.floor(longitude / width) * width
    best, farthest = None, -1.0
    for attempt in range(32):
        u, v = _offsets(secret, event_id, attempt)
        lat = round(min(max(south + (EDGE + (1 - 2 * EDGE) * u) * GRID_DEGREES, -90.0), 90.0), DECIMALS)
        lon = round(((west + (EDGE + (1 - 2 * EDGE) * v) * width + 180.0) % 360.0) - 180.0, DECIMALS)
        away = metres_between(lat, lon, latitude, longitude)
        if away >= MIN_METRES:
            return lat, lon
        if away > farthest:
            best, farthest = (lat, lon), away
    return best  # 32 candidates all within MIN_METRES: as good as impossible in a cell this size


def public_point(event, shown: bool, secret: bytes | None = None) -> tuple[float | None, float | None, bool]:
    """(latitude, longitude, approximate) of an event as the public gets it: exact once its
    place is public (`shown`), coarse before; nothing without coordinates."""
    if event.latitude is None or event.longitude is None:
        return None, None, False
    if shown:
        return event.latitude, event.longitude, False
    lat, lon = coarse_point(event.latitude, event.longitude, event.id, secret or current_place_secret())
    return lat, lon, True
