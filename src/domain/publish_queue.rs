//! An ordered hand-over queue between the threads that store mailbox changes and the one
//! thread that publishes them.
//!
//! Why: creating an MWI state costs Asterisk's core O(states) under its own locks, so writers
//! that published themselves, one after another under the store lock, queued behind each other
//! and behind the core (context switches, idle cores). Writers now store, push a job and answer;
//! one worker publishes, in push order. Pushes happen under the store lock, so the bus sees each
//! mailbox's states in the order they were stored.
//!
//! - `push` blocks while `cap` jobs wait (memory stays bounded when writers outrun the core).
//! - `settle` waits until every job pushed before it is done (reads that must see the bus in
//!   step with the store: `mwi show state`, CLI writes, a new watcher's first state).
//! - `run` is the worker's loop; it returns once `close` was called and every job is done, so
//!   nothing pushed is ever dropped.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::domain::sync::{lock, wait, wait_timeout};

/// See the module documentation.
pub struct PublishQueue<J> {
    state: Mutex<State<J>>,
    /// Signalled when a job arrives for an idle worker, or on close.
    work: Condvar,
    /// Signalled when the worker finished a batch (for `settle` and a `push` at the cap).
    progress: Condvar,
    cap: usize,
}

struct State<J> {
    jobs: VecDeque<J>,
    /// Jobs pushed since creation.
    pushed: u64,
    /// Jobs the worker finished since creation (`done <= pushed`).
    done: u64,
    /// The worker waits for work (so a push must wake it).
    worker_idle: bool,
    /// Threads waiting in `settle` or in `push` at the cap (so a finished batch must wake them).
    waiters: usize,
    closed: bool,
}

/// What `settle` saw when it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Every job pushed before the call is done.
    Done,
    /// The timeout passed first; this many of those jobs were still not done.
    TimedOut { pending: u64 },
}

impl<J> PublishQueue<J> {
    /// A queue that holds at most `cap` waiting jobs (at least 1).
    pub fn new(cap: usize) -> Self {
        Self {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                pushed: 0,
                done: 0,
                worker_idle: false,
                waiters: 0,
                closed: false,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            cap: cap.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<J>> {
        // Nothing in here panics while holding the lock; a poisoned lock is still consistent.
        lock(&self.state)
    }

    /// Queues `job` after every job pushed before it. Waits while `cap` jobs are waiting.
    pub fn push(&self, job: J) {
        let mut s = self.lock();
        if s.jobs.len() >= self.cap && !s.closed {
            s.waiters += 1;
            while s.jobs.len() >= self.cap && !s.closed {
                s = wait(&self.progress, s);
            }
            s.waiters -= 1;
        }
        s.jobs.push_back(job);
        s.pushed += 1;
        if s.worker_idle {
            s.worker_idle = false;
            self.work.notify_one();
        }
    }

    /// Waits until every job pushed before this call is done, or `timeout` passed.
    pub fn settle(&self, timeout: Duration) -> Settled {
        let deadline = Instant::now() + timeout;
        let mut s = self.lock();
        let target = s.pushed;
        if s.done >= target {
            return Settled::Done;
        }
        s.waiters += 1;
        let result = loop {
            if s.done >= target {
                break Settled::Done;
            }
            let now = Instant::now();
            if now >= deadline {
                break Settled::TimedOut { pending: target - s.done };
            }
            s = wait_timeout(&self.progress, s, deadline - now);
        };
        s.waiters -= 1;
        result
    }

    /// Jobs pushed and not yet done.
    pub fn pending(&self) -> u64 {
        let s = self.lock();
        s.pushed - s.done
    }

    /// Tells the worker to finish: `run` returns once every job pushed is done. A push after
    /// close is still queued and done if `run` has not returned yet.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        self.work.notify_all();
        self.progress.notify_all();
    }

    /// Whether `close` was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// The worker's loop: takes up to `batch` waiting jobs at a time and gives each to `each`,
    /// in push order; returns when closed and empty. `between` is called before each batch
    /// ([`Between::Batch`], where a pacer may wait) and when the queue ran dry
    /// ([`Between::Idle`]). Neither may push or settle on this queue.
    pub fn run(&self, batch: usize, mut between: impl FnMut(Between), mut each: impl FnMut(J)) {
        let batch = batch.max(1);
        let mut taken = VecDeque::new();
        loop {
            let mut s = self.lock();
            if s.jobs.is_empty() && !s.closed {
                drop(s);
                between(Between::Idle);
                s = self.lock();
            }
            while s.jobs.is_empty() && !s.closed {
                s.worker_idle = true;
                s = wait(&self.work, s);
            }
            s.worker_idle = false;
            if s.jobs.is_empty() {
                return;
            }
            drop(s);
            between(Between::Batch);
            {
                let mut s = self.lock();
                let n = batch.min(s.jobs.len());
                taken.extend(s.jobs.drain(..n));
                if s.waiters > 0 {
                    // The queue has room again for a push waiting at the cap.
                    self.progress.notify_all();
                }
            }
            let n = taken.len() as u64;
            taken.drain(..).for_each(&mut each);
            let mut s = self.lock();
            s.done += n;
            if s.waiters > 0 {
                self.progress.notify_all();
            }
        }
    }
}

/// Where the worker's loop stands when it calls `between`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Between {
    /// A batch is about to be taken.
    Batch,
    /// No job is waiting: the worker is about to wait for one.
    Idle,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;

    const LONG: Duration = Duration::from_secs(30);

