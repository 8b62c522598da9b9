"""A holder's second factors (an authenticator app, recovery codes, passkeys): enrolling,
proving, removing. Each function takes the caller's transaction and commits nothing itself.

A holder is (kind, id): a coordinator or an organisation. Coordinators must have a factor to
do anything on the web; organisations may add one, and then need it too.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from services.registry import passkeys, totp
from services.registry.models import FactorChallenge, Passkey, RecoveryCode, TotpFactor
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Invalid, NotFound, Unauthenticated

CHALLENGE_MINUTES = 5
# What a token's `amr` says was proven, beside the key (RFC 8176's names).
SECOND_FACTORS = {"otp", "hwk", "rec"}
PASSKEY_LABEL_LENGTH = 100
MAX_PASSKEYS = 20


class SecondFactorNeeded(DomainError):
    """The key is right, and its holder has a second factor: it must be proven too."""

    status = 401
    type_ = "second-factor-needed"

    def __init__(self, detail: str, **extra):
        super().__init__(detail, title="A second factor is needed", **extra)


class FactorRefused(Unauthenticated):
    """A code, recovery code or passkey answer that does not prove the factor."""

    type_ = "second-factor-refused"


Holder = tuple[str, str]


def _of(model, holder: Holder):
    return (model.holder_kind == holder[0], model.holder_id == holder[1])


def _totp(session: Session, holder: Holder, lock: bool = False) -> TotpFactor | None:
    stmt = select(TotpFactor).where(*_of(TotpFactor, holder))
    return session.execute(stmt.with_for_update() if lock else stmt).scalar()


def passkeys_of(holder: Holder):
    """The holder's passkeys (a query to order and page)."""
    return select(Passkey).where(*_of(Passkey, holder))


def _passkeys(session: Session, holder: Holder) -> list[Passkey]:
    return list(session.execute(passkeys_of(holder).order_by(Passkey.created_at, Passkey.id)).scalars())


def passkey_of(session: Session, holder: Holder, passkey_id: str) -> Passkey:
    key = session.get(Passkey, passkey_id)
    if key is None or (key.holder_kind, key.holder_id) != holder:
        raise NotFound(f"No passkey of yours has the id {passkey_id}.")
    return key


def enrolled(session: Session, holder: Holder) -> list[str]:
    """The factors the holder has: "totp" (confirmed), "passkey"; recovery codes go with them."""
    found = []
    factor = _totp(session, holder)
    if factor is not None and factor.confirmed_at is not None:
        found.append("totp")
    if session.execute(select(func.count()).select_from(Passkey).where(*_of(Passkey, holder))).scalar_one():
        found.append("passkey")
    return found


def required(holder: Holder) -> bool:
    return holder[0] == "coordinator"


def recovery_codes_left(session: Session, holder: Holder) -> int:
    return session.execute(select(func.count()).select_from(RecoveryCode).where(
        *_of(RecoveryCode, holder), RecoveryCode.used_at.is_(None))).scalar_one()


def describe(session: Session, holder: Holder) -> dict:
    """What the holder's security page shows: no secret, no public key."""
    factor = _totp(session, holder)
    return {
        "required": required(holder),
        "enrolled": enrolled(session, holder),
        "totp": {"enrolled": factor is not None and factor.confirmed_at is not None,
                 "created_at": factor.confirmed_at if factor and factor.confirmed_at else None},
        "recovery_codes_left": recovery_codes_left(session, holder),
        "passkeys": [{"id": p.id, "label": p.label, "created_at": p.created_at, "last_used_at": p.last_used_at}
                     for p in _passkeys(session, holder)],
    }


# --- proving a factor at sign-in ---------------------------------------------------------

