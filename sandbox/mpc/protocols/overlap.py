"""The secure join shared by `capture_patterns`, `capture_patterns_by`, `mo_cooccurrence` and
`designed_distinct`: shuffle, then keyed pseudonyms.

Goal: find which records of different organisations belong to the same person (equal `person_key`)
without anyone learning which records, which persons, or any organisation's keys.

The four steps (each party runs the same code; "my shares" are the Shamir shares this party holds):

1. input    Each organisation secret-shares its records (64-bit linkage keys and, depending on the
            computation, secret bits) as elements of the field F_l, where l is the prime order of the
            Ed25519 group. The list sizes are public. Which block of records came from which
            organisation is public too -- so an organisation's tag (2^j for organisation j) needs no
            input at all: every party holds the constant 2^j as its "share" (a degree-0 sharing).
2. shuffle  A secret permutation of all N records, of linear cost: for each subset S of t+1 parties
            in a family such that every coalition of t parties misses some S entirely (all
            (t+1)-subsets, or fewer: `shuffle_subsets`), one member of S picks a uniformly random
            permutation and sends it to the others in S. The
            members of S turn their Shamir shares into additive shares (multiply by the Lagrange
            coefficient of S at 0; the additive shares of S add up to the secret), permute them, and
            secret-share the permuted vectors again to all m parties (fresh random polynomials of
            degree t, `shamir_split`; party j receives its shares with mpc.transfer); the sum of
            those t+1 fresh sharings is a Shamir sharing of the permuted records. The composition of
            all these permutations is the overall shuffle. A coalition of at most t parties misses at
            least one subset S of the family, so it does not know that subset's permutation, and the
            composition is uniformly random from its point of view.
3. pseudonyms  A secret key [k] = sum of one random input per party (nobody knows k). Each shuffled
            record's pseudonym is (1/(k+key)) * G in the Ed25519 group (Dodis-Yampolskiy: a
            pseudorandom function of the key under k). It is computed without inverting a secret:
            with a fresh secret random [r] per record (MPyC's pseudorandom secret sharing) the
            parties open w = (k+key)*r -- uniformly random, so it tells nothing -- and take
            [u] = w^-1 * [r] = [1/(k+key)] locally. The records are cut into m slices; for slice j
            the t+1 "publishers" j, j+1, ..., j+t (mod m) each compute, per record, the point
            (lambda_i * u_i) * G, where u_i is its share and lambda_i its Lagrange coefficient at 0
            for the publishers' points; the sum of these t+1 points is the pseudonym. Party j adds up
            the points of slice j and sends those pseudonyms to everyone.
            Equal keys give equal pseudonyms; different keys give different pseudonyms (keys < l).
            Without k nobody can compute the pseudonym of a chosen key or relate the pseudonyms of
            two keys: unlike (k*key)*G = key*(k*G), which is linear in the key (a party that knows
            two of its own keys a, b finds the opened pair Y, (b/a)*Y and gets k*G = Y/a, then the
            pseudonym of ANY key), (1/(k+key))*G is indistinguishable from a random point for every
            key a coalition does not hold (q-DDHI assumption in the Ed25519 group). The points a
            coalition of <= t parties receives follow from the pseudonyms, w and its own shares
            (interpolation "in the exponent"), so they tell it nothing beyond the pseudonyms.
4. group    Records with the same pseudonym form a group: the records of one person. Grouping is
            public and identical at every party; everything per group (which lists, which indicators)
            stays secret-shared and only totals are opened (see the two computations).

What this reveals beyond the output: the list sizes, and the multiset of group sizes -- how many
persons are on exactly s lists, for each s -- because the pseudonyms are opened on shuffled records.
Those numbers follow from the capture-pattern counts anyway, EXCEPT when small cells are suppressed:
then the total of each "size class" is still visible (see `capture_patterns`).

Assumptions: semi-honest parties (they follow the protocol), honest majority (at most t < m/2
parties collude), the q-decisional Diffie-Hellman inversion (q-DDHI) assumption in the Ed25519
prime-order subgroup (q = the number of records), and
every key occurs at most once per list (the record schema enforces this; a repeated key would make a
group contain two records of the same list).

Implementation note: linear steps (Lagrange weighting, permuting, grouping sums) are done by each
party on its own share arrays (numpy object arrays of Python ints mod l); MPyC does the messaging
(input, transfer), the multiplications and the openings. The secure arrays are wrapped from the
share arrays with `secfld.array(field.array(shares))`, which MPyC treats as "my shares".
"""

from __future__ import annotations

import os
import random

import numpy as np
from nacl._sodium import ffi, lib  # libsodium through PyNaCl's cffi module: no per-call Python checks

