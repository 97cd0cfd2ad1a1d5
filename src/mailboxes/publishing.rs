//! The thread of ours that puts stored changes on the MWI bus, in the order they were stored
//! (see [`PublishQueue`] for why writers no longer publish themselves), and the two ways it
//! publishes:
//! - a mailbox that some module watches (a phone's `mailboxes=` through res_pjsip_mwi,
//!   chan_iax2, ...) is published through an `ast_mwi_publisher` held for it, so its per-mailbox
//!   state and subscribers get every change, at no lookup among all states;
//! - any other mailbox is published straight on the all-mailboxes topic
//!   ([`mwi::publish_unwatched`]): Asterisk then keeps no per-mailbox state for it, which costs
//!   O(states) to create and about 1 KB each. The cache, AMI events and device states see it
//!   all the same, and a module that starts watching it gets its state from the subscribe
//!   observer, which marks it watched first ([`Watched`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::pacing::Pacing;
use crate::domain::counts::MwiCounts;
use crate::domain::publish_queue::{Between, PublishQueue, Settled};
use crate::domain::store::MailboxKey;
use crate::host::guard;
use crate::host::log::{ast_error, ast_warning};
use crate::host::mwi;
use crate::host::thread::OwnThread;

/// Jobs waiting at most. Writers that outrun Asterisk's core wait rather than queue more: a
/// create costs the core up to ~0.5 ms at 100k states, so a full queue is at most about half a
/// second behind the store, which bounds what a `settle` (a new watcher's first state) waits.
const CAP: usize = 1024;

/// How long a reader waits for the bus to catch up before it goes on with a warning (only a
/// wedged Asterisk core takes that long; an Asterisk thread must not hang on us forever).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Jobs published between two looks at Asterisk's load (see `pacing`).
const BATCH: usize = 8;

/// What the publishing thread does.
pub enum Job {
    /// Publish a mailbox's new counts.
    Change { key: MailboxKey, counts: MwiCounts },
    /// A mailbox was deleted: publish 0/0 (lamps off), clear its cache entry, drop its
    /// publisher.
    Retract { key: MailboxKey },
}

/// The mailboxes some module watched since load. It only grows: Asterisk does not say how many
/// subscribers a mailbox has, and publishing a watched mailbox through its state is always
/// right, while publishing a watched one on the all-mailboxes topic alone would starve its
/// subscribers.
#[derive(Default)]
pub struct Watched(Mutex<HashSet<String>>);

impl Watched {
    pub fn insert(&self, id: &str) {
        let mut set = crate::domain::sync::lock(&self.0);
        if !set.contains(id) {
            set.insert(id.to_owned());
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        crate::domain::sync::lock(&self.0).contains(id)
    }

    pub fn len(&self) -> usize {
        crate::domain::sync::lock(&self.0).len()
    }

    /// Publishes `counts` for `key` without a held publisher: through its per-mailbox state
    /// when watched, else on the all-mailboxes topic. Logs a failure.
    pub fn publish(&self, key: &MailboxKey, counts: MwiCounts) {
        let result = if self.contains(key.as_str()) {
            mwi::publish(key.as_str(), counts)
        } else {
            mwi::publish_unwatched(key.as_str(), counts)
        };
        log_failure(key, result);
    }
}

fn log_failure(key: &MailboxKey, result: Result<(), mwi::MwiError>) {
    if let Err(e) = result {
        ast_error!("MWI for external mailbox {key} not published: {e}");
    }
}

/// The publishing thread and its queue; dropping it publishes every queued job, then joins.
pub struct Publishing {
    queue: Arc<PublishQueue<Job>>,
    watched: Arc<Watched>,
    pacing: Arc<Pacing>,
    thread: Option<OwnThread>,
}

impl Publishing {
    pub fn start() -> Result<Self, String> {
        let queue = Arc::new(PublishQueue::new(CAP));
        let watched = Arc::new(Watched::default());
        let pacing = Arc::new(Pacing::new());
        let (worker, seen, pace) = (queue.clone(), watched.clone(), pacing.clone());
        let thread = OwnThread::spawn("mwi_hub_publish", move || {
            let mut publishers: HashMap<String, mwi::MwiPublisher> = HashMap::new();
            worker.run(
                BATCH,
                |between| match between {
                    // Once closed (unload), the rest is published at once: at most CAP jobs.
                    Between::Batch => pace.wait_for_room(|| worker.is_closed()),
                    Between::Idle => pace.idle(),
                },
                |job| {
                    // One job's panic must not stop the thread: writers would wait on it forever.
                    guard::entry_or("res_mwi_hub publishing", (), || run(&mut publishers, &seen, job))
                },
            );
            // The publishers are released here, on our thread, before the join returns.
        })
        .map_err(|errno| format!("could not start the MWI publishing thread (error {errno})"))?;
        Ok(Self { queue, watched, pacing, thread: Some(thread) })
    }

