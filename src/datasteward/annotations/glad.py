"""GLAD (Whitehill et al., NIPS 2009) in numpy: the same EM as crowd-kit's ``GLAD`` on integer
codes, so it runs in seconds where crowd-kit's pandas frames take minutes.

As crowd-kit 1.4 does it: annotator abilities alpha and item difficulties beta (used as
exp(beta)) start at 1 with standard normal priors around 1; the label prior stays uniform over
the observed labels; the E-step gives each item's posterior from
P(label = true) = sigmoid(alpha * exp(beta)), the other labels sharing the rest; the M-step is
scipy's conjugate gradient (``tol`` 1e-2, 25 iterations at most) on the expected
log-likelihood with the priors; EM stops when the mean expected log-likelihood per
(label, class) pair gains less than ``tol``. The posteriors returned are the last E-step's
(crowd-kit's ``probas_``). The differential test checks it against crowd-kit on real sets
(posteriors to 1e-9 over a few iterations). Over many, the two may stop at different
iterations: near convergence the loss oscillates by about the tolerance (the M-step is not
run to convergence), and float rounding decides when it first gains less; docs/annotations.md
gives the differences measured at 100 iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasteward.annotations.matrix import Coded, Floats, Ints
from datasteward.errors import MissingDependencyError

SQRT_2PI = np.sqrt(2 * np.pi)


@dataclass(frozen=True)
class GladFit:
    probas: Floats  # items x values
    alphas: Floats  # annotator abilities
    betas: Floats  # item log inverse difficulties
    iterations: int


def _softplus(x: Floats, limit: float = 30.0) -> Floats:
    """log(1 + exp(x)), as crowd-kit computes it (linear beyond +-limit)."""
    keep = (np.abs(x) <= limit).astype(np.float64)
    out: Floats = np.log1p(np.exp(x * keep)) * keep + x * (x > limit)
    return out


class _Model:
    def __init__(self, coded: Coded) -> None:
        self.c = coded
        self.k = len(coded.values)
        self.n_ann = len(coded.annotators)
        self.n_items = len(coded.items)
        self.log_other = np.log(self.k - 1) if self.k > 1 else 0.0
        self.log_prior = np.log(1.0 / self.k)
        self.post = np.full((self.n_items, self.k), 1.0 / self.k)
        # the parameter vector in crowd-kit's order (annotators, then items, each in order of
        # first appearance), so that scipy's CG takes the same path
        self.ann_order = _first_appearance(coded.annotator, self.n_ann)
        self.item_order = _first_appearance(coded.item, self.n_items)

    def split(self, x: Floats) -> tuple[Floats, Floats]:
        alpha = np.empty(self.n_ann)
        beta = np.empty(self.n_items)
        alpha[self.ann_order] = x[: self.n_ann]
        beta[self.item_order] = x[self.n_ann :]
        return alpha, beta

    def _terms(self, x: Floats) -> tuple[Floats, Floats, Floats, Floats]:
        alpha, beta = self.split(x)
        a = alpha[self.c.annotator]
        eb = np.exp(beta[self.c.item])
        ab = a * eb
        return a, eb, -_softplus(-ab), -_softplus(ab) - self.log_other

    def e_step(self, x: Floats) -> None:
        _, _, ls, l1s = self._terms(x)
        u, k = self.n_items, self.k
        ll = np.bincount(self.c.item, weights=l1s, minlength=u)[:, None] + np.bincount(
            self.c.item * k + self.c.code, weights=ls - l1s, minlength=u * k
        ).reshape(u, k)
        ll += self.log_prior
        ll -= ll.max(axis=1, keepdims=True)
        p = np.exp(ll)
        self.post = p / p.sum(axis=1, keepdims=True)

    def q(self, x: Floats) -> float:
        """Expected log-likelihood under the current posterior, with the normal priors."""
        alpha, beta = self.split(x)
        _, _, ls, l1s = self._terms(x)
        own = self.post[self.c.item, self.c.code]
        total = self.post.sum(axis=1)[self.c.item]
        value = float((l1s * total + (ls - l1s) * own).sum())
        with np.errstate(divide="ignore"):  # as crowd-kit: log(pdf), -inf where pdf underflows
            value += float(np.log(_normal_pdf(alpha - 1.0)).sum())
            value += float(np.log(_normal_pdf(beta - 1.0)).sum())
        return -np.inf if np.isnan(value) else value

    def minus_q(self, x: Floats) -> float:
        return -self.q(x)

    def minus_grad(self, x: Floats) -> Floats:
        alpha, beta = self.split(x)
        a, eb, _, _ = self._terms(x)
        sigma = 1.0 / (1.0 + np.exp(-a * eb))
        own = self.post[self.c.item, self.c.code]
        total = self.post.sum(axis=1)[self.c.item]
        common = own - sigma * total
        d_alpha = np.bincount(self.c.annotator, weights=common * eb, minlength=self.n_ann)
        d_beta = np.bincount(self.c.item, weights=common * a * eb, minlength=self.n_items)
        g_alpha = (d_alpha - (alpha - 1.0))[self.ann_order]
        g_beta = (d_beta - (beta - 1.0))[self.item_order]
        out: Floats = -np.concatenate([g_alpha, g_beta])
        return out


def _normal_pdf(x: Floats) -> Floats:
    out: Floats = np.exp(-(x**2) / 2.0) / SQRT_2PI
    return out


def _first_appearance(codes: Ints, n: int) -> Ints:
    first = np.full(n, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    out: Ints = np.argsort(first, kind="stable")
    return out


def glad(
    coded: Coded,
    *,
    n_iter: int = 100,
    tol: float = 1e-5,
    m_step_max_iter: int = 25,
    m_step_tol: float = 1e-2,
) -> GladFit:
    try:
        from scipy.optimize import minimize
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingDependencyError.for_extra("scipy", "annotations", "GLAD") from e
    m = _Model(coded)
    x = np.ones(m.n_ann + m.n_items)
    m.e_step(x)
    loss = m.q(x)
    rows = len(coded.code) * m.k
    probas = m.post
    it = 0
    for step in range(1, n_iter + 1):
        it = step
        last = loss
        m.e_step(x)
        probas = m.post
        res = minimize(
            m.minus_q,
            x,
            method="CG",
            jac=m.minus_grad,
            tol=m_step_tol,
            options={"disp": False, "maxiter": m_step_max_iter},
        )
        x = np.asarray(res.x, dtype=np.float64)
        loss = m.q(x) / rows
        if loss - last < tol:
            break
    alpha, beta = m.split(x)
    return GladFit(probas, alpha, beta, it)