from sandbox.mpc.subsets import shuffle_subsets

# The prime order of the Ed25519 base point: shares of k*key are scalars of that group.
ELL = 2**252 + 27742317777372353535851937790883648493
KEY_BITS = 64  # person_key: 16 hex characters
MASK_BITS = 64  # statistical hiding of counts when moving them to secure integers (distance <= 2^-64)

_SYSTEM_RANDOM = random.SystemRandom()  # the OS's CSPRNG: permutations, keys and masks


# --------------------------------------------------------------------------------------------- helpers


def lagrange_at_zero(xs: list[int], p: int = ELL) -> list[int]:
    """Coefficients c_i with f(0) = sum_i c_i f(x_i) for every polynomial f of degree < len(xs), mod p."""
    coefficients = []
    for i, xi in enumerate(xs):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if i != j:
                num = num * (-xj) % p
                den = den * (xi - xj) % p
        coefficients.append(num * pow(den, -1, p) % p)
    return coefficients


def party_x(pid: int) -> int:
    """MPyC evaluates party i's Shamir share at x = i + 1."""
    return pid + 1


def as_secure(secfld, shares: np.ndarray):
    """Wrap this party's share array (ints mod l) as an MPyC secure array."""
    return secfld.array(secfld.field.array(shares, check=False))


async def my_shares(mpc, secure) -> np.ndarray:
    """The share array this party holds of a secure array, as an object array of Python ints."""
    held = await mpc.gather(secure)
    return np.asarray(held.value, dtype=object)