def prove(session: Session, holder: Holder, proof: dict, sealer: totp.Sealer, rp: passkeys.RelyingParty) -> str:
    """Check the one proof in `proof` (otp, recovery_code, or passkey with its challenge);
    answer its `amr` name. Refused: FactorRefused, nothing changed."""
    if proof.get("otp") is not None:
        factor = _totp(session, holder, lock=True)  # two requests with one code: one wins
        if factor is None or factor.confirmed_at is None:
            raise FactorRefused("This account has no authenticator app.")
        step = totp.accepted_step(sealer.open(factor.secret_sealed), proof["otp"], factor.last_step)
        # Taken by a write that holds only if no other request took this step (or a later one)
        # meanwhile: SQLite has no row locks, and its reads see no transaction of their own.
        taken = step is not None and session.execute(
            update(TotpFactor).where(*_of(TotpFactor, holder), TotpFactor.last_step < step)
            .values(last_step=step).execution_options(synchronize_session=False)).rowcount == 1
        if not taken:
            raise FactorRefused("The code is not right, or was used already; wait for the next one.")
        return "otp"
    if proof.get("recovery_code") is not None:
        row = session.execute(select(RecoveryCode).where(
            *_of(RecoveryCode, holder), RecoveryCode.digest == totp.recovery_digest(proof["recovery_code"]),
            RecoveryCode.used_at.is_(None)).with_for_update()).scalar()
        taken = row is not None and session.execute(
            update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount == 1
        if not taken:  # unknown, used, or used by another request a moment ago
            raise FactorRefused("That recovery code is not right, or was used already.")
        return "rec"
    if proof.get("passkey") is not None:
        challenge = _take_challenge(session, holder, "authenticate", proof.get("challenge"))
        credential_id = passkeys.credential_id_of(proof["passkey"])
        key = session.execute(select(Passkey).where(*_of(Passkey, holder), Passkey.credential_id == credential_id)
                              ).scalar() if credential_id else None
        if key is None:
            raise FactorRefused("That passkey is not one of this account's.")
        try:
            key.sign_count = passkeys.verified_sign_count(rp, proof["passkey"], challenge, key.public_key,
                                                          key.sign_count)
        except passkeys.PasskeyRefused as exc:
            raise FactorRefused(f"The passkey's answer does not prove it: {exc}") from None
        key.last_used_at = utcnow()
        return "hwk"
    raise SecondFactorNeeded("This account has a second factor: send a code (otp), a recovery code or a passkey.",
                             factors=enrolled(session, holder))


def sign_in_challenge(session: Session, holder: Holder, rp: passkeys.RelyingParty) -> dict:
    known = [p.credential_id for p in _passkeys(session, holder)]
    if not known:
        raise Conflict("This account has no passkey.")
    options, challenge = passkeys.authentication_options(rp, known)
    return {"challenge": _keep_challenge(session, holder, "authenticate", challenge), "options": options}


def _keep_challenge(session: Session, holder: Holder, purpose: str, challenge: str) -> str:
    now = utcnow()
    session.execute(delete(FactorChallenge).where(FactorChallenge.expires_at < now))  # old ones go
    row = FactorChallenge(holder_kind=holder[0], holder_id=holder[1], purpose=purpose, challenge=challenge,
                          expires_at=now + timedelta(minutes=CHALLENGE_MINUTES))
    session.add(row)
    session.flush()
    return row.id


def _take_challenge(session: Session, holder: Holder, purpose: str, challenge_id) -> str:
    """The challenge handed out under this id, used up (a second answer to it is refused)."""
    row = session.get(FactorChallenge, challenge_id) if isinstance(challenge_id, str) else None
    if row is None or (row.holder_kind, row.holder_id, row.purpose) != (*holder, purpose) \
            or row.expires_at < utcnow():
        raise FactorRefused("The passkey challenge is unknown or expired: ask for a new one.")
    # Used up by a delete that only one of two answers sent at once can make.
    if session.execute(delete(FactorChallenge).where(FactorChallenge.id == row.id)
                       .execution_options(synchronize_session=False)).rowcount != 1:
        raise FactorRefused("The passkey challenge was answered already: ask for a new one.")
    return row.challenge


# --- enrolling and removing ----------------------------------------------------------------

def begin_totp(session: Session, holder: Holder, account: str, sealer: totp.Sealer) -> dict:
    """A secret to show once as a QR code: the pending one, if any, else a new one. Refused once
    the app is confirmed (remove it first): its secret is never shown again."""
    factor = _totp(session, holder, lock=True)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict("An authenticator app is set up already; remove it to set up another.")
    if factor is None:
        factor = TotpFactor(holder_kind=holder[0], holder_id=holder[1], secret_sealed=sealer.seal(totp.new_secret()),
                            last_step=0)
        session.add(factor)
        session.flush()
    secret = sealer.open(factor.secret_sealed)
    return {"secret": secret, "uri": totp.provisioning_uri(secret, account)}


def confirm_totp(session: Session, holder: Holder, code: str, sealer: totp.Sealer) -> list[str]:
    """The app works (its code is right): the factor counts from now; answers new recovery codes."""
    factor = _totp(session, holder, lock=True)
    if factor is None or factor.confirmed_at is not None:
        raise Conflict("No authenticator app is waiting to be confirmed: start again.")
    step = totp.accepted_step(sealer.open(factor.secret_sealed), code, factor.last_step)
    if step is None:
        raise Invalid("The code is not right: type the six digits the app shows now.",
                      errors=[{"field": "code", "location": "json", "message": "Not the app's current code."}])
    factor.last_step, factor.confirmed_at = step, utcnow()
    return new_recovery_codes(session, holder)


def new_recovery_codes(session: Session, holder: Holder) -> list[str]:
    """Ten new codes, shown this once; the old ones stop working."""
    session.execute(delete(RecoveryCode).where(*_of(RecoveryCode, holder)))
    codes = totp.new_recovery_codes()
    session.add_all(RecoveryCode(holder_kind=holder[0], holder_id=holder[1], digest=totp.recovery_digest(c))
                    for c in codes)
    session.flush()
    return codes


def passkey_options(session: Session, holder: Holder, name: str, rp: passkeys.RelyingParty) -> dict:
    known = [p.credential_id for p in _passkeys(session, holder)]
    options, challenge = passkeys.registration_options(rp, holder[1], name, known)
    return {"challenge": _keep_challenge(session, holder, "register", challenge), "options": options}


def add_passkey(session: Session, holder: Holder, body: dict, rp: passkeys.RelyingParty) -> tuple[Passkey, list[str]]:
    """Keep a new passkey; answers it and, for a first factor, new recovery codes (else [])."""
    had = enrolled(session, holder)
    if len(_passkeys(session, holder)) >= MAX_PASSKEYS:
        raise Conflict(f"You have {MAX_PASSKEYS} passkeys; remove one before adding another.")
    try:
        challenge = _take_challenge(session, holder, "register", body["challenge"])
    except FactorRefused as exc:
        raise Invalid(exc.detail, errors=[{"field": "challenge", "location": "json", "message": exc.detail}]) from None
    try:
        credential_id, public_key, count = passkeys.verified_registration(rp, body["credential"], challenge)
    except passkeys.PasskeyRefused as exc:
        raise Invalid(f"The browser's answer does not make a passkey: {exc}",
                      errors=[{"field": "credential", "location": "json", "message": str(exc)}]) from None
    if session.execute(select(Passkey.id).where(Passkey.credential_id == credential_id)).first():
        raise Conflict("This passkey is kept already.")
    key = Passkey(holder_kind=holder[0], holder_id=holder[1], credential_id=credential_id, public_key=public_key,
                  sign_count=count, label=(body.get("label") or "Passkey")[:PASSKEY_LABEL_LENGTH])
    session.add(key)
    session.flush()
    return key, ([] if had else new_recovery_codes(session, holder))


def _refuse_last(session: Session, holder: Holder, removing: str) -> None:
    left = [f for f in enrolled(session, holder) if f != removing]
    if removing == "passkey" and len(_passkeys(session, holder)) > 1:
        left.append("passkey")
    if required(holder) and not left:
        raise Conflict("A coordinator keeps at least one second factor: add another before removing this one.")
    if not left:  # no factor left: the recovery codes recover nothing
        session.execute(delete(RecoveryCode).where(*_of(RecoveryCode, holder)))


def remove_totp(session: Session, holder: Holder) -> None:
    factor = _totp(session, holder, lock=True)
    if factor is None:
        raise NotFound("No authenticator app is set up.")
    if factor.confirmed_at is not None:
        _refuse_last(session, holder, "totp")
    session.delete(factor)


def remove_passkey(session: Session, holder: Holder, passkey_id: str) -> Passkey:
    key = passkey_of(session, holder, passkey_id)
    _refuse_last(session, holder, "passkey")
    session.delete(key)
    return key
