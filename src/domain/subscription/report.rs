//! What admins see of outbound MWI subscriptions: the `mwi show subscriptions` table, the
//! `mwi show subscription <name>` detail, the `MWISubscriptionEntry` list item of
//! MWIShowSubscriptions and the body of the `MWISubscriptionStatus` event.
//!
//! Every field is made printable and single-line first: server URIs come from the
//! configuration, reasons and responses may carry the server's text. Control characters
//! (CR, LF, TAB, ...) and Unicode line or paragraph separators become `\xNN` / `\u{NNNN}`, so
//! nothing can add a line to the CLI output or a header to an AMI event.

use std::fmt::Write;

use super::machine::{Change, Status};
use super::Millis;
use crate::domain::message_summary::ClassCounts;
use crate::domain::text::printable;

/// One subscription as the reports show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionView {
    /// The mwi-subscription object's name.
    pub name: String,
    pub server_uri: String,
    /// The local mailbox the counts are published to: `mailbox@context`.
    pub mailbox: String,
    pub status: Status,
    /// The Voice-Message counts of the last NOTIFY that had them (`new/old (new_urgent/
    /// old_urgent)`, as the server sent them); None before any.
    pub counts: Option<ClassCounts>,
    /// How long ago the last NOTIFY came; None if none yet.
    pub last_notify_ago_ms: Option<u64>,
}

/// The table's Server column is cut to this many characters, the last one a `~`.
pub const SERVER_WIDTH: usize = 40;

const HEADERS: [&str; 9] =
    ["Name", "Server", "Mailbox", "State", "Last", "Expires", "Refresh/retry in", "Counts", "Failures"];

/// `mwi show subscriptions`: a header line, one row per subscription, columns aligned, and
/// "N subscription(s)" at the end.
pub fn format_table(views: &[SubscriptionView]) -> String {
    let rows: Vec<[String; 9]> = views.iter().map(table_row).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    push_row(&mut out, &HEADERS.map(str::to_owned), &widths);
    for row in &rows {
        push_row(&mut out, row, &widths);
    }
    let n = views.len();
    let _ = writeln!(out, "{n} subscription{}", if n == 1 { "" } else { "s" });
    out
}

fn table_row(view: &SubscriptionView) -> [String; 9] {
    let s = &view.status;
    [
        one_line(&view.name),
        truncate(&one_line(&view.server_uri), SERVER_WIDTH),
        one_line(&view.mailbox),
        s.phase.name().to_owned(),
        s.last_response.as_deref().map_or_else(|| "-".to_owned(), one_line),
        s.granted.map_or_else(|| "-".to_owned(), |g| format!("{g}s")),
        s.next_subscribe_in_ms.map_or_else(|| "-".to_owned(), |ms| format!("{}s", tenths(ms))),
        view.counts.map_or_else(|| "-".to_owned(), |c| short_counts(&c)),
        s.failures.to_string(),
    ]
}

/// Left-aligned cells two spaces apart; the last one unpadded (no trailing blanks).
fn push_row(out: &mut String, cells: &[String; 9], widths: &[usize; 9]) {
    let last = cells.len() - 1;
    for (i, (cell, &width)) in cells.iter().zip(widths).enumerate() {
        if i == last {
            out.push_str(cell);
        } else {
            let _ = write!(out, "{cell:<width$}  ");
        }
    }
    out.push('\n');
}

/// `mwi show subscription <name>`: one "Label: value" line each, then the history.
pub fn format_detail(view: &SubscriptionView, now: Millis) -> String {
    let s = &view.status;
    let dash = || "-".to_owned();
    let mut out = String::new();
    let _ = writeln!(out, "Name: {}", one_line(&view.name));
    let _ = writeln!(out, "Server: {}", one_line(&view.server_uri));
    let _ = writeln!(out, "Mailbox: {}", one_line(&view.mailbox));
    let _ = writeln!(out, "State: {}", s.phase.name());
    let _ = writeln!(out, "Last response: {}", s.last_response.as_deref().map_or_else(dash, one_line));
    let _ = writeln!(out, "Granted expires: {}", s.granted.map_or_else(dash, |g| format!("{g} s")));
    let _ =
        writeln!(out, "Expires in: {}", s.expires_in_ms.map_or_else(dash, |ms| format!("{} s", tenths(ms))));
    let _ = writeln!(
        out,
        "Next SUBSCRIBE in: {}",
        s.next_subscribe_in_ms.map_or_else(dash, |ms| format!("{} s", tenths(ms)))
    );
    let _ = writeln!(out, "Failures in a row: {}", s.failures);
    let _ = writeln!(
        out,
        "Counts: {}",
        view.counts.map_or_else(dash, |c| format!(
            "{} new, {} old (urgent: {} new, {} old)",
            c.new, c.old, c.new_urgent, c.old_urgent
        ))
    );
    let _ = writeln!(
        out,
        "Last NOTIFY: {}",
        view.last_notify_ago_ms.map_or_else(|| "never".to_owned(), |ms| format!("{} s ago", tenths(ms)))
    );
    out.push_str("History (oldest first):\n");
    if s.history.is_empty() {
        out.push_str("  (none)\n");
    }
    for change in &s.history {
        let _ = writeln!(
            out,
            "  -{}s  {} -> {}: {}",
            tenths(now.saturating_sub(change.at)),
            change.from.name(),
            change.to.name(),
            one_line(&change.reason)
        );
    }
    out
}