    #[test]
    fn jobs_run_in_push_order_across_writers_and_none_is_lost() {
        let q = PublishQueue::new(16);
        let mut seen = Vec::new();
        thread::scope(|s| {
            let worker = s.spawn(|| q.run(usize::MAX, |_| {}, |j: (usize, u32)| seen.push(j)));
            let writers: Vec<_> = (0..4)
                .map(|w| {
                    let q = &q;
                    s.spawn(move || (0..2_000u32).for_each(|i| q.push((w, i))))
                })
                .collect();
            writers.into_iter().for_each(|h| h.join().unwrap());
            assert_eq!(q.settle(LONG), Settled::Done);
            q.close();
            worker.join().unwrap();
        });
        assert_eq!(seen.len(), 8_000);
        for w in 0..4 {
            let mine: Vec<u32> = seen.iter().filter(|j| j.0 == w).map(|j| j.1).collect();
            assert_eq!(mine, (0..2_000).collect::<Vec<_>>(), "writer {w} out of order");
        }
    }

    #[test]
    fn settle_returns_only_after_earlier_jobs_are_done() {
        let q = PublishQueue::new(1024);
        let finished = AtomicBool::new(false);
        thread::scope(|s| {
            for i in 0..100 {
                q.push(i);
            }
            s.spawn(|| {
                q.run(
                    usize::MAX,
                    |_| {},
                    |i| {
                        if i == 99 {
                            thread::sleep(Duration::from_millis(50));
                            finished.store(true, Ordering::SeqCst);
                        }
                    },
                )
            });
            assert_eq!(q.settle(LONG), Settled::Done);
            assert!(finished.load(Ordering::SeqCst), "settle returned before job 99 was done");
            assert_eq!(q.pending(), 0);
            q.close();
        });
    }

    #[test]
    fn settle_with_nothing_pending_returns_at_once_and_times_out_without_a_worker() {
        let q = PublishQueue::new(4);
        assert_eq!(q.settle(Duration::ZERO), Settled::Done);
        q.push(1);
        q.push(2);
        assert_eq!(q.settle(Duration::from_millis(20)), Settled::TimedOut { pending: 2 });
    }

    #[test]
    fn push_at_the_cap_waits_for_the_worker() {
        let q = PublishQueue::new(2);
        let released = AtomicBool::new(false);
        thread::scope(|s| {
            q.push(0);
            q.push(1);
            let blocked = s.spawn(|| {
                q.push(2);
                // Only possible once the worker took the first batch.
                assert!(released.load(Ordering::SeqCst), "push went past the cap");
            });
            thread::sleep(Duration::from_millis(50));
            assert_eq!(q.pending(), 2, "the third job was queued beyond the cap");
            released.store(true, Ordering::SeqCst);
            let mut seen = Vec::new();
            let worker = s.spawn(|| {
                q.run(usize::MAX, |_| {}, |j| seen.push(j));
                seen
            });
            blocked.join().unwrap();
            assert_eq!(q.settle(LONG), Settled::Done);
            q.close();
            assert_eq!(worker.join().unwrap(), vec![0, 1, 2]);
        });
    }

    #[test]
    fn close_drains_every_job_before_run_returns() {
        let q = PublishQueue::new(10_000);
        (0..5_000).for_each(|i| q.push(i));
        q.close();
        let mut n = 0;
        q.run(usize::MAX, |_| {}, |_| n += 1);
        assert_eq!(n, 5_000);
        assert_eq!(q.pending(), 0);
    }

    #[test]
    fn batches_are_bounded_and_a_pacer_runs_before_each() {
        let q = PublishQueue::new(10_000);
        (0..100).for_each(|i| q.push(i));
        q.close();
        let mut log: Vec<String> = Vec::new();
        let log_cell = std::cell::RefCell::new(&mut log);
        q.run(
            8,
            |b| log_cell.borrow_mut().push(format!("{b:?}")),
            |j| log_cell.borrow_mut().push(j.to_string()),
        );
        // 13 batches (12 of 8 and one of 4), each announced; jobs in order; none lost.
        let batches = log.iter().filter(|l| *l == "Batch").count();
        assert_eq!(batches, 13);
        let jobs: Vec<u32> = log.iter().filter_map(|l| l.parse().ok()).collect();
        assert_eq!(jobs, (0..100).collect::<Vec<_>>());
        let first_batch_end = log.iter().skip(1).position(|l| l == "Batch").unwrap() + 1;
        assert_eq!(first_batch_end, 9, "{log:?}");
    }

    #[test]
    fn the_worker_says_when_it_runs_dry() {
        let q = PublishQueue::new(16);
        let idles = std::sync::atomic::AtomicUsize::new(0);
        thread::scope(|s| {
            let worker = s.spawn(|| {
                q.run(
                    4,
                    |b| {
                        if b == Between::Idle {
                            idles.fetch_add(1, Ordering::SeqCst);
                        }
                    },
                    |_: u32| {},
                )
            });
            let wait_for = |n: usize| {
                let deadline = Instant::now() + LONG;
                while idles.load(Ordering::SeqCst) < n && Instant::now() < deadline {
                    thread::sleep(Duration::from_millis(1));
                }
                idles.load(Ordering::SeqCst) >= n
            };
            assert!(wait_for(1), "idle before the first job");
            q.push(1);
            assert_eq!(q.settle(LONG), Settled::Done);
            assert!(wait_for(2), "idle again after the job");
            q.close();
            worker.join().unwrap();
        });
    }
}
