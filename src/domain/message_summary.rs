//! RFC 3842 `application/simple-message-summary` bodies, as voicemail servers and trunks send
//! them in NOTIFYs: read strictly wherever a count or an account comes from, leniently where
//! nothing we publish depends on it.
//!
//! Asterisk's own parser (res_pjsip_pubsub) misreads many valid bodies: status-only bodies,
//! whitespace before the colon or around the slash, bare CR line ends, fax-only bodies, negative
//! or wrapped counts, and extension headers read as counts. This one follows the grammar:
//!
//! ```text
//! Messages-Waiting HCOLON ("yes" / "no") CRLF
//! [Message-Account HCOLON absoluteURI CRLF]
//! *(message-context-class HCOLON newmsgs SLASH oldmsgs [LPAREN new-urgent SLASH old-urgent RPAREN] CRLF)
//! [CRLF *(extension-header CRLF)]
//! ```
//!
//! Where the RFC leaves room, these are the choices (each one accepts every correct body):
//! - A body larger than [`MAX_BODY_LEN`] bytes is refused before anything is read.
//! - Lines end in CRLF, LF or a bare CR, mixed freely; the last line may lack its line end.
//!   Header names, class names and `yes`/`no` are case-insensitive. SP and HTAB are allowed
//!   around the colon, the slash and the parentheses.
//! - A line that starts with SP or HTAB continues the previous line (RFC 3261 folding, which
//!   HCOLON and SLASH allow); a line of only SP/HTAB therefore adds nothing and is skipped.
//! - Empty lines before the first header are skipped. The first empty line after it ends the
//!   summary: what follows (extension headers) is never read, whatever its bytes.
//! - `Messages-Waiting` is required but may stand anywhere in the summary, not only first: it is
//!   recognised by its name, so its position carries no information.
//! - Each known header (`Messages-Waiting`, `Message-Account`, each message class) may appear
//!   once. A second one is an error: first-wins and last-wins could each publish a wrong count.
//! - Other lines of the summary (classes this parser does not know, headers a sender put before
//!   the blank line) are skipped without reading their value, but must still be `name:` with a
//!   token name, so a mangled count line such as `Voice Message 3/1` is an error, not lost.
//! - Bytes: what is read (header names, the values of known headers) must be ASCII without
//!   control characters other than HTAB; the values of skipped headers and everything after the
//!   blank line may hold any bytes, non-UTF-8 included.
//! - `Message-Account` must be a URI (`scheme:rest`, visible ASCII, at most [`MAX_ACCOUNT_LEN`]
//!   bytes); it is kept as sent. [`uri_user`] extracts the user part of sip:, sips: and tel: URIs.
//! - Values are reported as sent: urgent counts are not checked against new/old, and
//!   `Messages-Waiting` is not reconciled with the counts (its `yes` may come from another class).
//!
//! Error texts are short, single-line ASCII and never echo the body, so they can serve as a SIP
//! reason phrase.

use std::fmt;

use super::counts::{parse_count, CountError};

/// Largest body accepted, in bytes. Real summaries are a few hundred bytes; the cap bounds the
/// work and memory a NOTIFY can cost.
pub const MAX_BODY_LEN: usize = 8 * 1024;

/// Longest `Message-Account` URI accepted, in bytes (one of the 2026 advisories against
/// Asterisk's parser was a stack overflow on a long Message-Account).
pub const MAX_ACCOUNT_LEN: usize = 512;

/// A message-context-class of RFC 3458 that may carry counts in a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageClass {
    Voice,
    Fax,
    Pager,
    Multimedia,
    Text,
    /// The class `none`: messages without a class.
    None,
}

impl MessageClass {
    /// Every class, in the order [`MessageSummary::classes`] reports them.
    pub const ALL: [MessageClass; 6] =
        [Self::Voice, Self::Fax, Self::Pager, Self::Multimedia, Self::Text, Self::None];

    /// The header name, as the RFC spells it (matched case-insensitively when parsing).
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Voice => "Voice-Message",
            Self::Fax => "Fax-Message",
            Self::Pager => "Pager-Message",
            Self::Multimedia => "Multimedia-Message",
            Self::Text => "Text-Message",
            Self::None => "None",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Voice => 0,
            Self::Fax => 1,
            Self::Pager => 2,
            Self::Multimedia => 3,
            Self::Text => 4,
            Self::None => 5,
        }
    }
}

impl fmt::Display for MessageClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_name())
    }
}

/// The counts of one message class: `new/old (new_urgent/old_urgent)`; urgent counts that were
/// not sent are 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClassCounts {
    pub new: u32,
    pub old: u32,
    pub new_urgent: u32,
    pub old_urgent: u32,
}

