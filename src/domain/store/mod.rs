//! The external-mailbox store: the MWI counts that outside systems (AMI clients, the CLI, SIP
//! NOTIFYs, subscriptions) set for mailboxes, kept across restarts and crashes.
//!
//! It replaces res_mwi_external's astdb-through-sorcery store. Every record lives twice: in an
//! SQLite file (the truth after a restart) and in an in-memory index (what reads use). Each
//! operation that changes anything commits to the file before it touches the index and returns;
//! a failed write leaves both as they were, so the caller can answer an error and publish nothing.
//!
//! The store is plain Rust over `rusqlite` (SQLite compiled in), with no Asterisk symbol. It
//! reads no clock: times are given by the caller. It is `Send` but not `Sync`: the module keeps it
//! behind one lock, and it must be the only writer of its file (another process writing to it
//! would not be seen by the index).

pub mod health;
mod import;
mod key;
mod source;
#[cfg(test)]
mod tests;

pub use import::{
    describe_import_error, parse_res_mwi_external_record, ImportError, RES_MWI_EXTERNAL_FAMILY,
};
pub use key::{MailboxKey, MailboxKeyError, MAX_KEY_LEN};
pub use source::{Source, SourceError};

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, StatementStatus};

use crate::domain::counts::MwiCounts;
use crate::domain::text::printable;

/// The schema this code reads and writes, kept in the file's `PRAGMA user_version`.
pub const SCHEMA_VERSION: i32 = 1;

/// Marks the file as ours in its header (`PRAGMA application_id`): ASCII "MWIH".
const APPLICATION_ID: i32 = 0x4d57_4948;

/// How long a write waits for a lock held by another connection (an admin's `sqlite3` shell, say)
/// before failing. Bounded: the caller holds the store's lock, maybe on an AMI or stasis thread.
const BUSY_TIMEOUT: Duration = Duration::from_millis(1000);

/// After a checkpoint the WAL file is cut back to this size (a big import must not leave a huge
/// WAL behind for the life of the process).
const JOURNAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

const SCHEMA_SQL: &str = "
    CREATE TABLE mailboxes (
        id            TEXT    NOT NULL PRIMARY KEY,
        new           INTEGER NOT NULL,
        old           INTEGER NOT NULL,
        urgent        INTEGER NOT NULL,
        source        TEXT    NOT NULL,
        updated_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE meta (
        key   TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
";

/// Ordered by the primary key, so SQLite walks its b-tree and sorts nothing.
const LOAD_SQL: &str = "SELECT id, new, old, urgent, source, updated_at_ms FROM mailboxes ORDER BY id";
const UPSERT_SQL: &str = "INSERT INTO mailboxes (id, new, old, urgent, source, updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (id) DO UPDATE SET new = excluded.new, old = excluded.old, urgent = excluded.urgent,
        source = excluded.source, updated_at_ms = excluded.updated_at_ms";
const INSERT_NEW_SQL: &str = "INSERT INTO mailboxes (id, new, old, urgent, source, updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING";
const DELETE_SQL: &str = "DELETE FROM mailboxes WHERE id = ?1";
const DELETE_ALL_SQL: &str = "DELETE FROM mailboxes";
const META_GET_SQL: &str = "SELECT value FROM meta WHERE key = ?1";
const META_SET_SQL: &str =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// What may fail before an acknowledged write is lost.
///
/// The file is an SQLite database in WAL (write-ahead log) mode either way; a crash or power
/// cut never corrupts it, and the difference is only how recent the surviving state is.
///
/// - `Process` (`PRAGMA synchronous=NORMAL`): a commit is a `write()` into the WAL, without
///   fsync. Every acknowledged write survives a crash, abort or `kill -9` of Asterisk, since
///   the data is already in the kernel; a crash of the operating system or a power cut can lose
///   the last writes (the file then holds an older, consistent state). Updates cost
///   microseconds. The WAL is fsynced only at checkpoints (about every 4 MB of changes), which
///   makes an occasional update slower.
/// - `PowerLoss` (`PRAGMA synchronous=FULL`): every commit also fsyncs the WAL, so an acknowledged
///   write survives a power cut as far as the disk honours fsync. Each change then costs one
///   fsync: well under a millisecond on an SSD with a power-safe cache, several to tens of
///   milliseconds on spinning disks or network volumes, which bounds the update rate.
///
/// No-op updates (same counts) write nothing and cost the same under both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Survives a crash of the Asterisk process: every acknowledged write has reached the OS.
    #[default]
    Process,
    /// Survives a power cut: fsync on every commit.
    PowerLoss,
}

impl Durability {
    /// The `PRAGMA synchronous` level that gives this durability in WAL mode.
    fn synchronous(self) -> &'static str {
        match self {
            Self::Process => "NORMAL",
            Self::PowerLoss => "FULL",
        }
    }
}

