//! Tests of the store against real files in a per-test temporary directory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

use super::*;

/// A fresh directory under the system temp dir, removed when the test ends.
struct TestDir(PathBuf);

impl TestDir {
    fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, AtomicOrdering::Relaxed);
        let dir = std::env::temp_dir()
            .join("res_mwi_hub-store-tests")
            .join(format!("{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("mailboxes.sqlite")
    }

    fn wal(&self) -> PathBuf {
        self.0.join("mailboxes.sqlite-wal")
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key(text: &str) -> MailboxKey {
    MailboxKey::parse(text).unwrap()
}

fn counts(new: u32, old: u32, urgent: u32) -> MwiCounts {
    MwiCounts { new, old, urgent }
}

fn record(id: &str, new: u32, source: Source, at: i64) -> MailboxRecord {
    MailboxRecord { key: key(id), counts: counts(new, 0, 0), source, updated_at_ms: at }
}

fn open(dir: &TestDir) -> MailboxStore {
    MailboxStore::open(&dir.db(), Durability::Process).unwrap()
}

fn ids(records: &[&MailboxRecord]) -> Vec<String> {
    records.iter().map(|r| r.key.to_string()).collect()
}

fn owned_ids(records: &[MailboxRecord]) -> Vec<String> {
    records.iter().map(|r| r.key.to_string()).collect()
}

/// Everything the store holds, as owned records in id order.
fn snapshot(store: &MailboxStore) -> Vec<MailboxRecord> {
    store.iter().cloned().collect()
}

/// Another connection's view of the commits: `PRAGMA data_version` changes when anyone else
/// commits to the file.
fn data_version(conn: &Connection) -> i64 {
    conn.pragma_query_value(None, "data_version", |r| r.get(0)).unwrap()
}

#[test]
fn update_reports_created_changed_and_unchanged() {
    let dir = TestDir::new("outcomes");
    let mut store = open(&dir);
    assert!(store.is_empty());
    let k = key("1000@default");
    assert_eq!(store.update(&k, counts(1, 2, 3), Source::Ami, 10).unwrap(), UpdateOutcome::Created);
    assert_eq!(
        store.update(&k, counts(4, 2, 3), Source::Cli, 20).unwrap(),
        UpdateOutcome::Changed { previous: counts(1, 2, 3) }
    );
    let got = store.get(&k).unwrap();
    assert_eq!((got.counts, &got.source, got.updated_at_ms), (counts(4, 2, 3), &Source::Cli, 20));
    let notify = Source::Notify { endpoint: "vmtrunk".into() };
    assert_eq!(store.update(&k, counts(4, 2, 3), notify, 30).unwrap(), UpdateOutcome::Unchanged);
    let got = store.get(&k).unwrap();
    assert_eq!(
        (&got.source, got.updated_at_ms),
        (&Source::Cli, 20),
        "an unchanged update keeps source and time"
    );
    assert_eq!(store.len(), 1);
    assert!(!store.is_empty());
    assert!(store.get(&key("1000")).is_none(), "ids are verbatim: 1000 is another mailbox");
}

#[test]
fn unchanged_update_writes_nothing() {
    let dir = TestDir::new("noop");
    let mut store = open(&dir);
    let k = key("1000@default");
    store.update(&k, counts(1, 0, 0), Source::Ami, 1).unwrap();
    let observer = Connection::open(dir.db()).unwrap();
    let version = data_version(&observer);
    let writes = store.committed_writes();
    let wal_len = std::fs::metadata(dir.wal()).unwrap().len();
    for i in 0..100 {
        assert_eq!(store.update(&k, counts(1, 0, 0), Source::Cli, 2 + i).unwrap(), UpdateOutcome::Unchanged);
    }
    assert_eq!(store.committed_writes(), writes);
    assert_eq!(std::fs::metadata(dir.wal()).unwrap().len(), wal_len);
    assert_eq!(data_version(&observer), version, "no commit reached the file");
    store.update(&k, counts(2, 0, 0), Source::Cli, 200).unwrap();
    assert_eq!(store.committed_writes(), writes + 1);
    assert_ne!(data_version(&observer), version, "a real change is committed");
}

#[test]
fn every_acknowledged_change_survives_a_reopen() {
    let dir = TestDir::new("reopen");
    let expected = {
        let mut store = open(&dir);
        store.update(&key("1000@default"), counts(3, 1, 2), Source::Ami, 100).unwrap();
        store
            .update(&key("1000"), counts(1, 0, 0), Source::Notify { endpoint: "vm:trunk".into() }, 101)
            .unwrap();
        store
            .update(&key("2000@x"), counts(0, 0, 0), Source::Subscription { name: "remote".into() }, 102)
            .unwrap();
        store.update(&key("2000@x"), counts(u32::MAX, 7, 0), Source::Cli, -5).unwrap();
        store.update(&key("3000@x"), counts(9, 9, 9), Source::Import, 103).unwrap();
        store.delete(&key("3000@x")).unwrap();
        snapshot(&store)
    };
    let store = open(&dir);
    assert_eq!(snapshot(&store), expected);
    assert_eq!(ids(&store.list(None)), ["1000", "1000@default", "2000@x"]);
    let r = store.get(&key("2000@x")).unwrap();
    assert_eq!((r.counts, &r.source, r.updated_at_ms), (counts(u32::MAX, 7, 0), &Source::Cli, -5));
}

#[test]
fn survives_a_store_that_was_never_closed() {
    for durability in [Durability::Process, Durability::PowerLoss] {
        let dir = TestDir::new("forget");
        let mut store = MailboxStore::open(&dir.db(), durability).unwrap();
        store.update(&key("1000@default"), counts(5, 1, 0), Source::Ami, 1).unwrap();
        store.update(&key("1001@default"), counts(1, 0, 0), Source::Ami, 2).unwrap();
        store.update(&key("1001@default"), counts(2, 0, 0), Source::Ami, 3).unwrap();
        store.delete(&key("1000@default")).unwrap();
        store.meta_set("imported", "yes").unwrap();
        // No close, no checkpoint, no destructor: the connection is left as a crash would.
        std::mem::forget(store);
        let reopened = MailboxStore::open(&dir.db(), durability).unwrap();
        assert_eq!(reopened.len(), 1);
        assert_eq!(reopened.get(&key("1001@default")).unwrap().counts, counts(2, 0, 0));
        assert_eq!(reopened.meta_get("imported").unwrap().as_deref(), Some("yes"));
    }
}

const CRASH_DIR_VAR: &str = "RES_MWI_HUB_STORE_CRASH_DIR";
const CRASH_UPDATES: u32 = 200;

/// The child half of `survives_the_process_aborting`: does nothing unless run by it.
#[test]
#[ignore = "helper: run by survives_the_process_aborting in a child process"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CRASH_DIR_VAR) else { return };
    let db = PathBuf::from(dir).join("mailboxes.sqlite");
    let mut store = MailboxStore::open(&db, Durability::Process).unwrap();
    for i in 0..CRASH_UPDATES {
        store.update(&key(&format!("{i}@crash")), counts(i, 1, 0), Source::Ami, i64::from(i)).unwrap();
    }
    std::process::abort();
}

#[test]
fn survives_the_process_aborting() {
    let dir = TestDir::new("abort");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "domain::store::tests::crash_child", "--ignored", "--test-threads=1"])
        .env(CRASH_DIR_VAR, &dir.0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have aborted");
    let store = open(&dir);
    assert_eq!(store.len(), CRASH_UPDATES as usize);
    assert_eq!(store.get(&key("199@crash")).unwrap().counts, counts(199, 1, 0));
}