/// A parsed message-summary body.
///
/// # Invariants
/// - `account`, when present, is 1 to [`MAX_ACCOUNT_LEN`] bytes of visible ASCII (0x21..=0x7E)
///   of the form `scheme:rest`: no whitespace, control character or NUL, so it can be logged or
///   handed to C as it is.
/// - Each class has at most one entry (the array is indexed by class).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSummary {
    waiting: bool,
    account: Option<String>,
    classes: [Option<ClassCounts>; 6],
}

/// A header of the summary part that this parser reads (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryHeader {
    MessagesWaiting,
    MessageAccount,
    Class(MessageClass),
}

impl SummaryHeader {
    /// The header named `name` (case-insensitive), if it is one we read.
    fn from_name(name: &[u8]) -> Option<Self> {
        if name.eq_ignore_ascii_case(b"messages-waiting") {
            return Some(Self::MessagesWaiting);
        }
        if name.eq_ignore_ascii_case(b"message-account") {
            return Some(Self::MessageAccount);
        }
        MessageClass::ALL
            .into_iter()
            .find(|c| name.eq_ignore_ascii_case(c.header_name().as_bytes()))
            .map(Self::Class)
    }
}

impl fmt::Display for SummaryHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MessagesWaiting => f.write_str("Messages-Waiting"),
            Self::MessageAccount => f.write_str("Message-Account"),
            Self::Class(c) => f.write_str(c.header_name()),
        }
    }
}

/// Which of the four counts of a class line (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountField {
    New,
    Old,
    NewUrgent,
    OldUrgent,
}

impl fmt::Display for CountField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::New => "new",
            Self::Old => "old",
            Self::NewUrgent => "new-urgent",
            Self::OldUrgent => "old-urgent",
        })
    }
}

/// Why a body is not a valid message summary. Lines are numbered from 1 as the body's line ends
/// split them. The `Display` text is one short ASCII line that never quotes the body: fit for
/// a "400 Bad Request" reason phrase or a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryError {
    TooLarge,
    MissingMessagesWaiting,
    /// Neither empty nor `name: value` with a token name.
    NotAHeader {
        line: usize,
    },
    /// A control character (other than HTAB) or a non-ASCII byte in a header we read.
    BadCharacter {
        line: usize,
        header: SummaryHeader,
    },
    /// A second line of a header that may appear once.
    Duplicate {
        line: usize,
        header: SummaryHeader,
    },
    BadWaiting {
        line: usize,
    },
    BadAccount {
        line: usize,
    },
    AccountTooLong {
        line: usize,
    },
    /// The class line is not `new/old` or `new/old (new-urgent/old-urgent)`.
    BadCounts {
        line: usize,
        class: MessageClass,
    },
    /// The shape is right but one count is not in 0..=4294967295.
    BadCount {
        line: usize,
        class: MessageClass,
        field: CountField,
        error: CountError,
    },
}

impl fmt::Display for SummaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => write!(f, "message-summary body larger than {MAX_BODY_LEN} bytes"),
            Self::MissingMessagesWaiting => write!(f, "no Messages-Waiting line in the message summary"),
            Self::NotAHeader { line } => write!(f, "line {line} is not a 'Name: value' header"),
            Self::BadCharacter { line, header } => {
                write!(f, "line {line}: {header} has a control or non-ASCII character")
            }
            Self::Duplicate { line, header } => write!(f, "line {line}: second {header} line"),
            Self::BadWaiting { line } => write!(f, "line {line}: Messages-Waiting must be yes or no"),
            Self::BadAccount { line } => {
                write!(f, "line {line}: Message-Account is not an absolute URI (scheme:rest)")
            }
            Self::AccountTooLong { line } => {
                write!(f, "line {line}: Message-Account is longer than {MAX_ACCOUNT_LEN} bytes")
            }
            Self::BadCounts { line, class } => {
                write!(f, "line {line}: {class} must be new/old or new/old (new-urgent/old-urgent)")
            }
            Self::BadCount { line, class, field, error } => {
                write!(f, "line {line}: {class} {field} count {error}")
            }
        }
    }
}

impl std::error::Error for SummaryError {}

