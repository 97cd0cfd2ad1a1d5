//! Fuzzes the RFC 3842 message-summary parser with arbitrary bytes, as a NOTIFY body can hold.
//!
//! Never panics, whatever the input; and what it returns keeps its promises:
//! - an accepted body is within the size cap, its account within the account cap and visible
//!   ASCII, and the summary survives a round trip through a canonical body and through a
//!   differently spelled one (case, whitespace, line ends);
//! - text appended after a blank line never changes the result;
//! - an error's text is one short line of printable ASCII (it becomes a SIP reason phrase).
//!
//! The parser's source files are compiled into this target (no FFI, std only), so the fuzz
//! build needs neither the module crate nor Asterisk.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../../src/domain/counts.rs"]
mod counts;
#[allow(dead_code)]
#[path = "../../../src/domain/message_summary.rs"]
mod message_summary;

use message_summary::{uri_user, MessageSummary, SummaryError, MAX_ACCOUNT_LEN, MAX_BODY_LEN};

fuzz_target!(|body: &[u8]| {
    let result = MessageSummary::parse(body);
    match &result {
        Ok(summary) => check_summary(body, summary),
        Err(error) => check_error(body, error),
    }
    check_tail_is_ignored(body, &result);
    if let Ok(text) = std::str::from_utf8(body) {
        check_uri_user(text);
    }
});

fn check_summary(body: &[u8], summary: &MessageSummary) {
    assert!(body.len() <= MAX_BODY_LEN, "accepted a body of {} bytes", body.len());
    if let Some(account) = summary.account() {
        assert!((1..=MAX_ACCOUNT_LEN).contains(&account.len()), "account length {}", account.len());
        assert!(account.bytes().all(|b| (0x21..=0x7e).contains(&b)), "account bytes {account:?}");
        assert!(account.split_once(':').is_some_and(|(s, r)| !s.is_empty() && !r.is_empty()), "{account:?}");
        if let Some(user) = summary.account_user() {
            check_user_of(account, user);
        }
    }
    assert_eq!(summary.is_status_only(), summary.classes().next().is_none());
    for spelling in [canonical(summary), unusual(summary)] {
        assert_eq!(
            MessageSummary::parse(spelling.as_bytes()).as_ref(),
            Ok(summary),
            "round trip through {spelling:?}"
        );
    }
}

fn check_error(body: &[u8], error: &SummaryError) {
    let text = error.to_string();
    assert!(!text.is_empty() && text.len() <= 100, "error text length {}: {text:?}", text.len());
    assert!(text.bytes().all(|b| (0x20..=0x7e).contains(&b)), "error text {text:?}");
    assert_eq!(
        body.len() > MAX_BODY_LEN,
        *error == SummaryError::TooLarge,
        "{error:?} for {} bytes",
        body.len()
    );
}

/// Whatever follows a blank line that ends an accepted summary is never read.
fn check_tail_is_ignored(body: &[u8], result: &Result<MessageSummary, SummaryError>) {
    let Ok(summary) = result else {
        return;
    };
    let tail: &[u8] = b"\r\n\r\nVoice-Message: 9/9\r\nMessages-Waiting: maybe\r\nbad line\xff\x00\r";
    if body.len() + tail.len() > MAX_BODY_LEN {
        return;
    }
    let mut longer = body.to_vec();
    longer.extend_from_slice(tail);
    assert_eq!(
        MessageSummary::parse(&longer).as_ref(),
        Ok(summary),
        "a tail after the blank line changed it"
    );
}

fn check_uri_user(text: &str) {
    if let Some(user) = uri_user(text) {
        check_user_of(text, user);
    }
}

fn check_user_of(uri: &str, user: &str) {
    assert!(!user.is_empty(), "empty user of {uri:?}");
    assert!(uri.contains(user), "user {user:?} not in {uri:?}");
    assert!(!user.contains(';'), "user {user:?} of {uri:?}");
    let sip = uri.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("sip:") || s.eq_ignore_ascii_case("sips"));
    assert!(!sip || !user.contains(['@', ':']), "user {user:?} of {uri:?}");
}

/// The body a careful sender would write for `summary`.
fn canonical(summary: &MessageSummary) -> String {
    let mut out = format!("Messages-Waiting: {}\r\n", if summary.waiting() { "yes" } else { "no" });
    if let Some(account) = summary.account() {
        out.push_str(&format!("Message-Account: {account}\r\n"));
    }
    for (class, c) in summary.classes() {
        out.push_str(&format!(
            "{}: {}/{} ({}/{})\r\n",
            class.header_name(),
            c.new,
            c.old,
            c.new_urgent,
            c.old_urgent
        ));
    }
    out.push_str("\r\nX-Extension: ignored\r\n");
    out
}

/// The same summary spelled as loosely as the grammar allows: other case, whitespace around
/// every separator, a folded line, bare CR and LF line ends, status last, urgent counts
/// omitted when zero.
fn unusual(summary: &MessageSummary) -> String {
    let mut out = String::from("\n\n");
    if let Some(account) = summary.account() {
        out.push_str(&format!("MESSAGE-ACCOUNT\t:\r\n {account}\t\n"));
    }
    for (class, c) in summary.classes().collect::<Vec<_>>().into_iter().rev() {
        let name = class.header_name().to_ascii_lowercase();
        if c.new_urgent == 0 && c.old_urgent == 0 {
            out.push_str(&format!("{name} :{} /\t{}\r", c.new, c.old));
        } else {
            out.push_str(&format!(
                "{name}: {} / {} ( {} / {} ) \r",
                c.new, c.old, c.new_urgent, c.old_urgent
            ));
        }
        out.push_str("X-Unknown-Class: 1/2 \u{e9}\n");
    }
    out.push_str(if summary.waiting() { "messages-waiting: YES" } else { "Messages-Waiting:No" });
    out
}
