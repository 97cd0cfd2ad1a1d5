//! The mailbox service: the store, and the MWI bus kept in step with it. Every change is
//! committed, then queued for the publishing thread under the same lock, so the state published
//! for a mailbox is always the state stored for it, in the same order; writers answer once the
//! change is stored (as res_mwi_external answers before it publishes), and readers that must see
//! the bus in step call [`MailboxService::settle`].

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use regex::Regex;

use super::publishing::{Job, Publishing};
use crate::domain::counts::MwiCounts;
use crate::domain::store::{MailboxKey, MailboxRecord, MailboxStore, Source, StoreError, UpdateOutcome};
use crate::domain::sync;
use crate::host::module::{Installed, LoadedSlot};

/// The store and its publishing.
pub struct MailboxService {
    store: Mutex<MailboxStore>,
    /// Declared after `store`: dropped last, so the queue drains after the last write.
    publishing: Publishing,
    republish: super::republish::Progress,
}

/// Wall-clock time in unix milliseconds, as the store records it.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl MailboxService {
    /// Starts the publishing thread; Err when it cannot be started.
    pub fn new(store: MailboxStore) -> Result<Self, String> {
        Ok(Self {
            store: Mutex::new(store),
            publishing: Publishing::start()?,
            republish: super::republish::Progress::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, MailboxStore> {
        // A panic while holding the lock leaves the store consistent (it commits before it
        // changes its index), so a poisoned lock is still usable.
        sync::lock(&self.store)
    }

    /// What holds publishing (live changes and the republish) back while Asterisk is overloaded.
    pub fn pacing(&self) -> &super::pacing::Pacing {
        self.publishing.pacing()
    }

    /// How far the background republish got.
    pub fn republish_progress(&self) -> &super::republish::Progress {
        &self.republish
    }

    /// Waits until every change stored so far is on the MWI bus (`mwi show state`, CLI writes).
    pub fn settle(&self) {
        self.publishing.settle();
    }

    /// Sets a mailbox's counts; publishes only when they changed. Stored before it returns Ok.
    pub fn update(
        &self,
        key: &MailboxKey,
        counts: MwiCounts,
        source: Source,
    ) -> Result<UpdateOutcome, StoreError> {
        let mut store = self.lock();
        let outcome = store.update(key, counts, source, now_ms())?;
        if !matches!(outcome, UpdateOutcome::Unchanged) {
            self.publishing.push(Job::Change { key: key.clone(), counts });
        }
        Ok(outcome)
    }

    /// Sets a mailbox's counts to what `decide` makes of its current ones, all under the store
    /// lock (so deciding, storing and publishing are one step for concurrent writers);
    /// `decide` returning None changes nothing. Publishes only when the counts changed.
    pub fn update_with(
        &self,
        key: &MailboxKey,
        source: Source,
        decide: impl FnOnce(Option<MwiCounts>) -> Option<MwiCounts>,
    ) -> Result<Option<UpdateOutcome>, StoreError> {
        let mut store = self.lock();
        let Some(counts) = decide(store.get(key).map(|r| r.counts)) else {
            return Ok(None);
        };
        let outcome = store.update(key, counts, source, now_ms())?;
        if !matches!(outcome, UpdateOutcome::Unchanged) {
            self.publishing.push(Job::Change { key: key.clone(), counts });
        }
        Ok(Some(outcome))
    }

    pub fn get(&self, key: &MailboxKey) -> Option<MailboxRecord> {
        self.lock().get(key).cloned()
    }

    pub fn counts(&self, id: &str) -> Option<MwiCounts> {
        let key = MailboxKey::parse(id).ok()?;
        self.lock().get(&key).map(|r| r.counts)
    }

    /// (matching records, total): copies, so no lock is held while they are printed.
    pub fn list(&self, filter: Option<&Regex>) -> (Vec<MailboxRecord>, usize) {
        let store = self.lock();
        (store.list(filter).into_iter().cloned().collect(), store.len())
    }

    pub fn ids(&self) -> Vec<String> {
        self.lock().iter().map(|r| r.key.as_str().to_owned()).collect()
    }

    /// Deletes one mailbox (lamp off, cache entry cleared); None when it did not exist.
    pub fn delete(&self, key: &MailboxKey) -> Result<Option<MailboxRecord>, StoreError> {
        let mut store = self.lock();
        let removed = store.delete(key)?;
        if removed.is_some() {
            self.publishing.push(Job::Retract { key: key.clone() });
        }
        Ok(removed)
    }

    pub fn delete_matching(&self, re: &Regex) -> Result<Vec<MailboxRecord>, StoreError> {
        let mut store = self.lock();
        let removed = store.delete_matching(re)?;
        removed.iter().for_each(|r| self.publishing.push(Job::Retract { key: r.key.clone() }));
        Ok(removed)
    }

    pub fn delete_all(&self) -> Result<Vec<MailboxRecord>, StoreError> {
        let mut store = self.lock();
        let removed = store.delete_all()?;
        removed.iter().for_each(|r| self.publishing.push(Job::Retract { key: r.key.clone() }));
        Ok(removed)
    }

    /// Publishes the stored state of each id that is a stored mailbox; returns how many.
    /// Published here and now (a new watcher reads its first state right after), once the
    /// queue is drained and under the store lock, so a queued or concurrent update cannot be
    /// overtaken by an older value.
    pub fn publish_stored<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        let store = self.lock();
        // Nothing can be queued while we hold the store lock: after this the bus is in step.
        self.publishing.settle();
        let watched = self.publishing.watched();
        let mut n = 0;
        for id in ids {
            let Ok(key) = MailboxKey::parse(id) else { continue };
            if let Some(r) = store.get(&key) {
                watched.publish(&r.key, r.counts);
                n += 1;
            }
        }
        n
    }

    /// Notes that a module watches mailbox `id` (from then on its changes go through its
    /// per-mailbox state; see the publishing module). Call before publishing its stored state.
    pub fn watch(&self, id: &str) {
        self.publishing.watched().insert(id);
    }

    /// The ids of the stored mailboxes with any message (what a republish must put back on
    /// the bus: a mailbox with no state cached already reads as 0/0).
    pub fn ids_with_messages(&self) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|r| r.counts != MwiCounts::default())
            .map(|r| r.key.as_str().to_owned())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// The store's database file.
    pub fn store_path(&self) -> std::path::PathBuf {
        self.lock().path().to_owned()
    }

    /// How many mailboxes some module watched since load.
    pub fn watched_count(&self) -> usize {
        self.publishing.watched().len()
    }

    /// Changes stored and not yet on the MWI bus.
    pub fn queued(&self) -> u64 {
        self.publishing.queued()
    }

    /// Runs `f` on the store itself (migration at load).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut MailboxStore) -> R) -> R {
        f(&mut self.lock())
    }
}

/// The service of the loaded module, for handlers that Asterisk calls without user data
/// (AMI actions, voicemail-provider callbacks, pjsip modules).
static CURRENT: LoadedSlot<MailboxService> = LoadedSlot::new();

/// The loaded service, if any.
pub fn current() -> Option<Arc<MailboxService>> {
    CURRENT.get()
}

/// Makes `service` the current one until the returned guard drops (at unload, after every
/// handler that reads it is unregistered).
pub fn install(service: Arc<MailboxService>) -> Installed<MailboxService> {
    CURRENT.install(service)
}