impl MessageSummary {
    /// Parses a message-summary body (see the module documentation for the rules).
    pub fn parse(body: &[u8]) -> Result<Self, SummaryError> {
        if body.len() > MAX_BODY_LEN {
            return Err(SummaryError::TooLarge);
        }
        let mut waiting = None;
        let mut account = None;
        let mut classes = [None; 6];
        for (line, text) in summary_lines(body) {
            let (name, value) = split_header(&text).ok_or(SummaryError::NotAHeader { line })?;
            let Some(header) = SummaryHeader::from_name(name) else {
                continue;
            };
            let value = read_value(value).ok_or(SummaryError::BadCharacter { line, header })?;
            match header {
                SummaryHeader::MessagesWaiting => {
                    if waiting.is_some() {
                        return Err(SummaryError::Duplicate { line, header });
                    }
                    waiting = Some(parse_waiting(line, value)?);
                }
                SummaryHeader::MessageAccount => {
                    if account.is_some() {
                        return Err(SummaryError::Duplicate { line, header });
                    }
                    account = Some(parse_account(line, value)?);
                }
                SummaryHeader::Class(class) => {
                    let slot = &mut classes[class.index()];
                    if slot.is_some() {
                        return Err(SummaryError::Duplicate { line, header });
                    }
                    *slot = Some(parse_counts(line, class, value)?);
                }
            }
        }
        let waiting = waiting.ok_or(SummaryError::MissingMessagesWaiting)?;
        Ok(Self { waiting, account, classes })
    }

    /// The `Messages-Waiting` value: `yes` is true.
    pub fn waiting(&self) -> bool {
        self.waiting
    }

    /// The `Message-Account` URI as sent, if any.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// The user part of the `Message-Account` URI (see [`uri_user`]), if any.
    pub fn account_user(&self) -> Option<&str> {
        self.account().and_then(uri_user)
    }

    /// The counts sent for `class`, if its line was present.
    pub fn counts(&self, class: MessageClass) -> Option<ClassCounts> {
        self.classes[class.index()]
    }

    /// Every class that had a line, in [`MessageClass::ALL`] order.
    pub fn classes(&self) -> impl Iterator<Item = (MessageClass, ClassCounts)> + '_ {
        MessageClass::ALL.into_iter().filter_map(|c| self.counts(c).map(|counts| (c, counts)))
    }

    /// True when the body carried only the status (no class line): the sender says whether
    /// messages wait, not how many.
    pub fn is_status_only(&self) -> bool {
        self.classes.iter().all(Option::is_none)
    }
}

/// The user part of a `sip:`, `sips:` or `tel:` URI (scheme case-insensitive), for mapping a
/// Message-Account to a mailbox: `sip:1001@vm.example` and `sips:1001:pw@host;transport=tls`
/// give `1001`, `tel:+15551234;phone-context=example.com` gives `+15551234`. Parameters of a
/// telephone-subscriber user (`;...`) and a password (`:...`) are dropped; percent-escapes are
/// not decoded. None for other schemes, a sip/sips URI without `user@`, or an empty user.
pub fn uri_user(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once(':')?;
    let user = if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        // '@' is not allowed unescaped anywhere but after the userinfo of a SIP URI.
        let (userinfo, _host) = rest.split_once('@')?;
        let user = userinfo.split(':').next().unwrap_or(userinfo);
        user.split(';').next().unwrap_or(user)
    } else if scheme.eq_ignore_ascii_case("tel") {
        rest.split(';').next().unwrap_or(rest)
    } else {
        return None;
    };
    (!user.is_empty()).then_some(user)
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim_wsp(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if !is_wsp(*first) {
            break;
        }
        bytes = rest;
    }
    while let [rest @ .., last] = bytes {
        if !is_wsp(*last) {
            break;
        }
        bytes = rest;
    }
    bytes
}

/// The physical lines of a body with their numbers (from 1), without their line ends; CRLF, LF
/// and a bare CR each end a line.
struct Lines<'a> {
    rest: &'a [u8],
    number: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.number += 1;
        let rest = self.rest;
        let (line, after) = match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
            None => (rest, &rest[rest.len()..]),
            Some(end) => {
                let crlf = rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n');
                (&rest[..end], &rest[end + if crlf { 2 } else { 1 }..])
            }
        };
        self.rest = after;
        Some((self.number, line))
    }
}

/// The logical lines of the summary part: numbered by their first physical line, trimmed of
/// SP/HTAB, folded continuation lines joined with one space, ending at the first empty line
/// after the first header.
fn summary_lines(body: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out: Vec<(usize, Vec<u8>)> = Vec::new();
    for (number, line) in (Lines { rest: body, number: 0 }) {
        if line.is_empty() {
            if out.is_empty() {
                continue;
            }
            break;
        }
        let content = trim_wsp(line);
        if content.is_empty() {
            continue;
        }
        if line.first().copied().is_some_and(is_wsp) {
            if let Some((_, previous)) = out.last_mut() {
                previous.push(b' ');
                previous.extend_from_slice(content);
                continue;
            }
        }
        out.push((number, content.to_vec()));
    }
    out
}