#[test]
fn delete_removes_one_mailbox() {
    let dir = TestDir::new("delete");
    let mut store = open(&dir);
    store.update(&key("a"), counts(1, 0, 0), Source::Ami, 1).unwrap();
    store.update(&key("b"), counts(2, 0, 0), Source::Ami, 2).unwrap();
    let writes = store.committed_writes();
    assert_eq!(store.delete(&key("zzz")).unwrap(), None);
    assert_eq!(store.committed_writes(), writes, "deleting an absent mailbox writes nothing");
    let removed = store.delete(&key("a")).unwrap().unwrap();
    assert_eq!(removed, record("a", 1, Source::Ami, 1));
    assert_eq!(store.delete(&key("a")).unwrap(), None);
    drop(store);
    assert_eq!(ids(&open(&dir).list(None)), ["b"]);
}

#[test]
fn delete_all_returns_everything_removed() {
    let dir = TestDir::new("delete_all");
    let mut store = open(&dir);
    assert!(store.delete_all().unwrap().is_empty());
    assert_eq!(store.committed_writes(), 0);
    for id in ["c", "a", "b"] {
        store.update(&key(id), counts(1, 0, 0), Source::Cli, 0).unwrap();
    }
    assert_eq!(owned_ids(&store.delete_all().unwrap()), ["a", "b", "c"]);
    assert!(store.is_empty());
    store.update(&key("d"), counts(1, 0, 0), Source::Cli, 0).unwrap();
    drop(store);
    assert_eq!(ids(&open(&dir).list(None)), ["d"]);
}

