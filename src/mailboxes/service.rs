//! The mailbox service: the store and the MWI bus kept in step under one lock, so the state
//! published for a mailbox is always the state stored for it, in the same order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::host::module::{self, LoadedSlot};
use std::time::{SystemTime, UNIX_EPOCH};

use regex::Regex;

use crate::domain::counts::MwiCounts;
use crate::domain::store::{MailboxKey, MailboxRecord, MailboxStore, Source, StoreError, UpdateOutcome};
use crate::host::log::ast_error;
use crate::host::mwi;

/// The store and its publishing.
pub struct MailboxService {
    locked: Mutex<Locked>,
}

/// What the service's lock guards: the store, and a publisher for each mailbox this module
/// changed since load (Asterisk finds a state by id in O(states) otherwise; see
/// [`mwi::MwiPublisher`]). Republished-only mailboxes get none, so boot costs no memory for
/// them.
struct Locked {
    store: MailboxStore,
    publishers: HashMap<String, mwi::MwiPublisher>,
}

impl Locked {
    /// Publishes a change, through the mailbox's publisher (created on first use).
    fn publish_change(&mut self, key: &MailboxKey, counts: MwiCounts) {
        let result = match self.publishers.get(key.as_str()) {
            Some(publisher) => publisher.publish(key, counts),
            None => match mwi::MwiPublisher::add(key) {
                Some(publisher) => {
                    let result = publisher.publish(key, counts);
                    self.publishers.insert(key.as_str().to_owned(), publisher);
                    result
                }
                None => mwi::publish(key, counts),
            },
        };
        if let Err(e) = result {
            ast_error!("MWI for external mailbox {key} not published: {e}");
        }
    }

    /// Publishes a stored state again, through the publisher if the mailbox has one.
    fn publish_again(&self, key: &MailboxKey, counts: MwiCounts) {
        match self.publishers.get(key.as_str()) {
            Some(publisher) => {
                if let Err(e) = publisher.publish(key, counts) {
                    ast_error!("MWI for external mailbox {key} not published: {e}");
                }
            }
            None => publish(key, counts),
        }
    }

    /// Publishes 0/0 (lamps off) for a removed mailbox, clears its cache entry, and lets its
    /// publisher go.
    fn retract(&mut self, key: &MailboxKey) {
        self.publish_again(key, MwiCounts::default());
        mwi::delete(key);
        self.publishers.remove(key.as_str());
    }
}

/// Wall-clock time in unix milliseconds, as the store records it.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn publish(key: &MailboxKey, counts: MwiCounts) {
    if let Err(e) = mwi::publish(key, counts) {
        ast_error!("MWI for external mailbox {key} not published: {e}");
    }
}

impl MailboxService {
    pub fn new(store: MailboxStore) -> Self {
        Self { locked: Mutex::new(Locked { store, publishers: HashMap::new() }) }
    }

    fn lock(&self) -> MutexGuard<'_, Locked> {
        // A panic while holding the lock leaves the store consistent (it commits before it
        // changes its index), so a poisoned lock is still usable.
        module::lock(&self.locked)
    }

    /// Sets a mailbox's counts; publishes only when they changed. Stored before it returns Ok.
    pub fn update(
        &self,
        key: &MailboxKey,
        counts: MwiCounts,
        source: Source,
    ) -> Result<UpdateOutcome, StoreError> {
        let mut locked = self.lock();
        let outcome = locked.store.update(key, counts, source, now_ms())?;
        if !matches!(outcome, UpdateOutcome::Unchanged) {
            locked.publish_change(key, counts);
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
        let mut locked = self.lock();
        let Some(counts) = decide(locked.store.get(key).map(|r| r.counts)) else {
            return Ok(None);
        };
        let outcome = locked.store.update(key, counts, source, now_ms())?;
        if !matches!(outcome, UpdateOutcome::Unchanged) {
            locked.publish_change(key, counts);
        }
        Ok(Some(outcome))
    }

    pub fn get(&self, key: &MailboxKey) -> Option<MailboxRecord> {
        self.lock().store.get(key).cloned()
    }

    pub fn counts(&self, id: &str) -> Option<MwiCounts> {
        let key = MailboxKey::parse(id).ok()?;
        self.lock().store.get(&key).map(|r| r.counts)
    }

    /// (matching records, total): copies, so no lock is held while they are printed.
    pub fn list(&self, filter: Option<&Regex>) -> (Vec<MailboxRecord>, usize) {
        let locked = self.lock();
        (locked.store.list(filter).into_iter().cloned().collect(), locked.store.len())
    }

    pub fn ids(&self) -> Vec<String> {
        self.lock().store.iter().map(|r| r.key.as_str().to_owned()).collect()
    }

    /// Deletes one mailbox (lamp off, cache entry cleared); None when it did not exist.
    pub fn delete(&self, key: &MailboxKey) -> Result<Option<MailboxRecord>, StoreError> {
        let mut locked = self.lock();
        let removed = locked.store.delete(key)?;
        if removed.is_some() {
            locked.retract(key);
        }
        Ok(removed)
    }

    pub fn delete_matching(&self, re: &Regex) -> Result<Vec<MailboxRecord>, StoreError> {
        let mut locked = self.lock();
        let removed = locked.store.delete_matching(re)?;
        removed.iter().for_each(|r| locked.retract(&r.key));
        Ok(removed)
    }

    pub fn delete_all(&self) -> Result<Vec<MailboxRecord>, StoreError> {
        let mut locked = self.lock();
        let removed = locked.store.delete_all()?;
        removed.iter().for_each(|r| locked.retract(&r.key));
        Ok(removed)
    }

    /// Publishes the stored state of each id that is a stored mailbox; returns how many.
    /// Under the lock, so a concurrent update cannot be overtaken by an older value.
    pub fn publish_stored<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        let locked = self.lock();
        let mut n = 0;
        for id in ids {
            let Ok(key) = MailboxKey::parse(id) else { continue };
            if let Some(r) = locked.store.get(&key) {
                locked.publish_again(&r.key, r.counts);
                n += 1;
            }
        }
        n
    }

    /// The ids of the stored mailboxes with any message (what a republish must put back on
    /// the bus: a mailbox with no state cached already reads as 0/0).
    pub fn ids_with_messages(&self) -> Vec<String> {
        self.lock()
            .store
            .iter()
            .filter(|r| r.counts != MwiCounts::default())
            .map(|r| r.key.as_str().to_owned())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.lock().store.len()
    }

    /// Runs `f` on the store itself (migration at load).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut MailboxStore) -> R) -> R {
        f(&mut self.lock().store)
    }
}

/// The service of the loaded module, for handlers that Asterisk calls without user data
/// (AMI actions, voicemail-provider callbacks, pjsip modules).
static CURRENT: LoadedSlot<MailboxService> = LoadedSlot::new();

/// The loaded service, if any.
pub fn current() -> Option<Arc<MailboxService>> {
    CURRENT.get()
}

/// Makes `service` the current one (at load).
pub fn install(service: Arc<MailboxService>) {
    CURRENT.install(service);
}

/// Forgets the current service (at unload, after every handler is unregistered).
pub fn uninstall() {
    CURRENT.clear();
}