/// RFC 3261 token characters, the only ones a header name may hold.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// `name: value` split at the first colon, both trimmed; None unless the name is a token.
fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = trim_wsp(&line[..colon]);
    let value = trim_wsp(&line[colon + 1..]);
    (!name.is_empty() && name.iter().all(|&b| is_token_byte(b))).then_some((name, value))
}

/// The value as text if it holds only printable ASCII and HTAB.
fn read_value(value: &[u8]) -> Option<&str> {
    if value.iter().all(|&b| b == b'\t' || (0x20..=0x7e).contains(&b)) {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

fn parse_waiting(line: usize, value: &str) -> Result<bool, SummaryError> {
    if value.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err(SummaryError::BadWaiting { line })
    }
}

/// Checks the shape `scheme ":" 1*char` (RFC 3986 scheme), visible ASCII only.
fn parse_account(line: usize, value: &str) -> Result<String, SummaryError> {
    if value.len() > MAX_ACCOUNT_LEN {
        return Err(SummaryError::AccountTooLong { line });
    }
    let bad = SummaryError::BadAccount { line };
    if !value.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(bad);
    }
    let (scheme, rest) = value.split_once(':').ok_or_else(|| bad.clone())?;
    let mut scheme_bytes = scheme.bytes();
    let scheme_ok = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok || rest.is_empty() {
        return Err(bad);
    }
    Ok(value.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Word(&'a str),
    Slash,
    Open,
    Close,
}

/// Splits a class value into counts (maximal runs of other characters), `/`, `(` and `)`,
/// dropping SP/HTAB.
fn tokens(value: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut word_start = None;
    for (i, b) in value.bytes().enumerate() {
        let punct = match b {
            b'/' => Some(Token::Slash),
            b'(' => Some(Token::Open),
            b')' => Some(Token::Close),
            _ => None,
        };
        if punct.is_some() || is_wsp(b) {
            if let Some(start) = word_start.take() {
                out.push(Token::Word(&value[start..i]));
            }
            out.extend(punct);
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(start) = word_start {
        out.push(Token::Word(&value[start..]));
    }
    out
}

fn parse_counts(line: usize, class: MessageClass, value: &str) -> Result<ClassCounts, SummaryError> {
    use Token::{Close, Open, Slash, Word};
    let count = |field: CountField, text: &str| {
        parse_count(text).map_err(|error| SummaryError::BadCount { line, class, field, error })
    };
    match tokens(value).as_slice() {
        [Word(new), Slash, Word(old)] => Ok(ClassCounts {
            new: count(CountField::New, new)?,
            old: count(CountField::Old, old)?,
            new_urgent: 0,
            old_urgent: 0,
        }),
        [Word(new), Slash, Word(old), Open, Word(new_urgent), Slash, Word(old_urgent), Close] => {
            Ok(ClassCounts {
                new: count(CountField::New, new)?,
                old: count(CountField::Old, old)?,
                new_urgent: count(CountField::NewUrgent, new_urgent)?,
                old_urgent: count(CountField::OldUrgent, old_urgent)?,
            })
        }
        _ => Err(SummaryError::BadCounts { line, class }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<MessageSummary, SummaryError> {
        MessageSummary::parse(body.as_bytes())
    }

    fn counts(new: u32, old: u32, new_urgent: u32, old_urgent: u32) -> ClassCounts {
        ClassCounts { new, old, new_urgent, old_urgent }
    }

    fn voice(body: &str) -> Option<ClassCounts> {
        parse(body).unwrap().counts(MessageClass::Voice)
    }

    // The cases Asterisk's parser gets wrong (asterisk-notes.md, "Incoming unsolicited NOTIFY").

    #[test]
    fn status_only_body_is_valid() {
        for body in ["Messages-Waiting: yes", "Messages-Waiting: yes\r\n"] {
            let s = parse(body).unwrap();
            assert!(s.waiting() && s.is_status_only(), "{body:?}");
            assert_eq!(s.account(), None);
            assert_eq!(s.classes().count(), 0);
        }
        let s = parse("Messages-Waiting: no\r\n").unwrap();
        assert!(!s.waiting() && s.is_status_only());
    }

    #[test]
    fn status_only_with_blank_line_is_still_status_only() {
        for body in
            ["Messages-Waiting: yes\r\n\r\n", "Messages-Waiting: yes\n\n", "Messages-Waiting: yes\r\r"]
        {
            let s = parse(body).unwrap();
            assert!(s.waiting() && s.is_status_only(), "{body:?}");
        }
    }

    #[test]
    fn whitespace_before_the_colon() {
        assert_eq!(voice("Messages-Waiting : yes\r\nVoice-Message : 3/1\r\n"), Some(counts(3, 1, 0, 0)));
        assert_eq!(voice("Messages-Waiting\t:\tyes\r\nVoice-Message\t:3/1\r\n"), Some(counts(3, 1, 0, 0)));
    }

    #[test]
    fn whitespace_around_slash_and_parentheses() {
        assert_eq!(voice("Messages-Waiting: yes\r\nVoice-Message: 3 / 1\r\n"), Some(counts(3, 1, 0, 0)));
        assert_eq!(
            voice("Messages-Waiting: yes\r\nVoice-Message : 3 / 1 ( 1 / 0 )\r\n"),
            Some(counts(3, 1, 1, 0))
        );
        assert_eq!(voice("Messages-Waiting: yes\r\nVoice-Message:3/1(1/0)\r\n"), Some(counts(3, 1, 1, 0)));
        assert_eq!(
            voice("Messages-Waiting: yes\r\nVoice-Message:\t3\t/\t1\t(\t2\t/\t1\t)\t\r\n"),
            Some(counts(3, 1, 2, 1))
        );
    }

    #[test]
    fn bare_cr_and_mixed_line_ends() {
        assert_eq!(voice("Messages-Waiting: yes\rVoice-Message: 3/1\r"), Some(counts(3, 1, 0, 0)));
        let s =
            parse("Messages-Waiting: yes\rMessage-Account: sip:1@h\nVoice-Message: 3/1\r\nFax-Message: 1/2")
                .unwrap();
        assert_eq!(s.account(), Some("sip:1@h"));
        assert_eq!(s.counts(MessageClass::Voice), Some(counts(3, 1, 0, 0)));
        assert_eq!(s.counts(MessageClass::Fax), Some(counts(1, 2, 0, 0)));
        // A bare-CR blank line ends the summary too.
        assert_eq!(voice("Messages-Waiting: yes\r\rVoice-Message: 3/1\r"), None);
    }

    #[test]
    fn fax_only_body() {
        let s = parse("Messages-Waiting: yes\r\nFax-Message: 2/0\r\n").unwrap();
        assert_eq!(s.counts(MessageClass::Voice), None);
        assert_eq!(s.counts(MessageClass::Fax), Some(counts(2, 0, 0, 0)));
        assert!(!s.is_status_only());
        assert_eq!(s.classes().collect::<Vec<_>>(), vec![(MessageClass::Fax, counts(2, 0, 0, 0))]);
    }

    #[test]
    fn negative_counts_are_refused() {
        for (body, field) in [
            ("Voice-Message: -1/0", CountField::New),
            ("Voice-Message: 1/-1", CountField::Old),
            ("Voice-Message: 1/1 (-1/0)", CountField::NewUrgent),
            ("Voice-Message: 1/1 (0/-2147483648)", CountField::OldUrgent),
        ] {
            let body = format!("Messages-Waiting: yes\r\n{body}\r\n");
            assert_eq!(
                parse(&body),
                Err(SummaryError::BadCount {
                    line: 2,
                    class: MessageClass::Voice,
                    field,
                    error: CountError::Negative
                }),
                "{body:?}"
            );
        }
    }

    #[test]
    fn counts_cover_u32_and_never_wrap() {
        assert_eq!(
            voice("Messages-Waiting: yes\r\nVoice-Message: 4294967295/2147483648 (4294967295/0)"),
            Some(counts(u32::MAX, 1 << 31, u32::MAX, 0))
        );
        for (body, field) in [
            ("Voice-Message: 4294967296/0", CountField::New),
            ("Voice-Message: 0/99999999999999999999", CountField::Old),
            ("Voice-Message: 0/0 (4294967296/0)", CountField::NewUrgent),
            ("Voice-Message: 0/0 (0/18446744073709551617)", CountField::OldUrgent),
        ] {
            let body = format!("Messages-Waiting: yes\r\n{body}\r\n");
            assert_eq!(
                parse(&body),
                Err(SummaryError::BadCount {
                    line: 2,
                    class: MessageClass::Voice,
                    field,
                    error: CountError::TooLarge
                }),
                "{body:?}"
            );
        }
    }

    #[test]
    fn lines_after_the_blank_line_are_never_read() {
        let s = parse(
            "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n\r\nVoice-Message: 9/9\r\nFax-Message: 5/5\r\n\
             Messages-Waiting: no\r\ngarbage without colon\r\nX: \x01\r\n",
        )
        .unwrap();
        assert!(s.waiting());
        assert_eq!(s.classes().collect::<Vec<_>>(), vec![(MessageClass::Voice, counts(1, 0, 0, 0))]);
        // Not even their bytes: invalid UTF-8 and control bytes after the blank line are fine.
        let mut body = b"Messages-Waiting: no\n\n".to_vec();
        body.extend_from_slice(&[0xff, 0xfe, 0, b'\r', 0x80, b'\n', b':']);
        assert!(!MessageSummary::parse(&body).unwrap().waiting());
        // Messages-Waiting only after the blank line is missing from the summary.
        assert_eq!(
            parse("Voice-Message: 1/0\r\n\r\nMessages-Waiting: yes\r\n"),
            Err(SummaryError::MissingMessagesWaiting)
        );
    }

    // The rest of the grammar.

    #[test]
    fn rfc_3842_example() {
        let s = parse(
            "Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\n\
             Voice-Message: 4/8 (1/2)\r\n\r\n",
        )
        .unwrap();
        assert!(s.waiting());
        assert_eq!(s.account(), Some("sip:alice@vmail.example.com"));
        assert_eq!(s.account_user(), Some("alice"));
        assert_eq!(s.counts(MessageClass::Voice), Some(counts(4, 8, 1, 2)));
    }

    #[test]
    fn every_class_with_urgent_counts() {
        let s = parse(
            "Messages-Waiting: yes\r\nVoice-Message: 1/2 (3/4)\r\nFax-Message: 5/6\r\n\
             Pager-Message: 7/8 (0/1)\r\nMultimedia-Message: 9/10 (11/12)\r\nText-Message: 13/14\r\n\
             None: 15/16 (17/18)\r\n",
        )
        .unwrap();
        assert_eq!(
            s.classes().collect::<Vec<_>>(),
            vec![
                (MessageClass::Voice, counts(1, 2, 3, 4)),
                (MessageClass::Fax, counts(5, 6, 0, 0)),
                (MessageClass::Pager, counts(7, 8, 0, 1)),
                (MessageClass::Multimedia, counts(9, 10, 11, 12)),
                (MessageClass::Text, counts(13, 14, 0, 0)),
                (MessageClass::None, counts(15, 16, 17, 18)),
            ]
        );
    }

    #[test]
    fn names_and_yes_no_are_case_insensitive() {
        let s = parse("MESSAGES-WAITING: YeS\r\nmessage-account: SIP:1001@H\r\nvOiCe-MeSsAgE: 2/3 (1/1)\r\n")
            .unwrap();
        assert!(s.waiting());
        assert_eq!(s.account(), Some("SIP:1001@H"));
        assert_eq!(s.account_user(), Some("1001"));
        assert_eq!(s.counts(MessageClass::Voice), Some(counts(2, 3, 1, 1)));
        assert!(!parse("messages-waiting: NO").unwrap().waiting());
    }

    #[test]
    fn messages_waiting_may_stand_anywhere_in_the_summary() {
        let s = parse("Voice-Message: 3/1\r\nMessage-Account: sip:1@h\r\nMessages-Waiting: yes\r\n").unwrap();
        assert!(s.waiting());
        assert_eq!(s.counts(MessageClass::Voice), Some(counts(3, 1, 0, 0)));
        assert_eq!(parse(""), Err(SummaryError::MissingMessagesWaiting));
        assert_eq!(parse("\r\n\r\n"), Err(SummaryError::MissingMessagesWaiting));
        assert_eq!(parse("Voice-Message: 3/1\r\n"), Err(SummaryError::MissingMessagesWaiting));
    }

    #[test]
    fn messages_waiting_value_is_yes_or_no() {
        for value in ["", "true", "1", "yes please", "y", "ye s", "\u{e9}"] {
            let body = format!("Messages-Waiting: {value}\r\n");
            assert!(parse(&body).is_err(), "{body:?}");
        }
        assert_eq!(parse("Messages-Waiting: maybe"), Err(SummaryError::BadWaiting { line: 1 }));
    }

    #[test]
    fn leading_blank_lines_and_whitespace_lines() {
        assert_eq!(
            voice("\r\n\r\nMessages-Waiting: yes\r\nVoice-Message: 1/0\r\n"),
            Some(counts(1, 0, 0, 0))
        );
        // A whitespace-only line folds nothing into the previous line: not the end of the summary.
        assert_eq!(
            voice("Messages-Waiting: yes\r\n \t \r\nVoice-Message: 1/0\r\n"),
            Some(counts(1, 0, 0, 0))
        );
        // A line starting with HTAB is a continuation, even of a header name.
        assert_eq!(
            parse("  Messages-Waiting: yes  \r\n\tVoice-Message: 1/0"),
            Err(SummaryError::BadWaiting { line: 1 })
        );
    }

    #[test]
    fn folded_lines_continue_the_previous_one() {
        assert_eq!(
            voice("Messages-Waiting:\r\n yes\r\nVoice-Message:\r\n\t3\r\n /\r\n 1 (1\r\n /0)\r\n"),
            Some(counts(3, 1, 1, 0))
        );
        // Errors name the line where the folded header starts.
        assert_eq!(
            parse("Messages-Waiting: yes\r\nVoice-Message: 3\r\n /\r\n -1\r\n"),
            Err(SummaryError::BadCount {
                line: 2,
                class: MessageClass::Voice,
                field: CountField::Old,
                error: CountError::Negative
            })
        );
    }

    #[test]
    fn malformed_class_lines() {
        for value in [
            "",
            "3",
            "3/",
            "/1",
            "3 1",
            "3//1",
            "3/1/2",
            "3/1 (1)",
            "3/1 (1/0",
            "3/1 1/0)",
            "3/1 (1/0) x",
            "3/1 ()",
            "3/1 (1/0)(0/0)",
            "(3/1)",
            "3/1 (/0)",
        ] {
            let body = format!("Messages-Waiting: yes\r\nVoice-Message: {value}\r\n");
            assert_eq!(
                parse(&body),
                Err(SummaryError::BadCounts { line: 2, class: MessageClass::Voice }),
                "{body:?}"
            );
        }
        for (value, field) in [
            ("+3/1", CountField::New),
            ("3/0x1", CountField::Old),
            ("3/1.0", CountField::Old),
            ("3/1 (a/0)", CountField::NewUrgent),
            ("3/1 (1/-)", CountField::OldUrgent),
        ] {
            let body = format!("Messages-Waiting: yes\r\nVoice-Message: {value}\r\n");
            assert_eq!(
                parse(&body),
                Err(SummaryError::BadCount {
                    line: 2,
                    class: MessageClass::Voice,
                    field,
                    error: CountError::NotANumber
                }),
                "{body:?}"
            );
        }
    }

    #[test]
    fn duplicates_are_errors() {
        use SummaryHeader::*;
        for (body, header) in [
            ("Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nmessages-waiting: no\r\n", MessagesWaiting),
            (
                "Messages-Waiting: yes\r\nMessage-Account: sip:a@b\r\nmessage-account: sip:a@b\r\n",
                MessageAccount,
            ),
            (
                "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nVOICE-MESSAGE: 1/0\r\n",
                Class(MessageClass::Voice),
            ),
        ] {
            let line = 3;
            assert_eq!(parse(body), Err(SummaryError::Duplicate { line, header }), "{body:?}");
        }
        assert!(parse("Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nFax-Message: 1/0\r\n").is_ok());
    }

    #[test]
    fn unknown_headers_in_the_summary_are_skipped() {
        let s = parse(
            "Messages-Waiting: yes\r\nVideo-Message: 7/7\r\nX-Vendor: \u{e9} \x01 anything\r\n\
             Voice-Message: 1/0\r\nMessage-Context: whatever\r\n",
        )
        .unwrap();
        assert_eq!(s.classes().collect::<Vec<_>>(), vec![(MessageClass::Voice, counts(1, 0, 0, 0))]);
        let mut body = b"Messages-Waiting: yes\r\nX-Binary: ".to_vec();
        body.extend_from_slice(&[0xff, 0x00, 0xc0]);
        assert!(MessageSummary::parse(&body).unwrap().waiting());
    }

    #[test]
    fn lines_that_are_not_headers_are_errors() {
        for line in [
            "Voice Message: 3/1",
            "Voice-Message 3/1",
            ": 3/1",
            "garbage",
            "V\u{f6}ice-Message: 3/1",
            "X\0: 1",
        ] {
            let body = format!("Messages-Waiting: yes\r\n{line}\r\n");
            assert_eq!(parse(&body), Err(SummaryError::NotAHeader { line: 2 }), "{body:?}");
        }
    }

    #[test]
    fn control_and_non_ascii_bytes_in_read_headers_are_errors() {
        for (line, header) in [
            ("Voice-Message: 3/1\x00", SummaryHeader::Class(MessageClass::Voice)),
            ("Voice-Message: \u{663}/1", SummaryHeader::Class(MessageClass::Voice)),
            ("Message-Account: sip:\x1b[2J@h", SummaryHeader::MessageAccount),
            ("Message-Account: sip:b\u{f6}b@h", SummaryHeader::MessageAccount),
        ] {
            let body = format!("Messages-Waiting: yes\r\n{line}\r\n");
            assert_eq!(parse(&body), Err(SummaryError::BadCharacter { line: 2, header }), "{body:?}");
        }
        let mut body = b"Messages-Waiting: ".to_vec();
        body.extend_from_slice(&[0xff, b'\r', b'\n']);
        assert_eq!(
            MessageSummary::parse(&body),
            Err(SummaryError::BadCharacter { line: 1, header: SummaryHeader::MessagesWaiting })
        );
    }

    #[test]
    fn message_account_must_be_an_absolute_uri() {
        for value in ["", "1001", "<sip:1001@h>", "sip:", ":1001", "1sip:x", "sip:10 01@h", "s_p:x"] {
            let body = format!("Messages-Waiting: yes\r\nMessage-Account: {value}\r\n");
            assert_eq!(parse(&body), Err(SummaryError::BadAccount { line: 2 }), "{body:?}");
        }
        for value in ["sip:1001@vm.example", "tel:+15551234", "mailto:a@b", "urn:x", "x-Vm+1.2:y"] {
            let body = format!("Messages-Waiting: yes\r\nMessage-Account:{value} \r\n");
            assert_eq!(parse(&body).unwrap().account(), Some(value), "{body:?}");
        }
    }

    #[test]
    fn uri_user_of_sip_sips_and_tel() {
        for (uri, user) in [
            ("sip:1001@vm.example", Some("1001")),
            ("sips:1001@host;transport=tls", Some("1001")),
            ("SIPS:1001:secret@host:5061", Some("1001")),
            ("sip:+15551234;phone-context=example.com@gw;user=phone", Some("+15551234")),
            ("tel:+15551234", Some("+15551234")),
            ("TEL:+1-555-1234;phone-context=example.com", Some("+1-555-1234")),
            ("sip:%31001@h", Some("%31001")),
            ("sip:vm.example", None),
            ("sip:@vm.example", None),
            ("sip::pw@vm.example", None),
            ("tel:", None),
            ("tel:;x", None),
            ("mailto:1001@example.com", None),
            ("http://x@y", None),
            ("1001", None),
        ] {
            assert_eq!(uri_user(uri), user, "{uri:?}");
        }
        assert_eq!(
            parse("Messages-Waiting: no\nMessage-Account: sip:vm.example").unwrap().account_user(),
            None
        );
    }

    #[test]
    fn size_caps() {
        let head = "Messages-Waiting: yes\r\n\r\n";
        let at_cap = format!("{head}{}", "x".repeat(MAX_BODY_LEN - head.len()));
        assert!(parse(&at_cap).is_ok());
        let over = format!("{at_cap}x");
        assert_eq!(parse(&over), Err(SummaryError::TooLarge));

        let uri = |len: usize| format!("sip:{}@h", "1".repeat(len - "sip:@h".len()));
        let body = format!("Messages-Waiting: yes\r\nMessage-Account: {}\r\n", uri(MAX_ACCOUNT_LEN));
        assert_eq!(parse(&body).unwrap().account().map(str::len), Some(MAX_ACCOUNT_LEN));
        let body = format!("Messages-Waiting: yes\r\nMessage-Account: {}\r\n", uri(MAX_ACCOUNT_LEN + 1));
        assert_eq!(parse(&body), Err(SummaryError::AccountTooLong { line: 2 }));
    }

    #[test]
    fn line_numbers_count_every_line_end() {
        assert_eq!(
            parse("\r\n\nMessages-Waiting: yes\rX: 1\r\n\tfolded\nVoice-Message: 1/x\r\n"),
            Err(SummaryError::BadCount {
                line: 6,
                class: MessageClass::Voice,
                field: CountField::Old,
                error: CountError::NotANumber
            })
        );
    }

    #[test]
    fn error_texts_are_short_single_ascii_lines() {
        let errors = [
            SummaryError::TooLarge,
            SummaryError::MissingMessagesWaiting,
            SummaryError::NotAHeader { line: 2 },
            SummaryError::BadCharacter { line: 2, header: SummaryHeader::MessageAccount },
            SummaryError::Duplicate { line: 3, header: SummaryHeader::Class(MessageClass::Multimedia) },
            SummaryError::BadWaiting { line: 1 },
            SummaryError::BadAccount { line: 2 },
            SummaryError::AccountTooLong { line: 2 },
            SummaryError::BadCounts { line: 3, class: MessageClass::Fax },
            SummaryError::BadCount {
                line: MAX_BODY_LEN,
                class: MessageClass::Multimedia,
                field: CountField::OldUrgent,
                error: CountError::Negative,
            },
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.len() <= 100 && text.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{text:?}");
        }
        assert_eq!(
            parse("Messages-Waiting: yes\r\nVoice-Message: 3/4294967296\r\n").unwrap_err().to_string(),
            "line 2: Voice-Message old count is larger than 4294967295"
        );
        assert_eq!(
            parse("Messages-Waiting: yes\r\nFax-Message: 3 1\r\n").unwrap_err().to_string(),
            "line 2: Fax-Message must be new/old or new/old (new-urgent/old-urgent)"
        );
    }
}