#[test]
fn delete_matching_is_unanchored_and_transactional() {
    let dir = TestDir::new("delete_matching");
    let mut store = open(&dir);
    for id in ["1000@default", "1001@default", "2000@default", "1000@other", "x1000"] {
        store.update(&key(id), counts(1, 0, 0), Source::Cli, 0).unwrap();
    }
    let writes = store.committed_writes();
    assert!(store.delete_matching(&Regex::new("^9").unwrap()).unwrap().is_empty());
    assert_eq!(store.committed_writes(), writes, "no match, no write");
    let removed = store.delete_matching(&Regex::new("100[0-9]@").unwrap()).unwrap();
    assert_eq!(owned_ids(&removed), ["1000@default", "1000@other", "1001@default"]);
    assert_eq!(store.committed_writes(), writes + 1, "one transaction");
    assert_eq!(ids(&store.list(None)), ["2000@default", "x1000"]);
    drop(store);
    let mut store = open(&dir);
    assert_eq!(ids(&store.list(None)), ["2000@default", "x1000"]);
    assert_eq!(
        owned_ids(&store.delete_matching(&Regex::new("").unwrap()).unwrap()),
        ["2000@default", "x1000"]
    );
    assert!(store.is_empty());
    drop(store);
    assert!(open(&dir).is_empty());
}

#[test]
fn list_is_sorted_and_filtered() {
    let dir = TestDir::new("list");
    let mut store = open(&dir);
    for id in ["b@x", "a@y", "a@x", "10", "9"] {
        store.update(&key(id), counts(1, 0, 0), Source::Cli, 0).unwrap();
    }
    assert_eq!(ids(&store.list(None)), ["10", "9", "a@x", "a@y", "b@x"]);
    assert_eq!(ids(&store.list(Some(&Regex::new("@x").unwrap()))), ["a@x", "b@x"]);
    assert!(store.list(Some(&Regex::new("^zz").unwrap())).is_empty());
}

