"""Stand-in for python-ursa, enough for indy-plenum.

python-ursa wraps a native libursa that no package registry ships. Plenum
only uses its BLS part (``ursa.bls``) and its error class
(``ursa.indy_error.IndyCryptoError``). The indy-bls wheel carries its own
native library and the same BLS classes, so these modules hand them on.
"""