/// One stored mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxRecord {
    pub key: MailboxKey,
    pub counts: MwiCounts,
    /// Who last changed the counts.
    pub source: Source,
    /// When the counts last changed, in milliseconds since the Unix epoch, as the caller said.
    pub updated_at_ms: i64,
}

#[cfg(test)]
impl MailboxRecord {
    /// A record for tests: `id` must be a valid key.
    pub fn for_test(id: &str, counts: MwiCounts, source: Source, updated_at_ms: i64) -> Self {
        Self { key: MailboxKey::parse(id).expect("a valid test key"), counts, source, updated_at_ms }
    }
}

/// What [`MailboxStore::update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The mailbox was not stored before.
    Created,
    /// The counts differ from these, which they replaced.
    Changed { previous: MwiCounts },
    /// The counts were already these: nothing was written, source and time were kept.
    Unchanged,
}

/// A store operation that failed. The `Display` text is what the admin reads.
///
/// A failed write changed nothing, on disk or in memory.
#[derive(Debug)]
pub enum StoreError {
    /// The file could not be opened, created or read (missing directory, permissions, not an
    /// SQLite file, I/O error...).
    Open { path: PathBuf, source: rusqlite::Error },
    /// An SQLite database of another program.
    NotAStore { path: PathBuf, application_id: i32 },
    /// Written by a newer release with a schema this one does not know.
    TooNew { path: PathBuf, version: i32 },
    /// SQLite refused write-ahead logging (some network filesystems); the mode it kept.
    NoWal { path: PathBuf, mode: String },
    /// A stored row that is not a valid record (edited by hand, or damaged).
    BadRecord { path: PathBuf, id: String, reason: String },
    /// A write that did not happen: `action` names the operation.
    Write { path: PathBuf, action: &'static str, source: rusqlite::Error },
    /// A read from the file failed.
    Read { path: PathBuf, source: rusqlite::Error },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { path, source } => {
                write!(f, "cannot open the mailbox store {}: {source}", path.display())
            }
            Self::NotAStore { path, application_id } => write!(
                f,
                "{} is not a res_mwi_hub mailbox store (it is a database of another program, \
                 application id 0x{application_id:08x}); move it away or choose another file",
                path.display()
            ),
            Self::TooNew { path, version } => write!(
                f,
                "the mailbox store {} has schema version {version}, written by a newer res_mwi_hub; \
                 this one reads up to version {SCHEMA_VERSION}",
                path.display()
            ),
            Self::NoWal { path, mode } => write!(
                f,
                "the mailbox store {} cannot use write-ahead logging (journal mode stayed '{mode}'); \
                 put it on a local filesystem",
                path.display()
            ),
            Self::BadRecord { path, id, reason } => write!(
                f,
                "the mailbox store {} holds an invalid record for mailbox '{id}': {reason}",
                path.display()
            ),
            Self::Write { path, action, source } => write!(
                f,
                "could not save to the mailbox store {} ({action}): {source}; nothing was changed",
                path.display()
            ),
            Self::Read { path, source } => {
                write!(f, "could not read the mailbox store {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open { source, .. } | Self::Write { source, .. } | Self::Read { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}

/// A record in the index, ordered and looked up by its key alone (so the key is stored once).
#[derive(Debug)]
struct Entry(MailboxRecord);

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.0.key == other.0.key
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.key.cmp(&other.0.key)
    }
}

/// Consistent with `Ord`: keys order as their strings do.
impl Borrow<str> for Entry {
    fn borrow(&self) -> &str {
        self.0.key.as_str()
    }
}

/// What loading cost SQLite, to check in tests that it stays linear.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code))]
struct LoadStats {
    rows: usize,
    sorts: i32,
    vm_steps: i32,
}

/// The external-mailbox store (see the module documentation).
///
/// # Invariants
/// - `index` holds exactly the rows of the file's `mailboxes` table: every change is committed
///   to the file first and applied to `index` only once the commit succeeded.
/// - `by_endpoint` counts, per endpoint, the records of `index` whose source is a NOTIFY from
///   it (what bounds one peer's growth, see `crate::domain::incoming::growth`); endpoints with
///   none are absent.
/// - `index` is a `BTreeSet` ordered by key: lookups are O(log n), `list` walks it in id order
///   without sorting (a million ids need no 100 ms sort per `mwi list`), a filtered list costs
///   one regex match per id, which an unanchored `like` needs anyway, and the set is built in
///   linear time from the already-sorted rows at open.
pub struct MailboxStore {
    conn: Connection,
    index: BTreeSet<Entry>,
    by_endpoint: HashMap<String, usize>,
    path: PathBuf,
    durability: Durability,
    committed_writes: u64,
}

impl fmt::Debug for MailboxStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxStore")
            .field("path", &self.path)
            .field("durability", &self.durability)
            .field("len", &self.index.len())
            .finish_non_exhaustive()
    }
}