#[test]
fn import_adds_only_absent_keys() {
    let dir = TestDir::new("import");
    let mut store = open(&dir);
    store.update(&key("1000"), counts(9, 9, 9), Source::Ami, 5).unwrap();
    let added = store
        .import([
            record("1000", 1, Source::Import, 50),
            record("2000", 2, Source::Import, 50),
            record("3000", 3, Source::Import, 50),
            record("2000", 4, Source::Import, 51),
        ])
        .unwrap();
    assert_eq!(added, 2);
    assert_eq!(
        store.get(&key("1000")).unwrap(),
        &MailboxRecord { key: key("1000"), counts: counts(9, 9, 9), source: Source::Ami, updated_at_ms: 5 }
    );
    assert_eq!(
        store.get(&key("2000")).unwrap(),
        &record("2000", 2, Source::Import, 50),
        "first duplicate wins"
    );
    let writes = store.committed_writes();
    assert_eq!(store.import([record("3000", 7, Source::Import, 60)]).unwrap(), 0);
    assert_eq!(store.import(Vec::new()).unwrap(), 0);
    assert_eq!(store.committed_writes(), writes);
    let before = snapshot(&store);
    drop(store);
    assert_eq!(snapshot(&open(&dir)), before);
}

#[test]
fn meta_values_persist() {
    let dir = TestDir::new("meta");
    let mut store = open(&dir);
    assert_eq!(store.meta_get("res_mwi_external_imported").unwrap(), None);
    store.meta_set("res_mwi_external_imported", "1700000000000").unwrap();
    store.meta_set("other", "x").unwrap();
    store.meta_set("other", "y").unwrap();
    drop(store);
    let store = open(&dir);
    assert_eq!(store.meta_get("res_mwi_external_imported").unwrap().as_deref(), Some("1700000000000"));
    assert_eq!(store.meta_get("other").unwrap().as_deref(), Some("y"));
    assert!(store.is_empty(), "meta values are not mailboxes");
}

#[test]
fn durability_sets_wal_and_synchronous() {
    for (durability, level) in [(Durability::Process, 1), (Durability::PowerLoss, 2)] {
        let dir = TestDir::new("durability");
        let store = MailboxStore::open(&dir.db(), durability).unwrap();
        let mode: String = store.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        let sync: i64 = store.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", level));
        assert_eq!(store.durability(), durability);
        assert_eq!(store.path(), dir.db());
    }
}

/// A second connection holding the write lock: every write of the store fails with "database is
/// locked" after a short wait.
fn lock_out(dir: &TestDir, store: &mut MailboxStore) -> Connection {
    store.conn.busy_timeout(Duration::from_millis(1)).unwrap();
    let locker = Connection::open(dir.db()).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    locker
}

