//! Mailbox identifiers as Asterisk's MWI core knows them: `mailbox@context`.

use std::fmt;

/// Longest mailbox part accepted (Asterisk's AST_MAX_EXTENSION is 80 including the NUL).
pub const MAX_MAILBOX_LEN: usize = 79;
/// Longest context part accepted (Asterisk's AST_MAX_CONTEXT is 80 including the NUL).
pub const MAX_CONTEXT_LEN: usize = 79;

/// A validated `mailbox@context` id.
///
/// # Invariants
/// Both parts are non-empty, within their length limits, and made only of visible ASCII
/// (0x21..=0x7E) other than `@`: no whitespace, control characters (CR/LF could inject AMI or
/// SIP headers) or NUL, so either part can be handed to C as a string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxId {
    full: String,
    at: usize,
}

/// Why a text is not a mailbox id. The `Display` text is what the admin reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxIdError {
    Empty,
    MissingContext,
    EmptyMailbox,
    EmptyContext,
    MailboxTooLong,
    ContextTooLong,
    /// A second `@`.
    ExtraAt,
    /// Whitespace, a control character or a non-ASCII character, at this byte offset.
    BadCharacter {
        offset: usize,
        byte: u8,
    },
}

impl fmt::Display for MailboxIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the mailbox id is empty"),
            Self::MissingContext => {
                write!(f, "the mailbox id must have the form mailbox@context")
            }
            Self::EmptyMailbox => write!(f, "the mailbox part before '@' is empty"),
            Self::EmptyContext => write!(f, "the context part after '@' is empty"),
            Self::MailboxTooLong => {
                write!(f, "the mailbox part is longer than {MAX_MAILBOX_LEN} characters")
            }
            Self::ContextTooLong => {
                write!(f, "the context part is longer than {MAX_CONTEXT_LEN} characters")
            }
            Self::ExtraAt => write!(f, "the mailbox id contains more than one '@'"),
            Self::BadCharacter { offset, byte } => write_forbidden_character(f, *offset, *byte),
        }
    }
}

impl std::error::Error for MailboxIdError {}

/// Visible ASCII (0x21..=0x7E): what every mailbox id, of any kind, is made of.
pub(crate) fn is_visible_ascii(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

/// The admin's text for a byte outside [`is_visible_ascii`] at `offset` (0-based).
pub(crate) fn write_forbidden_character(f: &mut fmt::Formatter<'_>, offset: usize, byte: u8) -> fmt::Result {
    write!(
        f,
        "the mailbox id contains a forbidden character (byte 0x{byte:02x} at position {}): \
         only visible ASCII, no whitespace or control characters",
        offset + 1
    )
}

/// True for the bytes the two parts of a `mailbox@context` id may hold.
fn allowed(b: u8) -> bool {
    is_visible_ascii(b) && b != b'@'
}

impl MailboxId {
    /// Validates `text` as `mailbox@context`.
    pub fn parse(text: &str) -> Result<Self, MailboxIdError> {
        if text.is_empty() {
            return Err(MailboxIdError::Empty);
        }
        let bytes = text.as_bytes();
        let mut at = None;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'@' {
                if at.is_some() {
                    return Err(MailboxIdError::ExtraAt);
                }
                at = Some(i);
            } else if !allowed(b) {
                return Err(MailboxIdError::BadCharacter { offset: i, byte: b });
            }
        }
        let at = at.ok_or(MailboxIdError::MissingContext)?;
        if at == 0 {
            return Err(MailboxIdError::EmptyMailbox);
        }
        if at + 1 == bytes.len() {
            return Err(MailboxIdError::EmptyContext);
        }
        if at > MAX_MAILBOX_LEN {
            return Err(MailboxIdError::MailboxTooLong);
        }
        if bytes.len() - at - 1 > MAX_CONTEXT_LEN {
            return Err(MailboxIdError::ContextTooLong);
        }
        Ok(Self { full: text.to_owned(), at })
    }

    /// The mailbox part, before `@`.
    pub fn mailbox(&self) -> &str {
        &self.full[..self.at]
    }

    /// The context part, after `@`.
    pub fn context(&self) -> &str {
        &self.full[self.at + 1..]
    }

    /// `mailbox@context`, the stasis unique id.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MailboxId({:?})", self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_mailbox_and_context() {
        let id = MailboxId::parse("1000@default").unwrap();
        assert_eq!(id.mailbox(), "1000");
        assert_eq!(id.context(), "default");
        assert_eq!(id.as_str(), "1000@default");
        assert_eq!(id.to_string(), "1000@default");
    }

    #[test]
    fn rejects_malformed_ids() {
        use MailboxIdError::*;
        assert_eq!(MailboxId::parse(""), Err(Empty));
        assert_eq!(MailboxId::parse("1000"), Err(MissingContext));
        assert_eq!(MailboxId::parse("@default"), Err(EmptyMailbox));
        assert_eq!(MailboxId::parse("1000@"), Err(EmptyContext));
        assert_eq!(MailboxId::parse("1@2@3"), Err(ExtraAt));
    }

    #[test]
    fn rejects_whitespace_control_and_non_ascii() {
        for (text, offset, byte) in [
            ("10 00@default", 2, b' '),
            ("1000@def\tault", 8, b'\t'),
            ("1000\r\nEvent: x@default", 4, b'\r'),
            ("1000@default\n", 12, b'\n'),
            ("1000\0@default", 4, 0),
            ("1000@d\x7f", 6, 0x7f),
        ] {
            assert_eq!(
                MailboxId::parse(text),
                Err(MailboxIdError::BadCharacter { offset, byte }),
                "{text:?}"
            );
        }
        assert!(matches!(
            MailboxId::parse("bo\u{00ee}te@default"),
            Err(MailboxIdError::BadCharacter { offset: 2, byte: 0xc3 })
        ));
    }

    #[test]
    fn enforces_length_limits() {
        let ok = format!("{}@{}", "m".repeat(MAX_MAILBOX_LEN), "c".repeat(MAX_CONTEXT_LEN));
        assert!(MailboxId::parse(&ok).is_ok());
        let long_mailbox = format!("{}@c", "m".repeat(MAX_MAILBOX_LEN + 1));
        assert_eq!(MailboxId::parse(&long_mailbox), Err(MailboxIdError::MailboxTooLong));
        let long_context = format!("m@{}", "c".repeat(MAX_CONTEXT_LEN + 1));
        assert_eq!(MailboxId::parse(&long_context), Err(MailboxIdError::ContextTooLong));
    }

    #[test]
    fn error_texts_are_readable() {
        let e = MailboxId::parse("a b@c").unwrap_err().to_string();
        assert!(e.contains("0x20") && e.contains("position 2"), "{e}");
    }
}
