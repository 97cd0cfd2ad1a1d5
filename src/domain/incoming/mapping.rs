//! Which mailbox a NOTIFY from an endpoint is for.
//!
//! The endpoint option `incoming_mwi_mailbox` (pjsip.conf) names it. As in Asterisk it may be a
//! fixed `mailbox@context`; res_mwi_hub also accepts a template with `${ACCOUNT}`, replaced by
//! the user part of the body's Message-Account URI or, when the body has none, of the
//! Request-URI (RFC 3842: the account is then the resource the NOTIFY is addressed to). One
//! trunk endpoint then feeds a mailbox per account: `incoming_mwi_mailbox=${ACCOUNT}@remote`.

use std::fmt;

use crate::domain::store::{MailboxKey, MAX_KEY_LEN};

/// The placeholder a template replaces.
pub const ACCOUNT_PLACEHOLDER: &str = "${ACCOUNT}";

/// An endpoint's `incoming_mwi_mailbox`, checked.
///
/// # Invariants
/// `Fixed` holds a valid mailbox key with a context; `Template` holds text with exactly one
/// `${ACCOUNT}`, whose other characters are valid in a mailbox key, and an `@context` after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxMapping {
    Fixed(MailboxKey),
    Template { before: String, after: String },
}

/// Why an `incoming_mwi_mailbox` value is not usable. The `Display` text is for the admin's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingError {
    NoContext,
    BadMailbox(String),
    MoreThanOnePlaceholder,
    UnknownPlaceholder,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoContext => {
                write!(f, "has no @context (expected mailbox@context or ${{ACCOUNT}}@context)")
            }
            Self::BadMailbox(why) => write!(f, "is not a valid mailbox: {why}"),
            Self::MoreThanOnePlaceholder => write!(f, "uses ${{ACCOUNT}} more than once"),
            Self::UnknownPlaceholder => write!(f, "has a '${{' that is not ${{ACCOUNT}}"),
        }
    }
}

impl std::error::Error for MappingError {}

/// Why a NOTIFY has no mailbox under a template. The `Display` text fits a SIP reason phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// Neither the Message-Account nor the Request-URI has a user part.
    NoAccount,
    /// The account's user part has characters a mailbox id cannot hold, or is too long.
    BadAccount,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAccount => write!(f, "No account user in Message-Account or Request-URI"),
            Self::BadAccount => write!(f, "Account user not usable as a mailbox"),
        }
    }
}

impl std::error::Error for RenderError {}

/// Characters taken from an account's user part: what phone numbers and mailbox names use.
/// Everything else (escapes, '@', ';', quotes, ...) is refused rather than guessed at.
fn is_account_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.+*#!~".contains(&b)
}

impl MailboxMapping {
    /// Checks an `incoming_mwi_mailbox` value (already trimmed by Asterisk's config parser).
    pub fn parse(text: &str) -> Result<Self, MappingError> {
        let at = text.rfind('@').ok_or(MappingError::NoContext)?;
        if at + 1 == text.len() {
            return Err(MappingError::NoContext);
        }
        match text.find(ACCOUNT_PLACEHOLDER) {
            None => {
                if text.contains("${") {
                    return Err(MappingError::UnknownPlaceholder);
                }
                let key = MailboxKey::parse(text).map_err(|e| MappingError::BadMailbox(e.to_string()))?;
                Ok(Self::Fixed(key))
            }
            Some(pos) => {
                let before = &text[..pos];
                let after = &text[pos + ACCOUNT_PLACEHOLDER.len()..];
                if after.contains(ACCOUNT_PLACEHOLDER) || before.contains(ACCOUNT_PLACEHOLDER) {
                    return Err(MappingError::MoreThanOnePlaceholder);
                }
                if before.contains("${") || after.contains("${") {
                    return Err(MappingError::UnknownPlaceholder);
                }
                if !after.contains('@') || after.ends_with('@') {
                    return Err(MappingError::NoContext);
                }
                // The rest must be valid in a key once the placeholder holds a plain user.
                MailboxKey::parse(&format!("{before}x{after}"))
                    .map_err(|e| MappingError::BadMailbox(e.to_string()))?;
                Ok(Self::Template { before: before.to_owned(), after: after.to_owned() })
            }
        }
    }

