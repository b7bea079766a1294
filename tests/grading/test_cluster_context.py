"""``dlgrade.cluster.Cluster`` when the scattered context dies with its worker.

The scheduler's active memory manager keeps ONE copy of scattered data, so the worker that
holds the run's context can take it with it when it dies; every batch that needs it is then
cancelled ("lost dependencies"). :meth:`Cluster.grade` must scatter the context again and
send the batch again. Here on an in-process cluster, with a task that needs no nbgrader.
"""

from __future__ import annotations

import distributed
import pytest
from dlgrade.cluster import CONTEXT_TRIES, Cluster


def echo(ctx: dict, batch: list) -> dict:
    return {"ctx": ctx["n"], "batch": batch}


@pytest.fixture
def local():
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )
    try:
        yield cluster
    finally:
        cluster.close()


def _kill_holders(local, client, future) -> list[str]:
    """Close, without handing their data on, every worker holding ``future``'s data; start
    as many new ones."""
    holders = list(client.who_has([future]).get(future.key, ()))
    local.scale(len(local.workers) + len(holders))
    client.wait_for_workers(len(local.workers))
    for name, worker in list(local.workers.items()):
        if worker.address in holders:
            local.sync(worker.close)
            del local.workers[name]
    return holders


def test_a_context_lost_with_its_worker_is_scattered_again(local):
    made = []

    def make_context():
        made.append(1)
        return {"n": len(made)}

    with Cluster(local.scheduler_address, 1, make_context, task=echo, warm=False) as cluster:
        assert cluster.grade([("ann", {})]) == {"ctx": 1, "batch": [("ann", {})]}
        client, shared = cluster._start()
        assert _kill_holders(local, client, shared), "nobody held the context"
        # the batch after the loss: sent again with a context scattered again, not lost
        assert cluster.grade([("bob", {})]) == {"ctx": 2, "batch": [("bob", {})]}
        assert len(made) == 2


def test_a_context_lost_every_time_gives_up_with_the_error(local):
    """If the context is lost again at every send, the error comes back after
    ``CONTEXT_TRIES`` sends (grade.py then marks the batch's students, none dropped)."""
    made = []

    def make_context():
        made.append(1)
        return {"n": len(made)}

    with Cluster(local.scheduler_address, 1, make_context, task=echo, warm=False) as cluster:
        real_start = cluster._start

        def start_and_lose():
            client, shared = real_start()
            _kill_holders(local, client, shared)
            return client, shared

        cluster._start = start_and_lose
        with pytest.raises(distributed.client.FutureCancelledError):
            cluster.grade([("ann", {})])
        assert len(made) == CONTEXT_TRIES