/// One `MWISubscriptionEntry` list item of MWIShowSubscriptions, ending with the empty line.
/// Times are whole seconds (rounded); values not known are empty.
pub fn ami_entry(view: &SubscriptionView, action_id: &str) -> String {
    let s = &view.status;
    let secs = |ms: Option<u64>| {
        ms.map(|ms| ms.saturating_add(500) / 1000).map_or_else(String::new, |v| v.to_string())
    };
    let count =
        |f: fn(&ClassCounts) -> u32| view.counts.as_ref().map_or_else(String::new, |c| f(c).to_string());
    let mut out = String::from("Event: MWISubscriptionEntry\r\n");
    if !action_id.is_empty() {
        let _ = write!(out, "ActionID: {}\r\n", escape(action_id));
    }
    let fields = [
        ("ObjectName", one_line(&view.name)),
        ("ServerURI", one_line(&view.server_uri)),
        ("Mailbox", one_line(&view.mailbox)),
        ("State", s.phase.name().to_owned()),
        ("LastResponse", s.last_response.as_deref().map_or_else(String::new, one_line)),
        ("Granted", s.granted.map_or_else(String::new, |g| g.to_string())),
        ("ExpiresIn", secs(s.expires_in_ms)),
        ("NextSubscribeIn", secs(s.next_subscribe_in_ms)),
        ("Failures", s.failures.to_string()),
        ("NewMessages", count(|c| c.new)),
        ("OldMessages", count(|c| c.old)),
        ("UrgentNew", count(|c| c.new_urgent)),
        ("UrgentOld", count(|c| c.old_urgent)),
    ];
    for (key, value) in fields {
        let _ = write!(out, "{key}: {value}\r\n");
    }
    out.push_str("\r\n");
    out
}

/// The header lines of an `MWISubscriptionStatus` event (the host adds `Event:`).
pub fn ami_status_event(name: &str, server_uri: &str, mailbox: &str, change: &Change) -> String {
    format!(
        "ObjectName: {}\r\nServerURI: {}\r\nMailbox: {}\r\nState: {}\r\nPreviousState: {}\r\nReason: {}\r\n",
        one_line(name),
        one_line(server_uri),
        one_line(mailbox),
        change.to.name(),
        change.from.name(),
        one_line(&change.reason)
    )
}

/// `new/old (new_urgent/old_urgent)`, the message-summary notation.
fn short_counts(c: &ClassCounts) -> String {
    format!("{}/{} ({}/{})", c.new, c.old, c.new_urgent, c.old_urgent)
}

/// Milliseconds as seconds with one decimal, rounded: 49_750 -> "49.8".
fn tenths(ms: u64) -> String {
    let t = ms.saturating_add(50) / 100;
    format!("{}.{}", t / 10, t % 10)
}

/// At most `max` characters; a longer text keeps `max - 1` and ends with `~`.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('~');
    out
}

/// A field for display: [`printable`] (controls escaped, at most 200 characters), and the
/// Unicode line and paragraph separators escaped too, so it stays one line everywhere.
fn one_line(text: &str) -> String {
    no_separators(printable(text))
}

/// Like [`one_line`] without the length limit: an ActionID is echoed whole, or the client
/// could not match it.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            out.push(c);
        }
    }
    no_separators(out)
}

fn no_separators(text: String) -> String {
    if !text.contains(['\u{2028}', '\u{2029}']) {
        return text;
    }
    text.replace('\u{2028}', "\\u{2028}").replace('\u{2029}', "\\u{2029}")
}

#[cfg(test)]
mod tests;
