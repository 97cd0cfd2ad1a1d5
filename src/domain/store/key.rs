//! The id under which the store keeps a mailbox: verbatim, as res_mwi_external keeps it.

use std::fmt;

use crate::domain::mailbox::{is_visible_ascii, write_forbidden_character, MailboxId};

/// Longest mailbox key accepted, in bytes: room for the longest `mailbox@context` (159 bytes)
/// with one to spare.
pub const MAX_KEY_LEN: usize = 160;

/// A validated mailbox id as stored: the stasis unique id, kept verbatim.
///
/// Unlike [`MailboxId`], no `mailbox@context` shape is required: res_mwi_external accepts any
/// id, and `1234` and `1234@default` are two different mailboxes.
///
/// # Invariants
/// 1 to [`MAX_KEY_LEN`] bytes, each visible ASCII (0x21..=0x7E): no whitespace, CR/LF (which
/// could inject AMI or SIP headers), other control characters, NUL or non-ASCII. The key can
/// therefore be handed to C as a string and printed on one line. Ordering is bytewise, the same
/// as SQLite's `BINARY` collation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxKey(String);

/// Why a text is not a mailbox key. The `Display` text is what the admin reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxKeyError {
    Empty,
    /// Longer than [`MAX_KEY_LEN`] bytes; the length found.
    TooLong(usize),
    /// Whitespace, a control character or a non-ASCII character, at this byte offset.
    BadCharacter {
        offset: usize,
        byte: u8,
    },
}

impl fmt::Display for MailboxKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the mailbox id is empty"),
            Self::TooLong(len) => {
                write!(f, "the mailbox id is {len} characters long; at most {MAX_KEY_LEN} are allowed")
            }
            Self::BadCharacter { offset, byte } => write_forbidden_character(f, *offset, *byte),
        }
    }
}

impl std::error::Error for MailboxKeyError {}

impl MailboxKey {
    /// Validates `text` as a mailbox key (see the type's invariants).
    pub fn parse(text: &str) -> Result<Self, MailboxKeyError> {
        if text.is_empty() {
            return Err(MailboxKeyError::Empty);
        }
        if let Some(offset) = text.bytes().position(|b| !is_visible_ascii(b)) {
            return Err(MailboxKeyError::BadCharacter { offset, byte: text.as_bytes()[offset] });
        }
        if text.len() > MAX_KEY_LEN {
            return Err(MailboxKeyError::TooLong(text.len()));
        }
        Ok(Self(text.to_owned()))
    }

    /// The id, exactly as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Every `mailbox@context` id is a valid key (at most 159 bytes of visible ASCII).
impl From<&MailboxId> for MailboxKey {
    fn from(id: &MailboxId) -> Self {
        Self(id.as_str().to_owned())
    }
}

impl fmt::Display for MailboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MailboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MailboxKey({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ids_verbatim() {
        for text in ["1234", "1234@default", "a", "~!#$%^&*()_+{}|:\"<>?`-=[]\\;',./@@"] {
            let key = MailboxKey::parse(text).unwrap();
            assert_eq!(key.as_str(), text);
            assert_eq!(key.to_string(), text);
        }
        assert_ne!(MailboxKey::parse("1234").unwrap(), MailboxKey::parse("1234@default").unwrap());
    }

    #[test]
    fn rejects_whitespace_control_and_non_ascii() {
        for (text, offset, byte) in [
            ("10 00", 2, b' '),
            ("1000@def\tault", 8, b'\t'),
            ("1000\r\nEvent: x", 4, b'\r'),
            ("1000\n", 4, b'\n'),
            ("1000\0", 4, 0),
            ("\x01abc", 0, 1),
            ("1000@d\x7f", 6, 0x7f),
            ("bo\u{00ee}te", 2, 0xc3),
        ] {
            assert_eq!(
                MailboxKey::parse(text),
                Err(MailboxKeyError::BadCharacter { offset, byte }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn enforces_length() {
        assert_eq!(MailboxKey::parse(""), Err(MailboxKeyError::Empty));
        assert!(MailboxKey::parse(&"k".repeat(MAX_KEY_LEN)).is_ok());
        assert_eq!(
            MailboxKey::parse(&"k".repeat(MAX_KEY_LEN + 1)),
            Err(MailboxKeyError::TooLong(MAX_KEY_LEN + 1))
        );
    }

    #[test]
    fn orders_bytewise() {
        let mut keys: Vec<MailboxKey> =
            ["b", "B", "a@x", "a", "1"].iter().map(|t| MailboxKey::parse(t).unwrap()).collect();
        keys.sort();
        let texts: Vec<&str> = keys.iter().map(MailboxKey::as_str).collect();
        assert_eq!(texts, ["1", "B", "a", "a@x", "b"]);
    }

    #[test]
    fn accepts_every_mailbox_id() {
        let longest = format!("{}@{}", "m".repeat(79), "c".repeat(79));
        let id = MailboxId::parse(&longest).unwrap();
        assert_eq!(MailboxKey::from(&id).as_str(), longest);
        assert!(MailboxKey::parse(&longest).is_ok());
    }

    #[test]
    fn error_texts_are_readable() {
        let e = MailboxKey::parse("a b").unwrap_err().to_string();
        assert!(e.contains("0x20") && e.contains("position 2"), "{e}");
        let e = MailboxKey::parse(&"k".repeat(200)).unwrap_err().to_string();
        assert_eq!(e, "the mailbox id is 200 characters long; at most 160 are allowed");
    }
}
