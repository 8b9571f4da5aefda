"""Dawid-Skene (1979) in numpy: the same EM as crowd-kit's ``DawidSkene`` (majority-vote
initialisation, confusion matrices per annotator with a 1e-10 floor, the evidence lower bound
per label as the stopping rule), on integer codes, so it scales to millions of labels.
The differential test checks it against crowd-kit on the real label sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from datasteward.annotations.matrix import Coded, Floats

EPS = 1e-10


@dataclass(frozen=True)
class Fit:
    probas: Floats  # items x values
    priors: Floats  # values
    errors: Floats  # annotators x observed value x true value
    iterations: int


def majority_probas(coded: Coded) -> Floats:
    counts = coded.counts
    out: Floats = counts / counts.sum(axis=1, keepdims=True)
    return out


def _m_step(coded: Coded, probas: Floats, observed: npt.NDArray[np.bool_]) -> Floats:
    k, v = len(coded.annotators), len(coded.values)
    key = coded.annotator * v + coded.code
    errors = np.empty((k * v, v))
    for c in range(v):
        errors[:, c] = np.bincount(key, weights=probas[coded.item, c], minlength=k * v)
    errors[observed] = np.maximum(errors[observed], EPS)
    errors[~observed] = 0.0
    cube = errors.reshape(k, v, v)
    total = cube.sum(axis=1, keepdims=True)
    # an annotator without labels (a Coded built by hand) has an all-zero matrix: keep it zero
    out: Floats = cube / np.where(total > 0, total, 1.0)
    return out


def _log_terms(coded: Coded, errors: Floats, log: np.ufunc) -> Floats:
    out: Floats = log(errors[coded.annotator, coded.code, :])
    return out


def dawid_skene(coded: Coded, *, n_iter: int = 100, tol: float = 1e-5) -> Fit:
    u, v = len(coded.items), len(coded.values)
    k = len(coded.annotators)
    observed = np.zeros(k * v, dtype=bool)
    observed[coded.annotator * v + coded.code] = True
    probas = majority_probas(coded)
    priors = probas.mean(axis=0)
    errors = _m_step(coded, probas, observed)
    loss = -np.inf
    it = 0
    for step in range(1, n_iter + 1):
        it = step
        log_e = _log_terms(coded, errors, np.log2)
        ll = np.empty((u, v))
        for c in range(v):
            ll[:, c] = np.bincount(coded.item, weights=log_e[:, c], minlength=u)
        ll += np.log2(np.maximum(priors, EPS))
        scaled = np.exp2(ll - ll.max(axis=1, keepdims=True))
        probas = scaled / scaled.sum(axis=1, keepdims=True)
        priors = probas.mean(axis=0)
        errors = _m_step(coded, probas, observed)
        ln_e = _log_terms(coded, errors, np.log) + np.log(np.maximum(priors, EPS))
        joint = float((probas[coded.item] * ln_e).sum())
        clipped = np.maximum(probas, EPS)
        entropy = float(-(np.log(clipped) * clipped).sum())
        probas = clipped
        new_loss = (joint + entropy) / len(coded.code)
        if new_loss - loss < tol:
            break
        loss = new_loss
    return Fit(probas, priors, errors, it)
