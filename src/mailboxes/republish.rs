//! Putting stored mailboxes back on the MWI bus after a load.
//!
//! Asterisk costs more per new MWI state the more states exist (its per-mailbox states, and
//! res_mwi_devstate's device topics, sit in 57-bucket hash tables), so publishing 100,000
//! mailboxes takes it seconds to tens of seconds. Done inside `load_module` that would hold
//! Asterisk's boot. So:
//! - mailboxes some module already watches (a phone's `mailboxes=`) are published during load,
//!   through their per-mailbox state;
//! - any mailbox a module starts watching later is published the moment it subscribes
//!   (`SubscribeObserver`), so phones always get the right initial NOTIFY;
//! - every other mailbox with messages is published on the all-mailboxes topic, with no
//!   per-mailbox state (see `publishing`), by a background thread of ours once Asterisk is
//!   fully booted (so the boot itself is not slowed), a few at a time so that updates never
//!   wait long for the store lock; joined before unload returns. Mailboxes at 0/0 need no
//!   publish: no state reads as 0/0.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::service::{self, MailboxService};
use crate::domain::status::RepublishLine;
use crate::domain::sync::lock;
use crate::host::log::{self, ast_verb, ast_warning};
use crate::host::mwi::{self, MwiObserver};
use crate::host::thread::OwnThread;

/// Publishes a stored mailbox when another module starts watching it.
pub struct SubscribeObserver;

impl MwiObserver for SubscribeObserver {
    fn on_subscribe(mailbox: &str) {
        if let Some(s) = service::current() {
            s.watch(mailbox);
            s.publish_stored([mailbox]);
        }
    }
}

/// Publishes, now, the stored mailboxes that some module already watches; returns how many.
pub fn publish_watched(service: &MailboxService) -> usize {
    // The observer is registered already: a module that starts watching from here on is
    // marked by it, so this snapshot misses none.
    let watched = mwi::subscribed_mailboxes();
    watched.iter().for_each(|id| service.watch(id));
    service.publish_stored(watched.iter().map(String::as_str))
}

/// Mailboxes published per hold of the store lock (and per look at Asterisk's load): one
/// publish costs Asterisk up to ~10 ms at a million states, and an AMI update waiting behind a
/// chunk must not wait long.
const CHUNK: usize = 8;

/// Progress of the background republish, for `mwi show status`: what it shows, and when the
/// running republish started.
#[derive(Default)]
pub struct Progress {
    state: std::sync::Mutex<(RepublishLine, Option<Instant>)>,
}

impl Progress {
    fn set(&self, line: RepublishLine, started: Option<Instant>) {
        *lock(&self.state) = (line, started);
    }

    fn published(&self, n: usize) {
        if let (RepublishLine::Running { published, .. }, _) = &mut *lock(&self.state) {
            *published = n;
        }
    }

    /// Where the republish stands now.
    pub fn report(&self) -> RepublishLine {
        match *lock(&self.state) {
            (RepublishLine::Running { published, total, .. }, Some(t)) => {
                RepublishLine::Running { published, total, elapsed: t.elapsed() }
            }
            (line, _) => line,
        }
    }
}

/// The background republish; stopping it (drop) waits for the thread.
pub struct Republisher {
    stop: Arc<AtomicBool>,
    service: Arc<MailboxService>,
    thread: Option<OwnThread>,
}

impl Republisher {
    pub fn start(service: Arc<MailboxService>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, svc) = (stop.clone(), service.clone());
        let thread = OwnThread::spawn("mwi_hub_republish", move || {
            let stopped = || flag.load(Ordering::Relaxed);
            let progress = svc.republish_progress();
            while !log::fully_booted() {
                if stopped() {
                    progress.set(RepublishLine::Stopped { published: 0, total: 0 }, None);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let started = Instant::now();
            let ids = svc.ids_with_messages();
            let total = ids.len();
            progress
                .set(RepublishLine::Running { published: 0, total, elapsed: Duration::ZERO }, Some(started));
            let pacing = svc.pacing();
            pacing.set_background(true);
            let mut published = 0;
            for chunk in ids.chunks(CHUNK) {
                // Asterisk first: wait while it is overloaded (see `pacing`).
                pacing.wait_for_room(stopped);
                if stopped() {
                    break;
                }
                // Queued live changes go first: this waits for them (see publish_stored).
                published += svc.publish_stored(chunk.iter().map(String::as_str));
                progress.published(published);
            }
            pacing.set_background(false);
            let took = started.elapsed();
            if stopped() {
                progress.set(RepublishLine::Stopped { published, total }, None);
                ast_verb!(
                    2,
                    "res_mwi_hub: republish stopped by unload after {published} of {total} mailboxes ({took:?}); the rest is published at the next load"
                );
            } else {
                progress.set(RepublishLine::Done { published, took }, None);
                ast_verb!(
                    2,
                    "res_mwi_hub: republished {published} external mailboxes with messages in {took:?}"
                );
            }
        });
        match thread {
            Ok(t) => Self { stop, service, thread: Some(t) },
            Err(errno) => {
                ast_warning!("res_mwi_hub: no background republish thread (error {errno}); stored mailboxes are published when watched or updated");
                Self { stop, service, thread: None }
            }
        }
    }
}

impl Drop for Republisher {
    fn drop(&mut self) {
        // Unloading: from here on neither the republish nor the live queue waits for Asterisk
        // (what is queued, at most the queue's cap, is published at once), so unload and
        // shutdown are never held up by pacing.
        self.service.pacing().stop_waiting();
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the thread joins it.
        drop(self.thread.take());
    }
}