    /// What holds publishing back while Asterisk is overloaded.
    pub fn pacing(&self) -> &Pacing {
        &self.pacing
    }

    /// The mailboxes some module watched since load.
    pub fn watched(&self) -> &Watched {
        &self.watched
    }

    /// Jobs queued and not yet on the bus.
    pub fn queued(&self) -> u64 {
        self.queue.pending()
    }

    /// Queues `job` after every earlier one. Callers hold the store lock, which orders jobs as
    /// the store ordered the changes.
    pub fn push(&self, job: Job) {
        self.queue.push(job);
    }

    /// Waits until every job queued so far is on the bus. On the publishing thread itself (a
    /// callback of Asterisk's that a publish of ours ran synchronously) there is nothing to
    /// wait for that could finish: it returns at once.
    pub fn settle(&self) {
        if self.thread.as_ref().is_some_and(OwnThread::is_current) {
            return;
        }
        if let Settled::TimedOut { pending } = self.queue.settle(SETTLE_TIMEOUT) {
            ast_warning!(
                "res_mwi_hub: {pending} MWI publishes still queued after {SETTLE_TIMEOUT:?}; going on without them"
            );
        }
    }
}

impl Drop for Publishing {
    fn drop(&mut self) {
        self.queue.close();
        // Joining: every queued job is published first (an update answered Success is on the
        // bus before unload returns).
        drop(self.thread.take());
    }
}

/// Test build only: a pause before each job, standing in for a busy Asterisk core, so tests can
/// catch jobs still queued (at unload, behind `settle`).
#[cfg(feature = "test-hooks")]
static DELAY_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(feature = "test-hooks")]
pub fn set_delay(delay: Duration) {
    DELAY_MS.store(delay.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
}

fn run(publishers: &mut HashMap<String, mwi::MwiPublisher>, watched: &Watched, job: Job) {
    #[cfg(feature = "test-hooks")]
    match DELAY_MS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => {}
        ms => std::thread::sleep(Duration::from_millis(ms)),
    }
    match job {
        Job::Change { key, counts } => {
            let result = if let Some(publisher) = publishers.get(key.as_str()) {
                publisher.publish(key.as_str(), counts)
            } else if watched.contains(key.as_str()) {
                match mwi::MwiPublisher::add(key.as_str()) {
                    Some(publisher) => {
                        let result = publisher.publish(key.as_str(), counts);
                        publishers.insert(key.as_str().to_owned(), publisher);
                        result
                    }
                    None => mwi::publish(key.as_str(), counts),
                }
            } else {
                mwi::publish_unwatched(key.as_str(), counts)
            };
            log_failure(&key, result);
        }
        Job::Retract { key } => {
            let lamp_off = MwiCounts::default();
            // Released after the delete, as Asterisk's own publishers are.
            let held = publishers.remove(key.as_str());
            let result = if held.is_some() || watched.contains(key.as_str()) {
                let result = match &held {
                    Some(publisher) => publisher.publish(key.as_str(), lamp_off),
                    None => mwi::publish(key.as_str(), lamp_off),
                };
                mwi::delete(key.as_str());
                result
            } else {
                mwi::publish_unwatched(key.as_str(), lamp_off)
                    .and_then(|()| mwi::clear_unwatched(key.as_str()))
            };
            log_failure(&key, result);
        }
    }
}