impl MailboxStore {
    /// Opens the store at `path`, creating the file and its schema if missing, and loads every
    /// record in one pass over the table.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        Self::open_with_stats(path, durability).map(|(store, _)| store)
    }

    fn open_with_stats(path: &Path, durability: Durability) -> Result<(Self, LoadStats), StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_owned(), source };
        // No URI flag: the path is taken literally, whatever characters it holds.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;

        let application_id: i32 =
            conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(open_err)?;
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(open_err)?;
        let objects: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).map_err(open_err)?;
        let fresh = application_id == 0 && objects == 0;
        if !fresh && application_id != APPLICATION_ID {
            return Err(StoreError::NotAStore { path: path.to_owned(), application_id });
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: path.to_owned(), version });
        }

        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal { path: path.to_owned(), mode });
        }
        conn.pragma_update(None, "synchronous", durability.synchronous()).map_err(open_err)?;
        let _: i64 = conn
            .pragma_update_and_check(None, "journal_size_limit", JOURNAL_SIZE_LIMIT, |r| r.get(0))
            .map_err(open_err)?;

        if fresh {
            let mut create = || -> rusqlite::Result<()> {
                let tx = conn.transaction()?;
                tx.execute_batch(SCHEMA_SQL)?;
                tx.pragma_update(None, "application_id", APPLICATION_ID)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
                tx.commit()
            };
            create().map_err(open_err)?;
        }

        let (entries, stats) = load(&conn, path)?;
        // Rows come sorted: `from_iter` detects the single run and bulk-builds in O(n).
        let index: BTreeSet<Entry> = entries.into_iter().collect();
        let mut store = Self {
            conn,
            index,
            by_endpoint: HashMap::new(),
            path: path.to_owned(),
            durability,
            committed_writes: 0,
        };
        store.recount_endpoints();
        Ok((store, stats))
    }

    /// The file this store keeps.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durability the store was opened with.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Switches durability in place (`module reload` after `fsync` changed).
    pub fn set_durability(&mut self, durability: Durability) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "synchronous", durability.synchronous())
            .map_err(|e| self.write_error("set durability", e))?;
        self.durability = durability;
        Ok(())
    }

    /// How many write transactions this store committed since it was opened (no-op updates and
    /// deletes of absent mailboxes commit none).
    pub fn committed_writes(&self) -> u64 {
        self.committed_writes
    }

    /// Sets `key`'s counts. Committed to the file before it returns `Ok`, unless the counts are
    /// already these: then nothing is written and the stored source and time stay as they were.
    pub fn update(
        &mut self,
        key: &MailboxKey,
        counts: MwiCounts,
        source: Source,
        now_ms: i64,
    ) -> Result<UpdateOutcome, StoreError> {
        let previous = self.index.get(key.as_str()).map(|e| e.0.counts);
        if previous == Some(counts) {
            return Ok(UpdateOutcome::Unchanged);
        }
        let write = || -> rusqlite::Result<usize> {
            self.conn.prepare_cached(UPSERT_SQL)?.execute(params![
                key.as_str(),
                counts.new,
                counts.old,
                counts.urgent,
                source.to_stored(),
                now_ms
            ])
        };
        write().map_err(|e| self.write_error("update", e))?;
        self.committed_writes += 1;
        self.count_in(&source);
        let replaced = self.index.replace(Entry(MailboxRecord {
            key: key.clone(),
            counts,
            source,
            updated_at_ms: now_ms,
        }));
        if let Some(old) = replaced {
            self.count_out(&old.0.source);
        }
        Ok(match previous {
            None => UpdateOutcome::Created,
            Some(previous) => UpdateOutcome::Changed { previous },
        })
    }

    /// The record of `key`, if stored.
    pub fn get(&self, key: &MailboxKey) -> Option<&MailboxRecord> {
        self.index.get(key.as_str()).map(|e| &e.0)
    }

    /// How many mailboxes are stored.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no mailbox is stored.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Every record, sorted by id, without collecting them (re-publishing all at load).
    pub fn iter(&self) -> impl Iterator<Item = &MailboxRecord> + '_ {
        self.index.iter().map(|e| &e.0)
    }

    /// The records whose id `filter` matches (unanchored), or all, sorted by id.
    pub fn list(&self, filter: Option<&Regex>) -> Vec<&MailboxRecord> {
        self.iter().filter(|r| filter.is_none_or(|re| re.is_match(r.key.as_str()))).collect()
    }

    /// Removes `key`; its record, or `None` (and nothing written) when it was not stored.
    pub fn delete(&mut self, key: &MailboxKey) -> Result<Option<MailboxRecord>, StoreError> {
        if !self.index.contains(key.as_str()) {
            return Ok(None);
        }
        let write =
            || -> rusqlite::Result<usize> { self.conn.prepare_cached(DELETE_SQL)?.execute([key.as_str()]) };
        write().map_err(|e| self.write_error("delete", e))?;
        self.committed_writes += 1;
        let removed = self.index.take(key.as_str()).map(|e| e.0);
        if let Some(r) = &removed {
            self.count_out(&r.source);
        }
        Ok(removed)
    }

    /// Removes every mailbox in one transaction; the removed records, sorted by id, so the caller
    /// can publish 0/0 for each.
    pub fn delete_all(&mut self) -> Result<Vec<MailboxRecord>, StoreError> {
        if self.index.is_empty() {
            return Ok(Vec::new());
        }
        self.conn.execute(DELETE_ALL_SQL, []).map_err(|e| self.write_error("delete all", e))?;
        self.committed_writes += 1;
        self.by_endpoint.clear();
        Ok(std::mem::take(&mut self.index).into_iter().map(|e| e.0).collect())
    }

    /// Removes, in one transaction, every mailbox whose id `re` matches (unanchored); the removed
    /// records, sorted by id.
    pub fn delete_matching(&mut self, re: &Regex) -> Result<Vec<MailboxRecord>, StoreError> {
        let matched: Vec<MailboxKey> =
            self.index.iter().filter(|e| re.is_match(e.0.key.as_str())).map(|e| e.0.key.clone()).collect();
        if matched.is_empty() {
            return Ok(Vec::new());
        }
        let mut write = || -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(DELETE_SQL)?;
                for key in &matched {
                    stmt.execute([key.as_str()])?;
                }
            }
            tx.commit()
        };
        write().map_err(|e| self.write_error("delete matching", e))?;
        self.committed_writes += 1;
        if matched.len() == self.index.len() {
            self.by_endpoint.clear();
            return Ok(std::mem::take(&mut self.index).into_iter().map(|e| e.0).collect());
        }
        let removed: Vec<MailboxRecord> =
            matched.iter().filter_map(|key| self.index.take(key.as_str())).map(|e| e.0).collect();
        removed.iter().for_each(|r| self.count_out(&r.source));
        Ok(removed)
    }

    /// Adds, in one transaction, the records whose key is not stored yet (the first of duplicate
    /// keys wins); stored mailboxes are left alone. Returns how many were added.
    pub fn import(&mut self, records: impl IntoIterator<Item = MailboxRecord>) -> Result<usize, StoreError> {
        let mut added = Vec::new();
        let index = &self.index;
        let conn = &mut self.conn;
        let write = || -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(INSERT_NEW_SQL)?;
                for record in records {
                    if index.contains(record.key.as_str()) {
                        continue;
                    }
                    let inserted = stmt.execute(params![
                        record.key.as_str(),
                        record.counts.new,
                        record.counts.old,
                        record.counts.urgent,
                        record.source.to_stored(),
                        record.updated_at_ms
                    ])?;
                    if inserted == 1 {
                        added.push(record);
                    }
                }
            }
            tx.commit()
        };
        write().map_err(|e| self.write_error("import", e))?;
        if added.is_empty() {
            return Ok(0);
        }
        self.committed_writes += 1;
        let count = added.len();
        added.iter().for_each(|r| self.count_in(&r.source));
        self.index.extend(added.into_iter().map(Entry));
        Ok(count)
    }

    /// A value kept beside the mailboxes (for example, that the res_mwi_external import ran).
    pub fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let read = || -> rusqlite::Result<Option<String>> {
            self.conn.prepare_cached(META_GET_SQL)?.query_row([key], |r| r.get(0)).optional()
        };
        read().map_err(|source| StoreError::Read { path: self.path.clone(), source })
    }

    /// Sets a value kept beside the mailboxes; committed before it returns `Ok`.
    pub fn meta_set(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        let write =
            || -> rusqlite::Result<usize> { self.conn.prepare_cached(META_SET_SQL)?.execute([key, value]) };
        write().map_err(|e| self.write_error("set meta", e))?;
        self.committed_writes += 1;
        Ok(())
    }

    /// How many stored mailboxes a NOTIFY from `endpoint` set last.
    pub fn endpoint_mailboxes(&self, endpoint: &str) -> usize {
        self.by_endpoint.get(endpoint).copied().unwrap_or(0)
    }

    /// [`Self::endpoint_mailboxes`] of every endpoint that has any, sorted by endpoint.
    pub fn mailboxes_by_endpoint(&self) -> Vec<(String, usize)> {
        let mut all: Vec<(String, usize)> = self.by_endpoint.iter().map(|(e, n)| (e.clone(), *n)).collect();
        all.sort_unstable();
        all
    }

    fn recount_endpoints(&mut self) {
        let mut by_endpoint = HashMap::new();
        for e in &self.index {
            if let Source::Notify { endpoint } = &e.0.source {
                *by_endpoint.entry(endpoint.clone()).or_insert(0) += 1;
            }
        }
        self.by_endpoint = by_endpoint;
    }

    fn count_in(&mut self, source: &Source) {
        if let Source::Notify { endpoint } = source {
            match self.by_endpoint.get_mut(endpoint) {
                Some(n) => *n += 1,
                None => {
                    self.by_endpoint.insert(endpoint.clone(), 1);
                }
            }
        }
    }

    fn count_out(&mut self, source: &Source) {
        if let Source::Notify { endpoint } = source {
            if let Some(n) = self.by_endpoint.get_mut(endpoint) {
                *n -= 1;
                if *n == 0 {
                    self.by_endpoint.remove(endpoint);
                }
            }
        }
    }

    fn write_error(&self, action: &'static str, source: rusqlite::Error) -> StoreError {
        StoreError::Write { path: self.path.clone(), action, source }
    }
}

