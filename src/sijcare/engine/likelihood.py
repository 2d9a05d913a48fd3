"""The Laslett provocation cluster and the post-test probability it implies."""

from __future__ import annotations

from sijcare.engine.facts import Facts
from sijcare.engine.memo import shared
from sijcare.engine.provocation_count import count_provocation
from sijcare.engine.reasons import because
from sijcare.knowledge import Cluster, Knowledge
from sijcare.model.assessment import ClusterResult, Likelihood, PooledLikelihood

CLUSTER_ID = "laslett_2005_3_of_6"


def _rule(kb: Knowledge) -> Cluster:
    return next(c for c in kb.examination.clusters if c.id == CLUSTER_ID)


def _results(f: Facts) -> tuple[str | None, ...]:
    return tuple(f.provocation[name] for name in _rule(f.kb).tests)


def cluster(f: Facts) -> ClusterResult:
    return _cluster(f.kb, _results(f))


@shared(maxsize=1024)
def _cluster(kb: Knowledge, results: tuple[str | None, ...]) -> ClusterResult:
    """Positive at `min_positive`; negative when even the untested could not reach it."""
    rule = _rule(kb)
    chosen = dict(zip(rule.tests, results, strict=True))
    count = count_provocation(results)
    if count.positive >= rule.min_positive:
        result = "positive"
    elif count.positive + count.not_performed < rule.min_positive:
        result = "negative"
    else:
        result = "incomplete"
    return ClusterResult(rule=rule.id, performed=count.performed, positive=count.positive,
                         result=result, tests=chosen)


def posterior(prior: float, likelihood_ratio: float) -> float:
    """Bayes with odds: prior odds x LR, back to a probability."""
    odds = prior / (1 - prior) * likelihood_ratio
    return odds / (1 + odds)


def likelihood(f: Facts, prior: float) -> Likelihood:
    return _likelihood(f.kb, _results(f), prior)


@shared(maxsize=4096)
def _likelihood(kb: Knowledge, results: tuple[str | None, ...], prior: float) -> Likelihood:
    """The cluster and posterior follow from the test results and the prior alone."""
    rule = _rule(kb)
    found = _cluster(kb, results)
    ratio = {"positive": rule.lr_positive, "negative": rule.lr_negative,
             "incomplete": 1.0}[found.result]
    post = round(posterior(prior, ratio), 3)
    text = (f"Cluster tests {count_provocation(results).words}: cluster {found.result}, "
            f"LR {ratio:g}; probability {prior:.0%} -> {post:.1%}.")
    pooled, sources = None, list(rule.sources)
    if rule.pooled is not None:
        pooled_ratio = {"positive": rule.pooled.lr_positive, "negative": rule.pooled.lr_negative,
                        "incomplete": 1.0}[found.result]
        pooled = PooledLikelihood(source=rule.pooled.source, likelihood_ratio=pooled_ratio,
                                  posterior=round(posterior(prior, pooled_ratio), 3))
        if found.result != "incomplete":
            text += (f" With the pooled ratios of clusters (LR+ {rule.pooled.lr_positive:g}, "
                     f"LR- {rule.pooled.lr_negative:g}) it would be {pooled.posterior:.1%}: the "
                     "cluster rules out better than it rules in.")
        sources.append(rule.pooled.source)
    return Likelihood(prior=prior, posterior=post, likelihood_ratio=ratio, cluster=found,
                      pooled=pooled,
                      reasons=[because(rule.id, text, sources, tests=found.tests,
                                       prior=prior)])
