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
use crate::domain::store::health::{Failing, WriteHealth};
use crate::domain::store::{MailboxKey, MailboxRecord, MailboxStore, Source, StoreError, UpdateOutcome};
use crate::domain::sync;
use crate::host::log::{ast_debug, ast_error, ast_notice};
use crate::host::module::{Installed, LoadedSlot};

/// The store and its publishing.
pub struct MailboxService {
    store: Mutex<MailboxStore>,
    /// Declared after `store`: dropped last, so the queue drains after the last write.
    publishing: Publishing,
    republish: super::republish::Progress,
    /// Changed under the store lock only (its own lock lets the status read it without
    /// waiting behind a store operation).
    health: Mutex<WriteHealth>,
}

/// What [`MailboxService::update_from_endpoint`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointUpdate {
    Stored(UpdateOutcome),
    /// `decide` said no (a NOTIFY received later already set the mailbox).
    Superseded,
    /// A new mailbox, and the endpoint has no room for one: nothing stored.
    NoRoom,
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
            health: Mutex::default(),
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
        self.store_update(&mut store, key, counts, source)
    }

    /// Stores and queues one change, under the store lock; keeps the write health.
    fn store_update(
        &self,
        store: &mut MailboxStore,
        key: &MailboxKey,
        counts: MwiCounts,
        source: Source,
    ) -> Result<UpdateOutcome, StoreError> {
        let outcome = self.written(store, |s| s.update(key, counts, source, now_ms()))?;
        if !matches!(outcome, UpdateOutcome::Unchanged) {
            self.publishing.push(Job::Change { key: key.clone(), counts });
        }
        Ok(outcome)
    }

    /// Runs one store operation and keeps the write health: the first failed write of an
    /// episode logs an ERROR (later ones only a debug line), the first committed write after
    /// it a NOTICE. Callers answer each failure themselves (AMI Error, SIP 500, ARI 500).
    fn written<R>(
        &self,
        store: &mut MailboxStore,
        op: impl FnOnce(&mut MailboxStore) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let writes = store.committed_writes();
        let result = op(store);
        let mut health = sync::lock(&self.health);
        match &result {
            Err(e @ StoreError::Write { .. }) => {
                if health.failed(now_ms(), || e.to_string()) {
                    ast_error!(
                        "{e}. Until the store can write again, updates are refused (AMI Error, SIP 500, \
                         ARI 500, CLI error) and nothing unstored is published; this is logged once, \
                         'mwi show status' shows the count"
                    );
                } else {
                    ast_debug!(1, "store write refused again: {e}");
                }
            }
            Ok(_) if store.committed_writes() > writes => {
                if let Some(f) = health.wrote() {
                    ast_notice!(
                        "the mailbox store {} writes again; {} update{} refused in the {:.1} s it could not",
                        store.path().display(),
                        f.refused,
                        if f.refused == 1 { " was" } else { "s were" },
                        (now_ms() - f.since_ms).max(0) as f64 / 1000.0
                    );
                }
            }
            _ => {}
        }
        result
    }

    /// The running episode of failing writes, if any (`mwi show status`).
    pub fn write_failure(&self) -> Option<Failing> {
        sync::lock(&self.health).failing().cloned()
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
        self.store_update(&mut store, key, counts, source).map(Some)
    }

    /// [`Self::update_with`] for a NOTIFY from `endpoint`: a mailbox not stored yet is created
    /// only if `room_for_new` says yes, given how many mailboxes the endpoint holds (see
    /// `domain::incoming::growth`). Decided under the store lock, so concurrent NOTIFYs cannot
    /// all pass the check at once.
    pub fn update_from_endpoint(
        &self,
        key: &MailboxKey,
        endpoint: &str,
        room_for_new: impl FnOnce(usize) -> bool,
        decide: impl FnOnce(Option<MwiCounts>) -> Option<MwiCounts>,
    ) -> Result<EndpointUpdate, StoreError> {
        let mut store = self.lock();
        let current = store.get(key).map(|r| r.counts);
        if current.is_none() && !room_for_new(store.endpoint_mailboxes(endpoint)) {
            return Ok(EndpointUpdate::NoRoom);
        }
        let Some(counts) = decide(current) else {
            return Ok(EndpointUpdate::Superseded);
        };
        let source = Source::Notify { endpoint: endpoint.to_owned() };
        self.store_update(&mut store, key, counts, source).map(EndpointUpdate::Stored)
    }

    /// How many mailboxes each endpoint's NOTIFYs hold, for those that hold any.
    pub fn mailboxes_by_endpoint(&self) -> Vec<(String, usize)> {
        self.lock().mailboxes_by_endpoint()
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
        let removed = self.written(&mut store, |s| s.delete(key))?;
        if removed.is_some() {
            self.publishing.push(Job::Retract { key: key.clone() });
        }
        Ok(removed)
    }

    pub fn delete_matching(&self, re: &Regex) -> Result<Vec<MailboxRecord>, StoreError> {
        let mut store = self.lock();
        let removed = self.written(&mut store, |s| s.delete_matching(re))?;
        removed.iter().for_each(|r| self.publishing.push(Job::Retract { key: r.key.clone() }));
        Ok(removed)
    }

    pub fn delete_all(&self) -> Result<Vec<MailboxRecord>, StoreError> {
        let mut store = self.lock();
        let removed = self.written(&mut store, |s| s.delete_all())?;
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
