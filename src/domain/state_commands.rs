//! The admin commands over cached MWI state (`mwi show state`, `mwi list states`,
//! `mwi publish`): argument parsing and output formatting, independent of the CLI plumbing.

use std::fmt::Write as _;

use regex::{Regex, RegexBuilder};

use super::counts::{parse_count, CountKind, MwiCounts};
use super::mailbox::MailboxId;
use super::state::MwiState;
use super::text::printable;

/// Compiled-size cap for admin-supplied regexes: bounded memory whatever the pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A parsed `mwi publish <mailbox@context> <new> <old> [<urgent>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    pub mailbox: MailboxId,
    pub counts: MwiCounts,
}

/// A command line the admin must correct; the text says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// Wrong number of arguments: the caller shows the usage text.
    Usage,
    Invalid(String),
}

impl CommandError {
    /// What to tell the admin, or None when the usage text says it.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Usage => None,
            Self::Invalid(msg) => Some(msg),
        }
    }
}

/// Parses the arguments after `mwi publish`.
pub fn parse_publish(args: &[&str]) -> Result<PublishRequest, CommandError> {
    if !(3..=4).contains(&args.len()) {
        return Err(CommandError::Usage);
    }
    let mailbox = MailboxId::parse(args[0])
        .map_err(|e| CommandError::Invalid(format!("Invalid mailbox '{}': {e}.", printable(args[0]))))?;
    let count = |kind: CountKind, text: &str| {
        parse_count(text).map_err(|e| {
            CommandError::Invalid(format!("Invalid {kind} count '{}': it {e}.", printable(text)))
        })
    };
    let new = count(CountKind::New, args[1])?;
    let old = count(CountKind::Old, args[2])?;
    let urgent = match args.get(3) {
        Some(text) => count(CountKind::Urgent, text)?,
        None => 0,
    };
    Ok(PublishRequest { mailbox, counts: MwiCounts { new, old, urgent } })
}

/// Compiles an admin-supplied filter regex (Rust `regex` syntax, unanchored search).
pub fn compile_filter(pattern: &str) -> Result<Regex, CommandError> {
    if pattern.is_empty() {
        return Err(CommandError::Invalid("The regular expression is empty.".into()));
    }
    RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| {
        let first_line = e.to_string().lines().last().unwrap_or("invalid").trim().to_owned();
        CommandError::Invalid(format!("Invalid regular expression '{}': {first_line}", printable(pattern)))
    })
}

/// Parses the arguments after `mwi list states`: nothing, or `like <regex>`.
pub fn parse_list_filter(args: &[&str]) -> Result<Option<Regex>, CommandError> {
    match args {
        [] => Ok(None),
        ["like", pattern] => compile_filter(pattern).map(Some),
        _ => Err(CommandError::Usage),
    }
}

fn eid_label(state: &MwiState) -> String {
    if state.local {
        format!("{} (this server)", state.eid)
    } else {
        state.eid.clone()
    }
}

/// The text of `mwi show state`.
pub fn format_state(state: &MwiState) -> String {
    format!(
        "Mailbox: {}\nNew:     {}\nOld:     {}\nUrgent:  {}\nEID:     {}\n",
        state.uniqueid,
        state.new,
        state.old,
        state.urgent,
        eid_label(state)
    )
}

/// The text of `mwi list states [like <regex>]`: one line per state, sorted by id, then a count.
pub fn format_state_list(mut states: Vec<MwiState>, filter: Option<&Regex>) -> String {
    let total = states.len();
    if let Some(re) = filter {
        states.retain(|s| re.is_match(&s.uniqueid));
    }
    states.sort_by(|a, b| a.uniqueid.cmp(&b.uniqueid).then_with(|| a.eid.cmp(&b.eid)));
    let width = states.iter().map(|s| s.uniqueid.len()).max().unwrap_or(0).max(7);
    let mut out = String::new();
    let _ = writeln!(out, "{:<width$} {:>10} {:>10} {:>10}  EID", "Mailbox", "New", "Old", "Urgent");
    for s in &states {
        let _ = writeln!(
            out,
            "{:<width$} {:>10} {:>10} {:>10}  {}",
            s.uniqueid,
            s.new,
            s.old,
            s.urgent,
            eid_label(s)
        );
    }
    let noun = |n: usize| if n == 1 { "MWI state" } else { "MWI states" };
    match filter {
        None => {
            let _ = writeln!(out, "{} {}.", states.len(), noun(states.len()));
        }
        Some(re) => {
            let _ = writeln!(out, "{} of {} {} match '{}'.", states.len(), total, noun(total), re.as_str());
        }
    }
    out
}