/// Reads every row, in id order, in one pass.
fn load(conn: &Connection, path: &Path) -> Result<(Vec<Entry>, LoadStats), StoreError> {
    let read_err = |source| StoreError::Read { path: path.to_owned(), source };
    let bad =
        |id: &str, reason: String| StoreError::BadRecord { path: path.to_owned(), id: printable(id), reason };
    let mut stmt = conn.prepare(LOAD_SQL).map_err(read_err)?;
    let mut entries = Vec::new();
    {
        let mut rows = stmt.query([]).map_err(read_err)?;
        while let Some(row) = rows.next().map_err(read_err)? {
            let id = match row.get_ref(0).map_err(read_err)? {
                ValueRef::Text(bytes) => String::from_utf8_lossy(bytes),
                _ => return Err(bad("?", "the id is not text".into())),
            };
            let key = MailboxKey::parse(&id).map_err(|e| bad(&id, e.to_string()))?;
            let count = |column: usize, name: &str| -> Result<u32, StoreError> {
                match row.get_ref(column).map_err(read_err)? {
                    ValueRef::Integer(v) => u32::try_from(v)
                        .map_err(|_| bad(&id, format!("the {name} count {v} is not in 0..={}", u32::MAX))),
                    _ => Err(bad(&id, format!("the {name} count is not an integer"))),
                }
            };
            let counts =
                MwiCounts { new: count(1, "new")?, old: count(2, "old")?, urgent: count(3, "urgent")? };
            let source = match row.get_ref(4).map_err(read_err)? {
                ValueRef::Text(bytes) => Source::parse_stored(&String::from_utf8_lossy(bytes))
                    .map_err(|e| bad(&id, e.to_string()))?,
                _ => return Err(bad(&id, "the source is not text".into())),
            };
            let updated_at_ms = match row.get_ref(5).map_err(read_err)? {
                ValueRef::Integer(v) => v,
                _ => return Err(bad(&id, "the update time is not an integer".into())),
            };
            entries.push(Entry(MailboxRecord { key, counts, source, updated_at_ms }));
        }
    }
    let stats = LoadStats {
        rows: entries.len(),
        sorts: stmt.get_status(StatementStatus::Sort),
        vm_steps: stmt.get_status(StatementStatus::VmStep),
    };
    Ok((entries, stats))
}
