//! The text of `mwi show status`.

use std::fmt::Write;
use std::time::Duration;

use super::incoming::growth::MailboxLimit;
use super::pacing::PacingStats;

/// The background republish, as `mwi show status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RepublishLine {
    /// Waiting for Asterisk to be fully booted.
    #[default]
    WaitingForBoot,
    Running {
        published: usize,
        total: usize,
        elapsed: Duration,
    },
    Done {
        published: usize,
        took: Duration,
    },
    /// Stopped by an unload before the end (the rest is republished at the next load).
    Stopped {
        published: usize,
        total: usize,
    },
}

/// Who answers Asterisk's voicemail questions (MailboxCount, VM_INFO, MessageWaiting's
/// Waiting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderRole {
    Ours,
    /// Another module (app_voicemail, usually).
    Other,
    Nobody,
}

/// The mailbox store's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFile {
    pub path: String,
    /// The database and its write-ahead log together; None when they cannot be read.
    pub bytes: Option<u64>,
}

/// A running episode of failing store writes, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    pub for_: Duration,
    pub refused: u64,
    pub error: String,
}

/// One endpoint's share of the store: mailboxes its NOTIFYs hold, new accounts refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointShare {
    pub endpoint: String,
    pub mailboxes: usize,
    pub refused: u64,
}

/// One line per part that can be off: its figures, or why it is off.
pub type Part<T> = Result<T, &'static str>;