#[test]
fn a_failed_write_changes_nothing() {
    let dir = TestDir::new("failed_write");
    let mut store = open(&dir);
    store.update(&key("a"), counts(1, 0, 0), Source::Ami, 1).unwrap();
    store.update(&key("b"), counts(2, 0, 0), Source::Ami, 2).unwrap();
    store.meta_set("m", "1").unwrap();
    let before = snapshot(&store);
    let writes = store.committed_writes();
    let locker = lock_out(&dir, &mut store);

    let err = store.update(&key("a"), counts(5, 0, 0), Source::Cli, 3).unwrap_err();
    assert!(matches!(err, StoreError::Write { action: "update", .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("mailboxes.sqlite (update)") && text.ends_with("nothing was changed"), "{text}");
    assert!(store.update(&key("new"), counts(5, 0, 0), Source::Cli, 3).is_err());
    assert!(store.delete(&key("a")).is_err());
    assert!(store.delete_all().is_err());
    assert!(store.delete_matching(&Regex::new("a").unwrap()).is_err());
    assert!(store.import([record("c", 1, Source::Import, 4)]).is_err());
    assert!(store.meta_set("m", "2").is_err());
    assert_eq!(snapshot(&store), before);
    assert_eq!(store.committed_writes(), writes);
    assert_eq!(store.update(&key("a"), counts(1, 0, 0), Source::Cli, 3).unwrap(), UpdateOutcome::Unchanged);

    drop(locker);
    assert_eq!(store.meta_get("m").unwrap().as_deref(), Some("1"));
    assert_eq!(
        store.update(&key("a"), counts(5, 0, 0), Source::Cli, 3).unwrap(),
        UpdateOutcome::Changed { previous: counts(1, 0, 0) }
    );
    let after = snapshot(&store);
    drop(store);
    assert_eq!(snapshot(&open(&dir)), after);
}

#[test]
fn a_full_disk_fails_the_whole_import() {
    let dir = TestDir::new("full");
    let mut store = open(&dir);
    store.update(&key("a"), counts(1, 0, 0), Source::Ami, 1).unwrap();
    let pages: i64 = store.conn.pragma_query_value(None, "page_count", |r| r.get(0)).unwrap();
    store.conn.pragma_update(None, "max_page_count", pages).unwrap();
    let many = (0..10_000).map(|i| record(&format!("{i:05}@full"), 1, Source::Import, 0));
    let err = store.import(many).unwrap_err();
    assert!(err.to_string().contains("(import)"), "{err}");
    assert_eq!(ids(&store.list(None)), ["a"]);
    drop(store);
    assert_eq!(ids(&open(&dir).list(None)), ["a"]);
}

#[test]
fn open_refuses_files_it_cannot_trust() {
    let dir = TestDir::new("refuse");

    std::fs::write(dir.db(), b"this is not a database, just some text that is long enough....").unwrap();
    let err = MailboxStore::open(&dir.db(), Durability::Process).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().starts_with("cannot open the mailbox store "), "{err}");
    std::fs::remove_file(dir.db()).unwrap();

    Connection::open(dir.db()).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    let err = MailboxStore::open(&dir.db(), Durability::Process).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { application_id: 0, .. }), "{err:?}");
    assert!(err.to_string().contains("is not a res_mwi_hub mailbox store"), "{err}");
    std::fs::remove_file(dir.db()).unwrap();

    drop(open(&dir));
    Connection::open(dir.db()).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let err = MailboxStore::open(&dir.db(), Durability::Process).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { version: 99, .. }), "{err:?}");
    assert!(err.to_string().contains("schema version 99"), "{err}");

    let missing = dir.0.join("no/such/dir/m.sqlite");
    assert!(matches!(MailboxStore::open(&missing, Durability::Process), Err(StoreError::Open { .. })));
}

#[test]
fn open_names_a_bad_row() {
    let dir = TestDir::new("bad_row");
    drop(open(&dir));
    let raw = Connection::open(dir.db()).unwrap();
    let insert = "INSERT INTO mailboxes VALUES (?1, ?2, 0, 0, ?3, 0)";
    raw.execute(insert, params!["bad id\r\n", 1, "cli"]).unwrap();
    let err = MailboxStore::open(&dir.db(), Durability::Process).unwrap_err().to_string();
    assert!(
        err.contains("invalid record for mailbox 'bad id\\x0d\\x0a'") && err.contains("position 4"),
        "{err}"
    );
    raw.execute("DELETE FROM mailboxes", []).unwrap();
    raw.execute(insert, params!["ok", -1, "cli"]).unwrap();
    let err = MailboxStore::open(&dir.db(), Durability::Process).unwrap_err().to_string();
    assert!(err.ends_with("mailbox 'ok': the new count -1 is not in 0..=4294967295"), "{err}");
    raw.execute("UPDATE mailboxes SET new = 1, source = 'web'", []).unwrap();
    let err = MailboxStore::open(&dir.db(), Durability::Process).unwrap_err().to_string();
    assert!(err.contains("unknown source 'web'"), "{err}");
}

/// Fills `path` with `n` mailboxes in one transaction.
fn fill(path: &Path, n: usize) {
    let mut store = MailboxStore::open(path, Durability::Process).unwrap();
    let records = (0..n).map(|i| MailboxRecord {
        key: key(&format!("{:07}@default", (i * 7919) % n.max(1))),
        counts: counts((i % 5) as u32, 1, 0),
        source: if i % 3 == 0 { Source::Notify { endpoint: "vmtrunk".into() } } else { Source::Ami },
        updated_at_ms: 1_700_000_000_000,
    });
    assert_eq!(
        store.import(records).unwrap(),
        n,
        "7919 is a prime dividing none of the sizes used: distinct keys"
    );
}