async def multiply(mpc, secfld, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shares of the element-wise product (MPyC: local product, then degree reduction)."""
    return await my_shares(mpc, as_secure(secfld, a) * as_secure(secfld, b))


# ----------------------------------------------------------------------------------------- 1. input


async def share_inputs(mpc, ctx, secfld, own: np.ndarray,
                       columns: list[tuple[str, slice]]) -> tuple[list[np.ndarray], list[int]]:
    """Every organisation secret-shares its own (n_j x w) matrix; returns my shares per owner and all n_j.

    The numbers of rows are exchanged first (they are public: list sizes). `columns` names the input
    vectors the matrix holds (e.g. [("keys", slice(0, 1)), ("indicators", slice(1, None))]); the
    transcript logs my shares under those names, exactly as the owner logged its own input.
    """
    width = own.shape[1]
    sizes = [int(n) for n in await mpc.transfer(int(own.shape[0]))]
    ctx.record_opened("list sizes (records per organisation)", sizes, role="leak", cells=list(ctx.orgs))
    shared = [None] * len(sizes)
    for owner, n in enumerate(sizes):
        if n:  # every party knows n, so all skip an empty list together
            data = own if owner == ctx.pid else np.zeros((n, width), dtype=object)
            shared[owner] = mpc.input(secfld.array(data), senders=owner)
    ordered = []
    for owner, n in enumerate(sizes):
        ordered.append(await my_shares(mpc, shared[owner]) if n else np.zeros((0, width), dtype=object))
    for label, cols in columns:
        await ctx.record_shares(label, [np.asarray(v[:, cols]).reshape(-1).tolist() for v in ordered])
    return ordered, sizes


# --------------------------------------------------------------------------------------- 2. shuffle


def random_field_elements(count: int) -> list[int]:
    """`count` uniformly random elements of F_l from the OS's CSPRNG.

    Each is a 320-bit random integer reduced mod l: statistical distance from uniform < 2^-67 per
    element. (secrets.randbelow is exactly uniform but about 20 times slower.)
    """
    data = os.urandom(40 * count)
    return [int.from_bytes(data[i:i + 40], "little") % ELL for i in range(0, 40 * count, 40)]


def random_permutation(n: int) -> np.ndarray:
    """A uniformly random permutation of range(n): sort by 64-bit keys from the OS's CSPRNG.

    (Equal keys, probability < n^2 / 2^65, would only bias the order of those two positions.)
    """
    return np.argsort(np.frombuffer(os.urandom(8 * n), dtype=np.uint64), kind="stable")


def shamir_split(values: np.ndarray, t: int, m: int) -> list[np.ndarray]:
    """Fresh Shamir shares (degree t) of every entry of `values`, one array per party (x = 1..m)."""
    flat = values.reshape(-1)
    coefficients = [np.array(random_field_elements(flat.size), dtype=object) for _ in range(t)]
    shares = []
    for pid in range(m):
        x = party_x(pid)
        acc = np.zeros(flat.size, dtype=object)
        for c in reversed(coefficients):  # Horner: ((c_t x + c_(t-1)) x + ...) x + value
            acc = (acc + c) * x
        shares.append(((acc + flat) % ELL).reshape(values.shape))
    return shares


async def secret_shuffle(mpc, shares: np.ndarray, ctx=None) -> np.ndarray:
    """Shares of the rows of `shares` in a secret random order (see step 2 in the module docstring).

    Every party calls this with its own share matrix (N x w); all parties take part in every step
    (MPyC matches messages by the order of calls), but only members of a subset send. With a party
    context `ctx`, every permutation this party receives is written to its transcript (role "subset").
    """
    m, t, pid = len(mpc.parties), mpc.threshold, mpc.pid
    n, width = shares.shape
    for subset in shuffle_subsets(m, t):
        members = list(subset)
        leader = members[0]
        # (a) The leader picks the permutation; only the members of the subset receive it.
        perm = random_permutation(n).tolist() if pid == leader else None
        received = await mpc.transfer(perm, senders=[leader], receivers=members)
        # (b) Members: Shamir share -> additive share of S (Lagrange weight), permute, split afresh.
        if pid in members and ctx is not None:
            ctx.record_opened(f"shuffle permutation of parties {', '.join(map(str, members))}",
                              [int(v) for v in received[0]], role="subset")
        if pid in members:
            perm = np.asarray(received[0], dtype=np.int64)
            weight = lagrange_at_zero([party_x(j) for j in members])[members.index(pid)]
            additive = (shares[perm] * weight) % ELL
            outgoing = [part.reshape(-1).tolist() for part in shamir_split(additive, t, m)]
        else:
            outgoing = [None] * m
        # (c) Every member sends party j its share; party j adds up the t+1 fresh sharings.
        incoming = [mpc.transfer(outgoing[j], senders=members, receivers=[j]) for j in range(m)]
        for j, future in enumerate(incoming):
            parts = await future
            if j == pid:
                total = np.zeros(n * width, dtype=object)
                for part in parts:
                    total += np.array(part, dtype=object)
                shares = (total % ELL).reshape(n, width)
    return shares


# ------------------------------------------------------------------------------------ 3. pseudonyms


def _points(scalars) -> bytes:
    """scalar * G on Ed25519 for every scalar (reduced mod l), as 32-byte points one after the other.

    0 has no encoding through this call (probability 1/l per record): refuse it. libsodium is called
    directly (PyNaCl's wrappers check types and lengths on every call, about 20 % of the cost here).
    """
    out = ffi.new("unsigned char[32]")
    chunks = []
    for scalar in scalars:
        if scalar == 0 or lib.crypto_scalarmult_ed25519_base_noclamp(out, scalar.to_bytes(32, "little")) != 0:
            raise RuntimeError("a Lagrange-weighted share was 0; rerun the computation")
        chunks.append(ffi.buffer(out)[:])
    return b"".join(chunks)


def _add_points(parts: list[bytes], count: int) -> bytes:
    """Point-wise sums of `count` points from each of the byte strings in `parts` (points of honest peers)."""
    out = ffi.new("unsigned char[32]")
    sums = []
    for q in range(count):
        acc = parts[0][32 * q: 32 * q + 32]
        for part in parts[1:]:
            if lib.crypto_core_ed25519_add(out, acc, part[32 * q: 32 * q + 32]) != 0:
                raise RuntimeError("a peer sent an invalid curve point")
            acc = ffi.buffer(out)[:]
        sums.append(acc)
    return b"".join(sums)


def publishers_of_slice(j: int, m: int, t: int) -> list[int]:
    """The t+1 parties that publish the points of slice j: j, j+1, ..., j+t (mod m), so the work is shared."""
    return sorted((j + i) % m for i in range(t + 1))


def _slices(n: int, m: int) -> list[range]:
    """Record positions split into m contiguous slices, one per party."""
    return [range(j * n // m, (j + 1) * n // m) for j in range(m)]


async def pseudonyms(mpc, ctx, secfld, key_shares: np.ndarray) -> list[bytes]:
    """The opened pseudonym (1/(k+key))*G of every (shuffled) record, for a fresh secret k.

    Dodis-Yampolskiy: the pseudonym is a pseudorandom function of the key under the joint secret k
    (not linear in the key, unlike (k*key)*G, whose k*G anyone can recover from two own keys).
    1. [k] = sum of one random input per party; [r] = one fresh random field element per record
       (MPyC's pseudorandom secret sharing: no messages).
    2. [w] = ([k] + [key]) * [r] (one secure multiplication, reshared to degree t), opened: w is a
       uniformly random nonzero element, whatever the key (r is uniform and unknown to everyone).
    3. [u] = w^-1 * [r] = [1/(k+key)] (local). The records are cut into m slices; for slice j the t+1
       publishers j, j+1, ..., j+t (mod m) each compute, per record, (lambda_i u_i)*G (lambda: Lagrange
       at 0 over the publishers' points) and send the points to party j, who adds them up (the sum of
       the t+1 points is the pseudonym) and sends the pseudonyms of its slice to all. Every party does
       (t+1)/m of the scalar multiplications.
    What a coalition of <= t parties sees here (w, its own shares, the publishers' points) follows
    from the pseudonyms and its own shares, so it learns nothing beyond the pseudonyms; those are
    indistinguishable from random points for keys it does not hold (q-DDHI in the Ed25519 group).
    """
    import gmpy2

    m, t, pid = len(mpc.parties), mpc.threshold, mpc.pid
    n = len(key_shares)
    # [k] = sum of one random input per party; a coalition misses an honest party's input.
    k_parts = mpc.input(secfld.array(np.array([_SYSTEM_RANDOM.randrange(1, ELL)], dtype=object)))
    k = k_parts[0]
    for part in k_parts[1:]:
        k = k + part
    r = mpc._np_randoms(secfld, n)  # pseudorandom secret sharing of n uniformly random elements
    w = await mpc.output((as_secure(secfld, key_shares) + k) * r)  # uniformly random: safe to open
    w = [int(v) for v in w.value.tolist()]
    ctx.record_opened("w = (k + key) * r per shuffled record (uniformly random)", w, role="masked")
    if any(v == 0 for v in w):  # k = -key or r = 0: probability about N/l
        raise RuntimeError("a masked value was 0; rerun the computation")
    slices = _slices(n, m)
    u = await my_shares(mpc, r)
    outgoing: list[bytes | None] = [None] * m
    for j, sl in enumerate(slices):
        publishers = publishers_of_slice(j, m, t)
        if pid in publishers:
            weight = lagrange_at_zero([party_x(q) for q in publishers])[publishers.index(pid)]
            outgoing[j] = _points(int(gmpy2.invert(w[q], ELL)) * weight % ELL * int(u[q]) % ELL for q in sl)
    incoming = [mpc.transfer(outgoing[j], senders=publishers_of_slice(j, m, t), receivers=[j]) for j in range(m)]
    summed = b""
    for j, future in enumerate(incoming):
        parts = await future
        if j == pid:
            senders = ", ".join(map(str, publishers_of_slice(j, m, t)))
            ctx.record_opened(f"publishers' points for slice {pid} (parties {senders})",
                              [part[32 * q: 32 * q + 32].hex() for part in parts for q in range(len(slices[pid]))],
                              role="masked")
            summed = _add_points(parts, len(slices[pid]))
    everyone = await mpc.transfer(summed)  # slice j's pseudonyms, from party j, to all parties
    joined = b"".join(everyone)
    return [joined[32 * q: 32 * q + 32] for q in range(n)]


# ---------------------------------------------------------------------------------------- 4. group


def group_by_pseudonym(points: list[bytes]) -> dict[int, np.ndarray]:
    """Records per person, by group size s: {s: array of shape (groups of size s, s) of record indices}."""
    groups: dict[bytes, list[int]] = {}
    for r, p in enumerate(points):
        groups.setdefault(p, []).append(r)
    by_size: dict[int, list[list[int]]] = {}
    for members in groups.values():
        by_size.setdefault(len(members), []).append(members)
    return {s: np.array(g, dtype=np.int64).reshape(-1, s) for s, g in sorted(by_size.items())}


def pseudonym_summary(groups: dict[int, np.ndarray]) -> dict[str, int]:
    """Persons per number of lists (group sizes): what the opened pseudonyms tell by design."""
    return {str(s): int(len(g)) for s, g in groups.items()}


async def join(mpc, ctx, secfld, own: np.ndarray, *, columns: list[tuple[str, slice]],
               tag: bool, onehot: bool = False) -> tuple[np.ndarray, dict[int, np.ndarray], list[int]]:
    """Steps 1-4: share `own` (column 0 = linkage key), shuffle, open pseudonyms, group.

    With tag=True a column with the organisation tag 2^j is appended before the shuffle; with
    onehot=True m columns with the organisation indicator e_j (1 in column j for organisation j's
    records, else 0). Both are public constants before the shuffle and secret after it.
    Returns my shares of the shuffled rows (without the key column), the groups by size (record
    indices), and the public list sizes.
    """
    m = len(ctx.orgs)
    with ctx.phase("input"):
        per_owner, sizes = await share_inputs(mpc, ctx, secfld, own, columns)
        blocks = []
        for owner, block in enumerate(per_owner):
            if tag:
                const = np.full((block.shape[0], 1), 1 << owner, dtype=object)  # public: who sent which block
                block = np.concatenate([block, const], axis=1)
            if onehot:
                const = np.zeros((block.shape[0], m), dtype=object)
                const[:, owner] = 1
                block = np.concatenate([block, const], axis=1)
            blocks.append(block)
        if tag:
            ctx.record_public("organisation tag 2^j of each record before the shuffle",
                              [b[:, -1 - (m if onehot else 0)].tolist() for b in blocks])
        if onehot:
            ctx.record_public("organisation indicator e_j of each record before the shuffle",
                              [b[:, -m:].reshape(-1).tolist() for b in blocks],
                              cells=[[f"record {k // m + 1}: from {ctx.orgs[k % m]}" for k in range(b.shape[0] * m)]
                                     for b in blocks])
        records = np.concatenate(blocks, axis=0)
    with ctx.phase("shuffle"):
        shuffled = await secret_shuffle(mpc, records, ctx) if len(records) else records
    with ctx.phase("pseudonyms"):
        points = await pseudonyms(mpc, ctx, secfld, shuffled[:, 0]) if len(records) else []
        groups = group_by_pseudonym(points)
        ctx.record_opened("pseudonyms of the shuffled records (Ed25519 points, hex)", [p.hex() for p in points],
                          role="leak", cells=[f"shuffled record {q + 1}" for q in range(len(points))])
        summary = pseudonym_summary(groups)
        ctx.record_opened("persons per number of lists (from the pseudonyms)", list(summary.values()),
                          role="leak", cells=[f"on {s} list(s)" for s in summary])
    return shuffled[:, 1:], groups, sizes


# ------------------------------------------------------------------------------- opening with care


async def open_counts(mpc, ctx, secfld, counts: list[int], bound: int,
                      hide_empty: bool = False) -> tuple[list[int], list[int]]:
    """Open secret counts (my shares, in F_l), withholding every count c with 0 < c < ctx.min_cell.

    Returns (values, flags): flags[i] = 1 for a withheld count (its value is returned as 0 and was
    never opened), else 0. With hide_empty=True empty cells are withheld too (every c < min_cell, one
    comparison per count): then a withheld cell does not tell that it holds somebody.

    A comparison needs secure integers, so each count c (known to be < bound) is moved to a SecInt
    with a random mask: every party contributes r_j < 2^(bits+64), secret-shared in BOTH fields; the
    parties open z = c + r in F_l (no wrap-around: z is far below l) and set [c] = z - [r] in the
    SecInt field. Because r includes at least one honest uniformly random r_j, z reveals c only with
    statistical distance <= 2^-64. (MPyC's own mpc.convert from SecFld(l) needs ~260-bit secure
    integers for this field; this mask uses ~20-bit ones, so the comparisons stay cheap.)
    """
    n = len(counts)
    if n == 0:
        return [], []
    shares = np.array(counts, dtype=object)
    if ctx.min_cell <= 1:
        opened = await mpc.output(as_secure(secfld, shares))
        return [int(v) for v in opened.value.tolist()], [0] * n
    bits = max(bound, ctx.min_cell).bit_length() + 1
    secint = mpc.SecInt(bits)
    p = secint.field.modulus
    r_own = np.array([_SYSTEM_RANDOM.getrandbits(bits + MASK_BITS) for _ in range(n)], dtype=object)
    r_fld = mpc.input(secfld.array(r_own))  # my r_j, shared in F_l ...
    r_int = mpc.input(secint.array(r_own % p))  # ... and the same r_j, shared as a secure integer
    mask_fld, mask_int = r_fld[0], r_int[0]
    for j in range(1, len(r_fld)):
        mask_fld, mask_int = mask_fld + r_fld[j], mask_int + r_int[j]
    z = await mpc.output(as_secure(secfld, shares) + mask_fld)  # c + r as an integer, far below l
    ctx.record_opened("count + secret mask (to move counts to secure integers)", [int(v) for v in z.value.tolist()],
                      role="masked", cells=ctx.cells)  # open_counts always opens the computation's output cells
    z = np.array([int(v) % p for v in z.value.tolist()], dtype=object)
    c = secint.array(z) - mask_int  # a public value minus a secret one: no messages
    small = (c < ctx.min_cell) if hide_empty else (c >= 1) * (c < ctx.min_cell)
    masked = c * (1 - small)
    flags = [int(f) for f in await mpc.output(small)]
    values = [int(v) for v in await mpc.output(masked)]
    return values, flags