    /// The mailbox for a NOTIFY whose account user part is `account_user` (Message-Account,
    /// else Request-URI).
    pub fn mailbox(&self, account_user: Option<&str>) -> Result<MailboxKey, RenderError> {
        match self {
            Self::Fixed(key) => Ok(key.clone()),
            Self::Template { before, after } => {
                let user = account_user.filter(|u| !u.is_empty()).ok_or(RenderError::NoAccount)?;
                if !user.bytes().all(is_account_char) || before.len() + user.len() + after.len() > MAX_KEY_LEN
                {
                    return Err(RenderError::BadAccount);
                }
                MailboxKey::parse(&format!("{before}{user}{after}")).map_err(|_| RenderError::BadAccount)
            }
        }
    }

    pub fn is_template(&self) -> bool {
        matches!(self, Self::Template { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> MailboxKey {
        MailboxKey::parse(s).unwrap()
    }

    #[test]
    fn a_fixed_mailbox_maps_every_notify_to_it() {
        let m = MailboxMapping::parse("3000@default").unwrap();
        assert!(!m.is_template());
        assert_eq!(m.mailbox(None), Ok(key("3000@default")));
        assert_eq!(m.mailbox(Some("1001")), Ok(key("3000@default")));
    }

    #[test]
    fn a_template_maps_each_account_to_its_own_mailbox() {
        let m = MailboxMapping::parse("${ACCOUNT}@remote").unwrap();
        assert!(m.is_template());
        assert_eq!(m.mailbox(Some("1001")), Ok(key("1001@remote")));
        assert_eq!(m.mailbox(Some("+15551234")), Ok(key("+15551234@remote")));
        let prefixed = MailboxMapping::parse("vm-${ACCOUNT}@hosted-vm").unwrap();
        assert_eq!(prefixed.mailbox(Some("42")), Ok(key("vm-42@hosted-vm")));
        let in_context = MailboxMapping::parse("${ACCOUNT}@ctx").unwrap();
        assert_eq!(in_context.mailbox(Some("a.b_c-d")), Ok(key("a.b_c-d@ctx")));
    }

    #[test]
    fn a_template_refuses_accounts_it_cannot_use() {
        let m = MailboxMapping::parse("${ACCOUNT}@remote").unwrap();
        assert_eq!(m.mailbox(None), Err(RenderError::NoAccount));
        assert_eq!(m.mailbox(Some("")), Err(RenderError::NoAccount));
        for bad in ["10%2001", "a@b", "a;b", "a b", "a\r\nEvent: x", "a\"b", "é"] {
            assert_eq!(m.mailbox(Some(bad)), Err(RenderError::BadAccount), "{bad:?}");
        }
        assert_eq!(m.mailbox(Some(&"9".repeat(200))), Err(RenderError::BadAccount));
        // The reason phrases are single ASCII lines.
        for e in [RenderError::NoAccount, RenderError::BadAccount] {
            assert!(e.to_string().bytes().all(|b| (0x20..0x7f).contains(&b)));
        }
    }

    #[test]
    fn refuses_values_that_name_no_mailbox() {
        assert_eq!(MailboxMapping::parse("3000"), Err(MappingError::NoContext));
        assert_eq!(MailboxMapping::parse("3000@"), Err(MappingError::NoContext));
        assert_eq!(MailboxMapping::parse("${ACCOUNT}"), Err(MappingError::NoContext));
        assert_eq!(
            MailboxMapping::parse("${ACCOUNT}${ACCOUNT}@x"),
            Err(MappingError::MoreThanOnePlaceholder)
        );
        assert_eq!(MailboxMapping::parse("${EXTEN}@x"), Err(MappingError::UnknownPlaceholder));
        assert_eq!(MailboxMapping::parse("${ACCOUNT}-${EXTEN}@x"), Err(MappingError::UnknownPlaceholder));
        assert!(matches!(MailboxMapping::parse("a b@x"), Err(MappingError::BadMailbox(_))));
        assert!(matches!(MailboxMapping::parse("${ACCOUNT} @x"), Err(MappingError::BadMailbox(_))));
    }
}
