"""A job that ends after the view-model that started it was deleted (its tab or window closed) must
end quietly: its result is dropped, never delivered to a deleted Qt object ("Internal C++ object
already deleted" in a slot; in the app, a crash of the window).

The pool runs one job at a time and a first job holds it, so the view-models' jobs are still waiting
when the view-models are deleted, and run and end only afterwards."""
from __future__ import annotations

import threading
from typing import Any, Iterator

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent

from studio.chain.session import WalletSession
from studio.config import load_config
from studio.ui.state.collector import CollectorState
from studio.ui.state.gallery import GalleryState
from studio.ui.state.wallet import WalletState
from studio.ui.workers import BackgroundPool, FunctionJob, Job, JobState

WAIT_MS = 60_000


@pytest.fixture
def one_lane(qtbot) -> Iterator[BackgroundPool]:
    pool = BackgroundPool(max_threads=1)
    yield pool
    pool.shutdown()


def hold(pool: BackgroundPool) -> threading.Event:
    """Keep the pool's only thread busy until the returned event is set."""
    gate = threading.Event()
    pool.start(FunctionJob("Holding the pool", lambda _p, _c: gate.wait(WAIT_MS / 1000)))
    return gate


def delete(qtbot, *objects: Any) -> None:
    for obj in objects:
        obj.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.waitUntil(lambda: not any(shiboken6.isValid(obj) for obj in objects), timeout=WAIT_MS)


def finish(qtbot, gate: threading.Event, jobs: list[Job]) -> None:
    gate.set()
    qtbot.waitUntil(lambda: all(job.state not in (JobState.PENDING, JobState.RUNNING) for job in jobs),
                    timeout=WAIT_MS)
    qtbot.wait(50)  # the jobs' queued signals are delivered (or dropped) by the event loop


def test_wallet_jobs_ending_after_the_wallet_state_was_deleted_are_dropped(
        qtbot, wallet_session: WalletSession, one_lane: BackgroundPool, library) -> None:
    state = WalletState(wallet_session, one_lane)
    state.library = library
    gate = hold(one_lane)
    jobs = [state.activity.load_nfts(), state.refresh(), state.unlock("a wrong password")]
    qtbot.wait(20)  # the state hands its jobs to the pool from the event loop
    state.stop()
    delete(qtbot, state)

    finish(qtbot, gate, jobs)

    assert [job.state for job in jobs] == [JobState.DONE, JobState.DONE, JobState.FAILED]


def test_collector_and_gallery_jobs_ending_after_their_states_were_deleted_are_dropped(
        qtbot, wallet_session: WalletSession, one_lane: BackgroundPool, library) -> None:
    wallet = WalletState(wallet_session, one_lane)
    wallet.library = library
    collector = CollectorState(wallet, library, one_lane)
    gallery = GalleryState(load_config(), library, one_lane)
    gate = hold(one_lane)
    jobs = [collector.show_my_collection(), collector.open_collection("0x" + "11" * 20), gallery.empty_trash()]
    qtbot.wait(20)
    wallet.stop()
    delete(qtbot, collector, gallery, wallet)

    finish(qtbot, gate, jobs)

    # opening a collection stops reading "My collection"; the missing contract fails; the trash empties
    assert [job.state for job in jobs] == [JobState.CANCELLED, JobState.FAILED, JobState.DONE]