/// What the status screen shows.
#[derive(Debug, Clone)]
pub struct StatusFacts {
    pub version: &'static str,
    pub asterisk_version: String,
    pub store: StoreFile,
    pub stored: usize,
    /// None while writes work.
    pub write_failure: Option<WriteFailure>,
    /// Mailboxes some module (res_pjsip_mwi for a phone's `mailboxes=`) watched since load.
    pub watched_mailboxes: usize,
    /// Changes stored and not yet on the MWI bus.
    pub queued: u64,
    pub republish: RepublishLine,
    pub pacing: PacingStats,
    pub watched_queues: usize,
    /// Incoming NOTIFYs answered 200 and refused (4xx/5xx) since load.
    pub notifies: Part<(u64, u64)>,
    /// The per-endpoint limit and each endpoint's share (sorted by endpoint).
    pub endpoints: Part<(MailboxLimit, Vec<EndpointShare>)>,
    /// Outbound subscriptions per state name, in the order the states are listed.
    pub subscriptions: Part<Vec<(&'static str, usize)>>,
    pub provider: ProviderRole,
    /// Whether res_ari is running, and whether we have /ari/mailboxes registered with it.
    pub ari_loaded: bool,
    pub ari_serving: bool,
}

/// Bytes as an admin reads them: "812 bytes", "4.0 KiB", "1.5 MiB".
fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

pub fn format_status(f: &StatusFacts) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "res_mwi_hub {} on Asterisk {}", f.version, f.asterisk_version);
    let bytes = f.store.bytes.map_or_else(|| "size unknown".to_owned(), size);
    let _ = writeln!(out, "Store:               {} ({bytes})", f.store.path);
    let writes = match &f.write_failure {
        None => "ok".to_owned(),
        Some(w) => format!(
            "FAILING for {:.1} s, {} update{} refused: {}",
            w.for_.as_secs_f64(),
            w.refused,
            if w.refused == 1 { "" } else { "s" },
            w.error
        ),
    };
    let _ = writeln!(out, "Store writes:        {writes}");
    let _ = writeln!(out, "External mailboxes:  {} stored, {} watched", f.stored, f.watched_mailboxes);
    let _ = writeln!(out, "Publish queue:       {} waiting", f.queued);
    let republish = match f.republish {
        RepublishLine::WaitingForBoot => "waiting for Asterisk to be fully booted".to_owned(),
        RepublishLine::Running { published, total, elapsed } => {
            format!("running: {published} of {total} published ({:.1} s so far)", elapsed.as_secs_f64())
        }
        RepublishLine::Done { published, took } => {
            format!("done: {published} mailboxes with messages published in {:.1} s", took.as_secs_f64())
        }
        RepublishLine::Stopped { published, total } => {
            format!("stopped by unload after {published} of {total} (the rest is published at the next load)")
        }
    };
    let _ = writeln!(out, "Republish at load:   {republish}");
    let p = f.pacing;
    let _ = writeln!(
        out,
        "Pacing:              {}; held back {:.1} s in all, in {} episode{} since load",
        if p.holding_back { "holding publishing back now (Asterisk is busy)" } else { "not holding back" },
        p.held.as_secs_f64(),
        p.episodes,
        if p.episodes == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "MWI consumer queues: {} watched", f.watched_queues);
    let notifies = match f.notifies {
        Ok((taken, refused)) => format!("{taken} taken, {refused} refused since load"),
        Err(why) => format!("off ({why})"),
    };
    let _ = writeln!(out, "Incoming NOTIFYs:    {notifies}");
    match &f.endpoints {
        Ok((limit, shares)) => {
            let (limit_text, of) = match limit.0 {
                0 => ("no limit".to_owned(), String::new()),
                n => (format!("at most {n} each"), format!(" of {n}")),
            };
            let none = if shares.is_empty() { "; none holds any" } else { "" };
            let _ = writeln!(out, "Mailboxes per endpoint: {limit_text} (max_mailboxes_per_endpoint){none}");
            for e in shares {
                let full = if limit.has_room(e.mailboxes) { "" } else { ", full" };
                let refused = if e.refused == 0 {
                    String::new()
                } else {
                    format!(
                        ", {} NOTIFY{} for new accounts refused",
                        e.refused,
                        if e.refused == 1 { "" } else { "s" }
                    )
                };
                let _ = writeln!(out, "  {:<18} {}{of}{full}{refused}", e.endpoint, e.mailboxes);
            }
        }
        Err(why) => {
            let _ = writeln!(out, "Mailboxes per endpoint: off ({why})");
        }
    }
    let subscriptions = match &f.subscriptions {
        Ok(by_state) => {
            let total: usize = by_state.iter().map(|(_, n)| n).sum();
            let parts: Vec<String> =
                by_state.iter().filter(|(_, n)| *n > 0).map(|(state, n)| format!("{n} {state}")).collect();
            if total == 0 {
                "none configured".to_owned()
            } else {
                format!("{total}: {}", parts.join(", "))
            }
        }
        Err(why) => format!("off ({why})"),
    };
    let _ = writeln!(out, "Subscriptions:       {subscriptions}");
    let provider = match f.provider {
        ProviderRole::Ours => "res_mwi_hub",
        ProviderRole::Other => "another module (app_voicemail)",
        ProviderRole::Nobody => "none",
    };
    let _ = writeln!(out, "Voicemail provider:  {provider}");
    let ari = match (f.ari_loaded, f.ari_serving) {
        (true, true) => "/ari/mailboxes served by res_mwi_hub",
        (true, false) => {
            "res_ari running, /ari/mailboxes not served (res_ari started after res_mwi_hub, or \
             res_ari_mailboxes serves it: see the log; module reload res_mwi_hub.so)"
        }
        (false, true) => {
            "res_ari not running since res_mwi_hub registered /ari/mailboxes (after loading it \
             again: module reload res_mwi_hub.so)"
        }
        (false, false) => "res_ari not running",
    };
    let _ = writeln!(out, "ARI:                 {ari}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_an_admin_reads_them() {
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(1023), "1023 bytes");
        assert_eq!(size(1024), "1.0 KiB");
        assert_eq!(size(3 * 1_048_576 / 2), "1.5 MiB");
    }

    #[test]
    fn shows_progress_and_pacing() {
        let facts = StatusFacts {
            version: "0.1.0",
            asterisk_version: "22.10.1".into(),
            store: StoreFile { path: "/var/lib/asterisk/res_mwi_hub.sqlite3".into(), bytes: Some(1536) },
            stored: 100_000,
            write_failure: None,
            watched_mailboxes: 12,
            queued: 3,
            notifies: Ok((15, 2)),
            endpoints: Ok((
                MailboxLimit(5),
                vec![
                    EndpointShare { endpoint: "vmfull".into(), mailboxes: 5, refused: 3 },
                    EndpointShare { endpoint: "vmtrunk".into(), mailboxes: 2, refused: 0 },
                ],
            )),
            subscriptions: Ok(vec![("Active", 2), ("Retrying", 1), ("GivenUp", 0)]),
            provider: ProviderRole::Ours,
            ari_loaded: true,
            ari_serving: true,
            republish: RepublishLine::Running {
                published: 4_000,
                total: 100_000,
                elapsed: Duration::from_millis(2500),
            },
            pacing: PacingStats { held: Duration::from_millis(1500), episodes: 1, holding_back: true },
            watched_queues: 6,
        };
        let text = format_status(&facts);
        assert!(text.starts_with("res_mwi_hub 0.1.0 on Asterisk 22.10.1\n"), "{text}");
        assert!(
            text.contains("Store:               /var/lib/asterisk/res_mwi_hub.sqlite3 (1.5 KiB)\n"),
            "{text}"
        );
        assert!(text.contains("External mailboxes:  100000 stored, 12 watched\n"), "{text}");
        assert!(text.contains("Publish queue:       3 waiting\n"), "{text}");
        assert!(text.contains("Incoming NOTIFYs:    15 taken, 2 refused since load\n"), "{text}");
        assert!(text.contains("Store writes:        ok\n"), "{text}");
        assert!(
            text.contains(
                "Mailboxes per endpoint: at most 5 each (max_mailboxes_per_endpoint)\n  \
                 vmfull             5 of 5, full, 3 NOTIFYs for new accounts refused\n  \
                 vmtrunk            2 of 5\n"
            ),
            "{text}"
        );
        assert!(text.contains("Subscriptions:       3: 2 Active, 1 Retrying\n"), "{text}");
        assert!(text.contains("Voicemail provider:  res_mwi_hub\n"), "{text}");
        assert!(text.contains("ARI:                 /ari/mailboxes served by res_mwi_hub\n"), "{text}");
        assert!(text.contains("running: 4000 of 100000 published (2.5 s so far)"), "{text}");
        assert!(text.contains("holding publishing back now"), "{text}");
        assert!(text.contains("held back 1.5 s in all, in 1 episode since load"), "{text}");
        let done = StatusFacts {
            republish: RepublishLine::Done { published: 7, took: Duration::from_secs(3) },
            pacing: PacingStats::default(),
            store: StoreFile { path: "/x.sqlite3".into(), bytes: None },
            notifies: Err("res_pjsip not loaded"),
            endpoints: Ok((MailboxLimit(0), vec![])),
            write_failure: Some(WriteFailure {
                for_: Duration::from_millis(12_340),
                refused: 1,
                error: "database or disk is full".into(),
            }),
            subscriptions: Ok(vec![("Active", 0)]),
            provider: ProviderRole::Other,
            ari_loaded: false,
            ari_serving: false,
            ..facts
        };
        let text = format_status(&done);
        assert!(text.contains("Store:               /x.sqlite3 (size unknown)\n"), "{text}");
        assert!(text.contains("Incoming NOTIFYs:    off (res_pjsip not loaded)\n"), "{text}");
        assert!(
            text.contains("Mailboxes per endpoint: no limit (max_mailboxes_per_endpoint); none holds any\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "Store writes:        FAILING for 12.3 s, 1 update refused: database or disk is full\n"
            ),
            "{text}"
        );
        assert!(text.contains("Subscriptions:       none configured\n"), "{text}");
        assert!(text.contains("Voicemail provider:  another module (app_voicemail)\n"), "{text}");
        assert!(text.contains("ARI:                 res_ari not running\n"), "{text}");
        assert!(text.contains("done: 7 mailboxes with messages published in 3.0 s"), "{text}");
        assert!(text.contains("not holding back; held back 0.0 s in all, in 0 episodes"), "{text}");
    }
}