/// Opens `path`, checking that SQLite sorted nothing; the stats and how long it took.
fn timed_open(path: &Path) -> (MailboxStore, LoadStats, Duration) {
    let start = Instant::now();
    let (store, stats) = MailboxStore::open_with_stats(path, Durability::Process).unwrap();
    let took = start.elapsed();
    assert_eq!(stats.sorts, 0, "rows come in primary-key order, unsorted");
    assert_eq!(stats.rows, store.len());
    (store, stats, took)
}

#[test]
fn opens_100k_mailboxes_in_one_linear_pass() {
    let small = TestDir::new("10k");
    fill(&small.db(), 10_000);
    let (_, small_stats, _) = timed_open(&small.db());
    let dir = TestDir::new("100k");
    fill(&dir.db(), 100_000);
    let (store, stats, took) = timed_open(&dir.db());
    assert_eq!(store.len(), 100_000);
    // SQLite's work per row is the same at 10k and 100k rows: a single scan, no per-row search.
    let per_row = |s: LoadStats| f64::from(s.vm_steps) / s.rows as f64;
    assert!((per_row(stats) - per_row(small_stats)).abs() < 0.5, "{stats:?} vs {small_stats:?}");
    let ids: Vec<&str> = store.iter().map(|r| r.key.as_str()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "the index is sorted");
    assert_eq!(store.get(&key("0099999@default")).unwrap().counts.old, 1);
    eprintln!("opened 100,000 mailboxes in {took:?} ({} VM steps per row)", per_row(stats));
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "a million mailboxes: run in release with --ignored --nocapture"]
fn opens_1m_mailboxes() {
    const N: usize = 1_000_000;
    let dir = TestDir::new("1m");
    drop(open(&dir));
    // Filled by SQLite alone, so the RSS measured below is the index, not allocator leftovers.
    Connection::open(dir.db())
        .unwrap()
        .execute(
            "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?1 - 1)
             INSERT INTO mailboxes SELECT printf('%07d@default', (i * 7919) % ?1), i % 5, 1, 0,
                 CASE WHEN i % 3 = 0 THEN 'notify:vmtrunk' ELSE 'ami' END, 1700000000000 FROM c",
            [N as i64],
        )
        .unwrap();
    let file_len = std::fs::metadata(dir.db()).unwrap().len();
    let rss_before = rss_kib();
    let (mut store, stats, took) = timed_open(&dir.db());
    assert_eq!(store.len(), N);
    eprintln!(
        "opened 1,000,000 mailboxes in {took:?}; file {} MiB; index +{} MiB RSS; {} VM steps per row",
        file_len >> 20,
        rss_kib().saturating_sub(rss_before) >> 10,
        f64::from(stats.vm_steps) / stats.rows as f64
    );
    let start = Instant::now();
    let all = store.list(None).len();
    eprintln!("list all ({all}): {:?}", start.elapsed());
    let re = Regex::new("^00012").unwrap();
    let start = Instant::now();
    let some = store.list(Some(&re)).len();
    eprintln!("list like ^00012 ({some}): {:?}", start.elapsed());
    let start = Instant::now();
    let gone = store.delete_matching(&Regex::new("^0001").unwrap()).unwrap().len();
    eprintln!("delete like ^0001 ({gone}): {:?}", start.elapsed());
    let start = Instant::now();
    let gone = store.delete_all().unwrap().len();
    eprintln!("delete all ({gone}): {:?}", start.elapsed());
    drop(store);
    std::fs::remove_file(dir.db()).unwrap();
    let start = Instant::now();
    fill(&dir.db(), N);
    eprintln!("import of 1,000,000 records (one transaction): {:?}", start.elapsed());
}

