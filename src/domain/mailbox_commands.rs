//! The external-mailbox commands, CLI and AMI: argument parsing with the error texts clients
//! and admins read, and output formatting. AMI texts follow res_mwi_external_ami field for field.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use regex::Regex;

use super::counts::{parse_count, CountError, MwiCounts, MAX_PUBLISHABLE_COUNT};
use super::state_commands::{compile_filter, CommandError};
use super::store::{MailboxKey, MailboxRecord};
use super::text::printable;

/// What an AMI `Mailbox` header selects: one id, or `/regex/`.
#[derive(Debug)]
pub enum Selector {
    Exact(MailboxKey),
    /// `None`: the empty regex `//`, which matches every mailbox.
    Regex(Option<Regex>),
}

/// Parses an AMI `Mailbox` header, answering res_mwi_external_ami's error texts.
pub fn parse_ami_selector(text: &str) -> Result<Selector, String> {
    if text.is_empty() {
        return Err("Missing mailbox parameter in request".into());
    }
    if let Some(rest) = text.strip_prefix('/') {
        let Some(pattern) = rest.strip_suffix('/') else {
            return Err(format!("Mailbox regex format invalid in: {}", printable(text)));
        };
        if pattern.is_empty() {
            return Ok(Selector::Regex(None));
        }
        return match compile_filter(pattern) {
            Ok(re) => Ok(Selector::Regex(Some(re))),
            Err(CommandError::Invalid(why)) => {
                Err(format!("Mailbox regex format invalid in: {} ({why})", printable(text)))
            }
            Err(CommandError::Usage) => Err(format!("Mailbox regex format invalid in: {}", printable(text))),
        };
    }
    MailboxKey::parse(text)
        .map(Selector::Exact)
        .map_err(|e| format!("Invalid mailbox '{}': {e}", printable(text)))
}

/// Parses an AMI count header (`NewMessages`, ...): absent or empty means 0, as in
/// res_mwi_external_ami (clients rely on it); anything but 0..=2147483647 is refused.
pub fn parse_ami_count(field: &str, text: &str) -> Result<u32, String> {
    if text.is_empty() {
        return Ok(0);
    }
    parse_count_field(field, text)
}

/// A count Asterisk can publish (0..=2147483647) named `field` in the error ("Invalid
/// NewMessages: -1 (it is negative...)"); empty text is an error here (AMI's rule is above).
pub fn parse_count_field(field: &str, text: &str) -> Result<u32, String> {
    let why = match parse_count(text) {
        Ok(v) if v <= MAX_PUBLISHABLE_COUNT => return Ok(v),
        Ok(_) | Err(CountError::TooLarge) => format!("larger than {MAX_PUBLISHABLE_COUNT}"),
        Err(e) => format!("it {e}"),
    };
    Err(format!("Invalid {field}: {} ({why})", printable(text)))
}

/// The counts of an MWIUpdate request.
pub fn parse_ami_counts(new: &str, old: &str, urgent: &str) -> Result<MwiCounts, String> {
    Ok(MwiCounts {
        old: parse_ami_count("OldMessages", old)?,
        new: parse_ami_count("NewMessages", new)?,
        urgent: parse_ami_count("UrgentMessages", urgent)?,
    })
}

/// One `Event: MWIGet` message (to the requesting session only), fields in res_mwi_external_ami's
/// order, UrgentMessages added after NewMessages, ActionID last.
pub fn mwiget_event(record: &MailboxRecord, action_id: &str) -> String {
    let mut out = format!(
        "Event: MWIGet\r\nMailbox: {}\r\nOldMessages: {}\r\nNewMessages: {}\r\nUrgentMessages: {}\r\n",
        record.key, record.counts.old, record.counts.new, record.counts.urgent
    );
    if !action_id.is_empty() {
        let _ = write!(out, "ActionID: {action_id}\r\n");
    }
    out.push_str("\r\n");
    out
}

