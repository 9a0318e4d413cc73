"""``ursa.indy_error`` as plenum imports it: indy-bls raises IndyBlsError."""

from indy_bls.error import IndyBlsError as IndyCryptoError  # noqa: F401
