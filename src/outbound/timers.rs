//! The one timer thread of the outbound subscriptions: it keeps every subscription's next
//! wake-up and, when one is due, hands it to the subscription's serializer (it never touches
//! pjsip itself). Joined on drop.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use super::subscription::Subscription;
use crate::domain::subscription::wakeups::Wakeups;
use crate::domain::subscription::Millis;
use crate::domain::sync::{lock, wait_timeout};
use crate::host::thread::OwnThread;

/// A planned wake-up of one subscription: the timer generation it was armed with.
type Entry = (u64, Weak<Subscription>);

struct Shared {
    /// The planned wake-ups, and whether the thread is to stop.
    heap: Mutex<(Wakeups<Entry>, bool)>,
    /// Subscriptions to start once Asterisk is fully booted (with their initial delay):
    /// res_pjsip does not process what arrives before that, so a SUBSCRIBE sent during boot
    /// would see its answer lost.
    after_boot: Mutex<Vec<(Weak<Subscription>, u64)>>,
    wake: Condvar,
}

/// The clock every subscription's machine runs on: milliseconds since the module loaded.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn new() -> Self {
        Self(Instant::now())
    }

    pub fn now(&self) -> Millis {
        self.0.elapsed().as_millis() as Millis
    }
}

/// Schedules wake-ups; cloneable handle to the thread.
#[derive(Clone)]
pub struct Timers {
    shared: Arc<Shared>,
}

pub struct TimerThread {
    timers: Timers,
    thread: Option<OwnThread>,
}

impl TimerThread {
    pub fn start(clock: Clock) -> Result<Self, String> {
        let shared = Arc::new(Shared {
            heap: Mutex::new((Wakeups::default(), false)),
            after_boot: Mutex::new(Vec::new()),
            wake: Condvar::new(),
        });
        let worker = shared.clone();
        let thread = OwnThread::spawn("mwihub-subtimer", move || run(&worker, clock))
            .map_err(|e| format!("could not start the subscription timer thread (errno {e})"))?;
        Ok(Self { timers: Timers { shared }, thread: Some(thread) })
    }

    pub fn timers(&self) -> Timers {
        self.timers.clone()
    }
}

impl Drop for TimerThread {
    fn drop(&mut self) {
        {
            let mut heap = lock(&self.timers.shared.heap);
            heap.1 = true;
            heap.0.clear();
        }
        self.timers.shared.wake.notify_all();
        drop(self.thread.take());
    }
}

impl Timers {
    /// Wakes `target` at `at`, or up to `slack` earlier together with another wake-up, with
    /// `generation` (it ignores a wake-up whose generation is not its current one, so
    /// re-arming needs no removal).
    pub fn arm(&self, at: Millis, slack: Millis, generation: u64, target: &Arc<Subscription>) {
        let mut heap = lock(&self.shared.heap);
        if heap.1 {
            return;
        }
        // The thread sleeps until the earliest entry: wake it only when this one is earlier.
        let earliest = heap.0.push(at, slack, (generation, Arc::downgrade(target)));
        drop(heap);
        if earliest {
            self.shared.wake.notify_all();
        }
    }

    /// Starts `target` (after `delay_ms`) once Asterisk is fully booted.
    pub fn start_after_boot(&self, target: &Arc<Subscription>, delay_ms: u64) {
        lock(&self.shared.after_boot).push((Arc::downgrade(target), delay_ms));
        self.shared.wake.notify_all();
    }
}

/// While Asterisk boots, how often the thread looks whether it is done.
const BOOT_POLL: Duration = Duration::from_millis(100);

fn start_booted(shared: &Shared) -> bool {
    let mut waiting = lock(&shared.after_boot);
    if waiting.is_empty() {
        return false;
    }
    if !crate::host::log::fully_booted() {
        return true;
    }
    for (target, delay_ms) in waiting.drain(..) {
        if let Some(target) = target.upgrade() {
            target.post(crate::domain::subscription::machine::Event::Start { delay_ms });
        }
    }
    false
}

fn run(shared: &Shared, clock: Clock) {
    let mut heap = lock(&shared.heap);
    // Whether the last pass fired a batch: then the thread sleeps until the next entry is
    // due instead of taking more early ones at once (a wake-up takes at most MAX_EARLY early).
    let mut fired = false;
    loop {
        if heap.1 {
            return;
        }
        drop(heap);
        let booting = start_booted(shared);
        heap = lock(&shared.heap);
        if heap.1 {
            return;
        }
        let now = clock.now();
        if !(fired && heap.0.next_at().is_some_and(|at| at > now)) {
            let due = heap.0.take_due(now);
            if !due.is_empty() {
                drop(heap);
                for (generation, target) in due {
                    // A re-armed timer leaves its old entry behind: skip it here rather than
                    // queue a task that would find it stale.
                    if let Some(target) = target.upgrade().filter(|t| t.armed_generation() == generation) {
                        target.wake(generation);
                    }
                }
                fired = true;
                heap = lock(&shared.heap);
                continue;
            }
        }
        fired = false;
        let wait = match heap.0.next_at() {
            Some(at) => Duration::from_millis(at.saturating_sub(now)),
            None => Duration::from_secs(3600),
        };
        heap = wait_timeout(&shared.wake, heap, if booting { wait.min(BOOT_POLL) } else { wait });
    }
}