/// A parsed `mwi update mailbox <id> [<new> [<old> [<urgent>]]]` (missing counts are 0).
pub fn parse_cli_update(args: &[&str]) -> Result<(MailboxKey, MwiCounts), CommandError> {
    if args.is_empty() || args.len() > 4 {
        return Err(CommandError::Usage);
    }
    let key = parse_cli_key(args[0])?;
    let count = |i: usize, name: &str| -> Result<u32, CommandError> {
        match args.get(i) {
            None => Ok(0),
            Some(text) => match parse_count(text) {
                Ok(v) if v <= MAX_PUBLISHABLE_COUNT => Ok(v),
                Ok(_) | Err(CountError::TooLarge) => Err(CommandError::Invalid(format!(
                    "Invalid {name} count '{}': it is larger than {MAX_PUBLISHABLE_COUNT}.",
                    printable(text)
                ))),
                Err(e) => {
                    Err(CommandError::Invalid(format!("Invalid {name} count '{}': it {e}.", printable(text))))
                }
            },
        }
    };
    Ok((key, MwiCounts { new: count(1, "new")?, old: count(2, "old")?, urgent: count(3, "urgent")? }))
}

/// A mailbox id typed at the CLI.
pub fn parse_cli_key(text: &str) -> Result<MailboxKey, CommandError> {
    MailboxKey::parse(text)
        .map_err(|e| CommandError::Invalid(format!("Invalid mailbox '{}': {e}.", printable(text))))
}

/// A regex typed after `like` at the CLI (empty refused: `mwi delete all` deletes everything).
pub fn parse_cli_like(pattern: &str) -> Result<Regex, CommandError> {
    compile_filter(pattern)
}

/// `2026-11-26 20:10:03 UTC` for a unix time in ms.
pub fn format_time(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} UTC", s.trim_end_matches('Z').replace('T', " "))
}

/// The text of `mwi show mailbox`.
pub fn format_mailbox(r: &MailboxRecord) -> String {
    format!(
        "Mailbox: {}\nNew:     {}\nOld:     {}\nUrgent:  {}\nSource:  {}\nUpdated: {}\n",
        r.key,
        r.counts.new,
        r.counts.old,
        r.counts.urgent,
        r.source,
        format_time(r.updated_at_ms)
    )
}

