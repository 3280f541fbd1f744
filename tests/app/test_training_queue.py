"""The server's training queue (ui/training_queue.py) against a fake executor the tests move on
by hand: its order, its places and waits, leaving it, a full queue, a closed session, a worker
that dies or hangs."""

import pytest

from ui.training_queue import QueueError, TrainingQueue, about, line_sentence, ordinal

from helpers.training import FakeExecutor, fake_job, wait_until


@pytest.fixture
def executor():
    return FakeExecutor(workers=1)


@pytest.fixture
def queue(executor):
    q = TrainingQueue(executor, capacity=4, poll_seconds=0.02)
    yield q
    q.shutdown()


def status(job) -> str:
    return job.snapshot().status


def test_the_line_in_words():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]
    assert [about(s) for s in (0, 12, 38, 59, 61, 150)] == \
        ["about 5 s", "about 10 s", "about 40 s", "about 60 s", "about 1 min", "about 2 min"]
    assert line_sentence(2, 40) == "2nd in line, starts in about 40 s"


def test_first_come_first_served_one_at_a_time(queue, executor):
    jobs = [fake_job().start(queue, f"session {i}") for i in range(3)]
    wait_until(lambda: len(executor.runs) == 1, 5, "the first start")
    assert [status(j) for j in jobs] == ["loading", "queued", "queued"]
    assert [j.snapshot().place for j in jobs] == [0, 1, 2]
    assert executor.runs[0].request.dataset == "mnist"
    executor.runs[0].send(status="training", message="training", fraction=0.5)
    wait_until(lambda: status(jobs[0]) == "training", 5, "the first message")
    executor.runs[0].finish()
    wait_until(lambda: len(executor.runs) == 2, 5, "the second start")
    assert [status(j) for j in jobs] == ["done", "loading", "queued"]
    assert jobs[2].snapshot().place == 1
    executor.runs[1].finish()
    wait_until(lambda: len(executor.runs) == 3, 5, "the third start")
    executor.runs[2].finish()
    wait_until(lambda: status(jobs[2]) == "done", 5, "the third end")
    assert queue.counts() == (0, 0)


def test_a_waiting_visitor_sees_an_honest_wait(queue, executor):
    # 8 epochs of 60,000 images: the default pace is about 22 s for one, startup included
    first, second, third = (fake_job().start(queue, f"s{i}") for i in range(3))
    wait_until(lambda: executor.runs, 5, "the first start")
    one = queue.expected_seconds(first)
    assert 15 < one < 30
    place, wait = third.snapshot().place, third.snapshot().wait
    assert place == 2 and one < wait <= 2 * one + 1  # the running one's rest, then the second's whole
    assert second.snapshot().wait <= one + 1
    # a training that ran slower than expected makes the next estimates longer
    executor.runs[0].finish()
    wait_until(lambda: len(executor.runs) == 2, 5, "the second start")
    assert queue.expected_seconds(third) < one + 1  # the first took no time at all: faster


def test_a_session_has_one_training_and_a_full_queue_says_so(queue, executor):
    fake_job().start(queue, "busy")
    with pytest.raises(QueueError) as refused:
        fake_job().start(queue, "busy")
    assert str(refused.value) == "You already have a training in line or running: wait for it, or stop it first."
    for i in range(3):
        fake_job().start(queue, f"other {i}")
    with pytest.raises(QueueError) as full:
        fake_job().start(queue, "one too many")
    assert str(full.value) == ("The training queue is full (4 trainings are running or waiting); "
                               "try again in a few minutes.")


def test_leaving_the_queue(queue, executor):
    running, leaving, staying = (fake_job().start(queue, f"s{i}") for i in range(3))
    wait_until(lambda: executor.runs, 5, "the first start")
    leaving.leave()
    assert status(leaving) == "left" and not leaving.snapshot().running
    assert staying.snapshot().place == 1
    # Stop on a queued training leaves the line too; on a running one it asks the worker to stop
    staying.stop()
    assert status(staying) == "left"
    running.stop()
    assert executor.runs[0].stopped and not executor.runs[0].killed
    running.leave()  # a running one that leaves is killed at once
    assert executor.runs[0].killed and status(running) == "left"
    assert queue.counts() == (0, 0)
    fake_job().start(queue, "s0")  # the session may queue again


def test_a_closed_session_leaves_and_its_training_is_killed(executor):
    open_sessions = {"stays", "goes"}
    queue = TrainingQueue(executor, poll_seconds=0.02, grace_seconds=0.3,
                          session_alive=lambda s: s in open_sessions)
    try:
        running = fake_job().start(queue, "goes")
        wait_until(lambda: executor.runs, 5, "the first start")
        other = fake_job().start(queue, "stays")
        open_sessions.discard("goes")
        wait_until(lambda: executor.runs[0].killed, 5, "the kill of the closed session's worker")
        assert status(running) == "left"
        wait_until(lambda: len(executor.runs) == 2, 5, "the next start")  # the other visitor's turn
        assert status(other) == "loading"
    finally:
        queue.shutdown()


def test_a_session_back_within_the_grace_keeps_its_place(executor):
    open_sessions = {"flaky"}
    queue = TrainingQueue(executor, poll_seconds=0.02, grace_seconds=60, session_alive=lambda s: s in open_sessions)
    try:
        job = fake_job().start(queue, "flaky")
        wait_until(lambda: executor.runs, 5, "the first start")
        open_sessions.clear()
        wait_until(lambda: queue._gone_since, 5, "the session seen closed")
        open_sessions.add("flaky")
        wait_until(lambda: not queue._gone_since, 5, "the session seen back")
        assert not executor.runs[0].killed and status(job) == "loading"
    finally:
        queue.shutdown()


def test_a_dead_worker_costs_its_training_only(queue, executor):
    dead, next_one = fake_job().start(queue, "a"), fake_job().start(queue, "b")
    wait_until(lambda: executor.runs, 5, "the first start")
    executor.runs[0].die("its worker process was killed (as the system does when memory runs out); "
                         "try a smaller model or batch size, or try again.")
    wait_until(lambda: status(dead) == "failed", 5, "the failure")
    assert dead.snapshot().message.startswith("its worker process was killed")
    wait_until(lambda: len(executor.runs) == 2, 5, "the next start")
    assert status(next_one) == "loading"


def test_a_hung_worker_is_ended(executor):
    queue = TrainingQueue(executor, poll_seconds=0.02, hang_seconds=1.0)
    try:
        job = fake_job().start(queue, "a")
        wait_until(lambda: status(job) == "failed", 5, "the hang noticed")
        assert job.snapshot().message == "its worker stopped answering for 1 s and was ended; try again."
        assert executor.runs[0].killed
    finally:
        queue.shutdown()