/// Completion candidates: the ids starting with `word`, sorted, without duplicates.
pub fn complete_ids<'a>(ids: impl IntoIterator<Item = &'a str>, word: &str) -> Vec<String> {
    let mut out: Vec<String> = ids.into_iter().filter(|id| id.starts_with(word)).map(str::to_owned).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(id: &str, new: i32, old: i32, urgent: i32) -> MwiState {
        MwiState { uniqueid: id.into(), new, old, urgent, eid: "02:00:00:00:00:01".into(), local: true }
    }

    #[test]
    fn publish_takes_three_or_four_arguments() {
        let r = parse_publish(&["1000@default", "3", "1", "2"]).unwrap();
        assert_eq!(r.mailbox.as_str(), "1000@default");
        assert_eq!(r.counts, MwiCounts { new: 3, old: 1, urgent: 2 });
        let r = parse_publish(&["1000@default", "3", "1"]).unwrap();
        assert_eq!(r.counts.urgent, 0);
        assert_eq!(parse_publish(&["1000@default", "3"]), Err(CommandError::Usage));
        assert_eq!(parse_publish(&["a@b", "1", "2", "3", "4"]), Err(CommandError::Usage));
    }

    #[test]
    fn publish_errors_name_the_bad_argument() {
        let msg = |args: &[&str]| match parse_publish(args) {
            Err(CommandError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert_eq!(
            msg(&["1000@default", "-1", "0"]),
            "Invalid new count '-1': it is negative; counts are 0 or more."
        );
        assert_eq!(
            msg(&["1000@default", "1", "4294967296"]),
            "Invalid old count '4294967296': it is larger than 4294967295."
        );
        assert_eq!(
            msg(&["1000@default", "1", "2", "x"]),
            "Invalid urgent count 'x': it is not a whole decimal number."
        );
        assert!(msg(&["10\r\n00@default", "1", "2"]).starts_with("Invalid mailbox '10\\x0d\\x0a00@default'"));
        assert!(msg(&["1000", "1", "2"]).contains("mailbox@context"));
    }

    #[test]
    fn list_filter_is_optional_and_validated() {
        assert!(parse_list_filter(&[]).unwrap().is_none());
        assert!(parse_list_filter(&["like", "^10"]).unwrap().is_some());
        assert_eq!(parse_list_filter(&["like"]).unwrap_err(), CommandError::Usage);
        assert_eq!(parse_list_filter(&["foo", "x"]).unwrap_err(), CommandError::Usage);
        match parse_list_filter(&["like", "(unclosed"]) {
            Err(CommandError::Invalid(m)) => {
                assert!(m.starts_with("Invalid regular expression '(unclosed'"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(compile_filter(""), Err(CommandError::Invalid(_))));
        assert!(matches!(compile_filter("a{1000}{1000}"), Err(CommandError::Invalid(_))));
    }

    #[test]
    fn formats_one_state() {
        let text = format_state(&state("1000@default", 3, 1, 2));
        assert_eq!(
            text,
            "Mailbox: 1000@default\nNew:     3\nOld:     1\nUrgent:  2\nEID:     02:00:00:00:00:01 (this server)\n"
        );
    }

    #[test]
    fn lists_sorted_filtered_and_counted() {
        let states = vec![
            state("2000@default", 0, 5, 0),
            state("1000@default", 3, 1, 2),
            state("1001@other", -1, 0, 0),
        ];
        let all = format_state_list(states.clone(), None);
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[0].starts_with("Mailbox"));
        assert!(lines[1].starts_with("1000@default"));
        assert!(lines[2].starts_with("1001@other") && lines[2].contains("-1"));
        assert!(lines[3].starts_with("2000@default"));
        assert_eq!(lines[4], "3 MWI states.");
        let re = compile_filter("^10").unwrap();
        let some = format_state_list(states, Some(&re));
        assert!(some.ends_with("2 of 3 MWI states match '^10'.\n"), "{some}");
        assert!(!some.contains("2000@default"));
        assert_eq!(format_state_list(vec![], None).lines().last(), Some("0 MWI states."));
    }

    #[test]
    fn completes_by_prefix() {
        let ids = ["1001@a", "1000@a", "2000@a", "1000@a"];
        assert_eq!(complete_ids(ids, "10"), vec!["1000@a".to_string(), "1001@a".to_string()]);
        assert_eq!(complete_ids(ids, "").len(), 3);
    }
}