/// The text of `mwi list all` / `mwi list like`: sorted rows, then a count.
pub fn format_mailbox_list(records: &[&MailboxRecord], total: usize, filter: Option<&Regex>) -> String {
    let width = records.iter().map(|r| r.key.as_str().len()).max().unwrap_or(0).max(7);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$} {:>10} {:>10} {:>10}  {:<23}  Source",
        "Mailbox", "New", "Old", "Urgent", "Updated"
    );
    for r in records {
        let _ = writeln!(
            out,
            "{:<width$} {:>10} {:>10} {:>10}  {:<23}  {}",
            r.key,
            r.counts.new,
            r.counts.old,
            r.counts.urgent,
            format_time(r.updated_at_ms),
            r.source
        );
    }
    let noun = |n: usize| if n == 1 { "external mailbox" } else { "external mailboxes" };
    match filter {
        None => {
            let _ = writeln!(out, "{} {}.", records.len(), noun(records.len()));
        }
        Some(re) => {
            let _ = writeln!(out, "{} of {} {} match '{}'.", records.len(), total, noun(total), re.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::store::Source;

    fn record(id: &str, new: u32, old: u32, urgent: u32) -> MailboxRecord {
        MailboxRecord::for_test(id, MwiCounts { new, old, urgent }, Source::Ami, 1_795_723_803_000)
    }

    #[test]
    fn selectors_follow_res_mwi_external_ami() {
        assert!(
            matches!(parse_ami_selector("1000@default"), Ok(Selector::Exact(k)) if k.as_str() == "1000@default")
        );
        assert!(matches!(parse_ami_selector("/^10/"), Ok(Selector::Regex(Some(re))) if re.as_str() == "^10"));
        assert!(matches!(parse_ami_selector("//"), Ok(Selector::Regex(None))));
        assert_eq!(parse_ami_selector("").unwrap_err(), "Missing mailbox parameter in request");
        assert_eq!(parse_ami_selector("/abc").unwrap_err(), "Mailbox regex format invalid in: /abc");
        assert_eq!(parse_ami_selector("/").unwrap_err(), "Mailbox regex format invalid in: /");
        assert!(parse_ami_selector("/(/").unwrap_err().starts_with("Mailbox regex format invalid in: /(/ ("));
        assert!(parse_ami_selector("a b").unwrap_err().starts_with("Invalid mailbox 'a b'"));
        assert!(parse_ami_selector("a\x01b").unwrap_err().contains("a\\x01b"));
    }

    #[test]
    fn ami_counts_are_strict() {
        assert_eq!(parse_ami_count("NewMessages", ""), Ok(0));
        assert_eq!(parse_ami_count("NewMessages", "12"), Ok(12));
        assert_eq!(parse_ami_count("NewMessages", "2147483647"), Ok(2147483647));
        assert_eq!(
            parse_ami_count("NewMessages", "-1").unwrap_err(),
            "Invalid NewMessages: -1 (it is negative; counts are 0 or more)"
        );
        assert_eq!(
            parse_ami_count("OldMessages", "2147483648").unwrap_err(),
            "Invalid OldMessages: 2147483648 (larger than 2147483647)"
        );
        assert_eq!(
            parse_ami_count("OldMessages", "99999999999").unwrap_err(),
            "Invalid OldMessages: 99999999999 (larger than 2147483647)"
        );
        assert!(parse_ami_count("UrgentMessages", "5x")
            .unwrap_err()
            .starts_with("Invalid UrgentMessages: 5x"));
        assert_eq!(parse_ami_counts("3", "1", ""), Ok(MwiCounts { new: 3, old: 1, urgent: 0 }));
        // res_mwi_external_ami checks OldMessages first.
        assert!(parse_ami_counts("x", "y", "").unwrap_err().starts_with("Invalid OldMessages"));
    }

    #[test]
    fn mwiget_event_field_order() {
        assert_eq!(
            mwiget_event(&record("1000@default", 3, 1, 2), "abc"),
            "Event: MWIGet\r\nMailbox: 1000@default\r\nOldMessages: 1\r\nNewMessages: 3\r\nUrgentMessages: 2\r\nActionID: abc\r\n\r\n"
        );
        assert!(!mwiget_event(&record("1", 0, 0, 0), "").contains("ActionID"));
    }

    #[test]
    fn cli_update_arguments() {
        let (k, c) = parse_cli_update(&["1000@default", "3", "1", "2"]).unwrap();
        assert_eq!((k.as_str(), c), ("1000@default", MwiCounts { new: 3, old: 1, urgent: 2 }));
        assert_eq!(parse_cli_update(&["1234"]).unwrap().1, MwiCounts::default());
        assert_eq!(parse_cli_update(&[]).unwrap_err(), CommandError::Usage);
        assert!(
            matches!(parse_cli_update(&["a", "-1"]), Err(CommandError::Invalid(m)) if m.contains("negative"))
        );
        assert!(
            matches!(parse_cli_update(&["a", "1", "2147483648"]), Err(CommandError::Invalid(m)) if m.contains("larger than 2147483647"))
        );
        assert!(matches!(parse_cli_update(&["a\tb"]), Err(CommandError::Invalid(_))));
    }

    #[test]
    fn formats_time_and_records() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_795_723_803_999), "2026-11-26 20:10:03 UTC");
        let text = format_mailbox(&record("1000@default", 3, 1, 2));
        assert!(text.contains("Source:  AMI\n") && text.contains("Urgent:  2\n"), "{text}");
        let a = record("b", 1, 2, 3);
        let b = record("a", 0, 0, 0);
        let list = format_mailbox_list(&[&b, &a], 2, None);
        assert_eq!(list.lines().count(), 4);
        assert_eq!(list.lines().last(), Some("2 external mailboxes."));
        let re = Regex::new("^b").unwrap();
        assert!(format_mailbox_list(&[&a], 2, Some(&re)).ends_with("1 of 2 external mailboxes match '^b'.\n"));
    }
}
