"""Elementary functions built from IEEE 754 basic operations only: the same bits on every CPU.

numpy picks the code of `np.exp` and `np.log` by the CPU it runs on: on a CPU with AVX-512
it uses its own vector routines (accurate to a few units in the last place), elsewhere the C
library's. The two differ in the last bit for about one value in twenty, so a seeded
ensemble drawn on one machine differed from the same seed drawn on another, and so did
every output that depends on it. The functions here use only +, −, ×, ÷, `rint` and
`ldexp`, which IEEE 754 rounds exactly and numpy never fuses: the same inputs give the same
bits on any machine. They run as about 25 in-place array operations over blocks of elements
that stay in the CPU's cache: 7–8 ns an element, against about 1 ns for numpy's own.

The algorithms are fdlibm's (Sun Microsystems, 1993; the C library of Java's StrictMath):
error below one unit in the last place (so not always the nearest
double: exp(1.0) is 2.7182818284590455, one unit above e, as in Java's StrictMath).
"""

from __future__ import annotations

import numpy as np

__all__ = ["exp", "log"]

# exp: x = k·ln2 + r with |r| <= ln2/2 (ln2 split in two so that k·LN2_HI is exact), then
# exp(r) from a rational approximation (fdlibm e_exp.c).
_LN2_HI = 6.93147180369123816490e-01  # 0x3FE62E42 FEE00000
_LN2_LO = 1.90821492927058770002e-10  # 0x3DEA39EF 35793C76
_INV_LN2 = 1.44269504088896338700e00
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_EXP_OVER = 7.09782712893383973096e02  # above: +inf
_EXP_UNDER = -7.45133219101941108420e02  # below: 0
#: Elements per pass: the work arrays of a block stay in the CPU's cache.
_BLOCK = 32768


def exp(x) -> np.ndarray:
    """e**x, elementwise, the same bits on every CPU (error < 1 ulp). NaN gives NaN."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    flat, res = x.reshape(-1), out.reshape(-1)
    b = min(flat.size, _BLOCK)
    k, hi, r, t, c = (np.empty(b) for _ in range(5))
    ki = np.empty(b, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(0, flat.size, _BLOCK):
            xb = flat[i:i + _BLOCK]
            n = xb.size
            kb, hib, rb, tb, cb, kib, y = k[:n], hi[:n], r[:n], t[:n], c[:n], ki[:n], res[i:i + n]
            np.multiply(xb, _INV_LN2, out=kb)
            np.rint(kb, out=kb)
            np.multiply(kb, _LN2_HI, out=hib)
            np.subtract(xb, hib, out=hib)  # hi = x − k·ln2_hi (exact)
            np.multiply(kb, _LN2_LO, out=y)  # lo
            np.subtract(hib, y, out=rb)  # r = hi − lo
            np.multiply(rb, rb, out=tb)
            np.multiply(tb, _P5, out=cb)
            for p in (_P4, _P3, _P2, _P1):
                np.add(cb, p, out=cb)
                np.multiply(cb, tb, out=cb)
            np.subtract(rb, cb, out=cb)  # c = r − t·(P1 + t·(P2 + ...))
            np.multiply(rb, cb, out=rb)
            np.subtract(2.0, cb, out=cb)
            np.divide(rb, cb, out=rb)
            np.subtract(y, rb, out=y)
            np.subtract(y, hib, out=y)
            np.subtract(1.0, y, out=y)  # 1 − ((lo − r·c/(2 − c)) − hi)
            if kb.min() >= -1022.0 and kb.max() <= 1023.0:
                # y·2**k as y times the double 2**k, built from its bits (exact; ldexp is slower)
                np.add(kb, 1023.0, out=tb)
                kib[...] = tb
                np.left_shift(kib, 52, out=kib)
                np.multiply(y, kib.view(np.float64), out=y)
            else:  # near the limits of the doubles, or inf or NaN among the inputs
                np.nan_to_num(kb, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
                kib[...] = kb
                np.ldexp(y, kib, out=y)
            if not (xb.min() >= _EXP_UNDER and xb.max() <= _EXP_OVER):  # False too with a NaN
                y[xb > _EXP_OVER] = np.inf
                y[xb < _EXP_UNDER] = 0.0
                y[np.isnan(xb)] = np.nan
    return out if out.ndim else out[()]


# log: x = 2**k·(1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2), then log(1 + f) from
# s = f/(2 + f) and a polynomial in s² (fdlibm e_log.c).
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT_HALF = 0.70710678118654752440


def log(x) -> np.ndarray:
    """Natural logarithm, elementwise, the same bits on every CPU (error < 1 ulp).

    log(0) = −inf, log of a negative number or NaN = NaN, log(inf) = inf."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    flat, res = x.reshape(-1), out.reshape(-1)
    b = min(flat.size, _BLOCK)
    m, k, f, h, s, z, w, t = (np.empty(b) for _ in range(8))
    e = np.empty(b, dtype=np.int32)
    low = np.empty(b, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(0, flat.size, _BLOCK):
            xb = flat[i:i + _BLOCK]
            n = xb.size
            mb, kb, fb, hb, sb, zb, wb, tb, eb, lowb = (a[:n] for a in (m, k, f, h, s, z, w, t, e, low))
            y = res[i:i + n]
            np.frexp(xb, out=(mb, eb))  # x = m·2**e, 0.5 <= m < 1 (exact)
            np.less(mb, _SQRT_HALF, out=lowb)
            np.add(lowb, 1.0, out=kb)
            np.multiply(mb, kb, out=mb)  # m·2 where m < sqrt(1/2)
            np.subtract(eb, lowb, out=kb, casting="unsafe")  # x = 2**k·(1 + f), exactly
            np.subtract(mb, 1.0, out=fb)
            np.multiply(fb, 0.5, out=hb)
            np.multiply(hb, fb, out=hb)  # hfsq = f²/2
            np.add(fb, 2.0, out=sb)
            np.divide(fb, sb, out=sb)  # s = f/(2 + f)
            np.multiply(sb, sb, out=zb)
            np.multiply(zb, zb, out=wb)
            np.multiply(wb, _LG6, out=tb)  # t1 = w·(Lg2 + w·(Lg4 + w·Lg6))
            np.add(tb, _LG4, out=tb)
            np.multiply(tb, wb, out=tb)
            np.add(tb, _LG2, out=tb)
            np.multiply(tb, wb, out=tb)
            np.multiply(wb, _LG7, out=y)  # t2 = z·(Lg1 + w·(Lg3 + w·(Lg5 + w·Lg7)))
            for p in (_LG5, _LG3):
                np.add(y, p, out=y)
                np.multiply(y, wb, out=y)
            np.add(y, _LG1, out=y)
            np.multiply(y, zb, out=y)
            np.add(y, tb, out=y)  # R = t2 + t1
            np.add(y, hb, out=y)
            np.multiply(y, sb, out=y)  # s·(hfsq + R)
            np.multiply(kb, _LN2_LO, out=tb)
            np.add(y, tb, out=y)
            np.subtract(hb, y, out=y)
            np.subtract(y, fb, out=y)
            np.multiply(kb, _LN2_HI, out=tb)
            np.subtract(tb, y, out=y)  # k·ln2_hi − ((hfsq − (s·(hfsq + R) + k·ln2_lo)) − f)
            if not (xb.min() > 0.0 and xb.max() < np.inf):  # False too with a NaN
                y[xb == 0.0] = -np.inf
                y[xb < 0.0] = np.nan
                y[xb == np.inf] = np.inf
                y[np.isnan(xb)] = np.nan
    return out if out.ndim else out[()]