#[test]
#[ignore = "timing: run in release with --ignored --nocapture"]
fn update_costs() {
    for (durability, n) in [(Durability::Process, 20_000u32), (Durability::PowerLoss, 500)] {
        let dir = TestDir::new("costs");
        let mut store = MailboxStore::open(&dir.db(), durability).unwrap();
        let keys: Vec<MailboxKey> = (0..n).map(|i| key(&format!("{i}@default"))).collect();
        let start = Instant::now();
        for k in &keys {
            store.update(k, counts(1, 0, 0), Source::Ami, 1).unwrap();
        }
        let created = start.elapsed() / n;
        let start = Instant::now();
        for k in &keys {
            store.update(k, counts(2, 0, 0), Source::Ami, 2).unwrap();
        }
        let changed = start.elapsed() / n;
        let start = Instant::now();
        for k in &keys {
            assert_eq!(store.update(k, counts(2, 0, 0), Source::Ami, 3).unwrap(), UpdateOutcome::Unchanged);
        }
        let unchanged = start.elapsed() / n;
        eprintln!(
            "{durability:?}: create {created:?}, change {changed:?}, no-op {unchanged:?} per update ({n} mailboxes)"
        );
    }
}

#[test]
fn counts_each_endpoints_mailboxes_through_every_change() {
    let dir = TestDir::new("by_endpoint");
    let trunk = || Source::Notify { endpoint: "trunk".into() };
    let other = || Source::Notify { endpoint: "other".into() };
    let mut store = open(&dir);
    for i in 0..5 {
        store.update(&key(&format!("{i}@t")), counts(1, 0, 0), trunk(), 1).unwrap();
    }
    store.update(&key("9@o"), counts(1, 0, 0), other(), 1).unwrap();
    store.update(&key("ami@x"), counts(1, 0, 0), Source::Ami, 1).unwrap();
    assert_eq!(store.endpoint_mailboxes("trunk"), 5);
    assert_eq!(store.mailboxes_by_endpoint(), [("other".to_owned(), 1), ("trunk".to_owned(), 5)]);

    // An unchanged update keeps the source; a changed one moves the mailbox to its new source.
    store.update(&key("0@t"), counts(1, 0, 0), Source::Ami, 2).unwrap();
    assert_eq!(store.endpoint_mailboxes("trunk"), 5);
    store.update(&key("0@t"), counts(2, 0, 0), Source::Ami, 2).unwrap();
    store.update(&key("ami@x"), counts(2, 0, 0), trunk(), 2).unwrap();
    store.update(&key("1@t"), counts(2, 0, 0), other(), 2).unwrap();
    assert_eq!(store.endpoint_mailboxes("trunk"), 4);
    assert_eq!(store.endpoint_mailboxes("other"), 2);

    store.delete(&key("2@t")).unwrap();
    store.delete_matching(&Regex::new("^3@").unwrap()).unwrap();
    store.import([record("imp@t", 1, trunk(), 3), record("4@t", 1, Source::Import, 3)]).unwrap();
    assert_eq!(store.endpoint_mailboxes("trunk"), 3, "{:?}", store.mailboxes_by_endpoint());

    // Reopened, the counts come from the rows.
    let expected = store.mailboxes_by_endpoint();
    drop(store);
    let mut store = open(&dir);
    assert_eq!(store.mailboxes_by_endpoint(), expected);

    // A failed write counts nothing.
    let locker = lock_out(&dir, &mut store);
    assert!(store.update(&key("new@t"), counts(1, 0, 0), trunk(), 4).is_err());
    assert!(store.delete(&key("4@t")).is_err());
    assert_eq!(store.mailboxes_by_endpoint(), expected);
    drop(locker);

    store.delete_all().unwrap();
    assert!(store.mailboxes_by_endpoint().is_empty());
    assert_eq!(store.endpoint_mailboxes("trunk"), 0);
}
