"""Seeds derived from an architecture's identity: every evaluation of one architecture under one
search seed sees the same weights and data order, whichever process runs it and in what order."""

from __future__ import annotations

import hashlib


def derive_seed(seed: int, genome_hash: str, salt: int = 0) -> int:
    """A 63-bit seed from the search seed, a genome hash and a salt (e.g. the init index).

    >>> a = derive_seed(0, "abc")
    >>> a == derive_seed(0, "abc"), a == derive_seed(1, "abc"), a == derive_seed(0, "abd")
    (True, False, False)
    >>> 0 <= derive_seed(0, "abc", salt=3) < 2**63
    True
    """
    digest = hashlib.sha1(f"{int(seed)}:{genome_hash}:{int(salt)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)
