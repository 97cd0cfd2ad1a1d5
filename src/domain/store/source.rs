//! Where a stored mailbox state came from.

use std::borrow::Cow;
use std::fmt;

/// The origin of a mailbox's current counts: who last changed them.
///
/// # Invariants
/// [`Source::to_stored`] and [`Source::parse_stored`] are inverses: every value survives the
/// round trip through the store's text column, whatever its name or endpoint holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// An admin on the Asterisk CLI.
    Cli,
    /// An AMI client (MWIUpdate).
    Ami,
    /// An ARI client (PUT /ari/mailboxes/{mailboxName}).
    Ari,
    /// An unsolicited message-summary NOTIFY from this PJSIP endpoint.
    Notify { endpoint: String },
    /// Imported from res_mwi_external's astdb records.
    Import,
    /// An outbound MWI subscription, by name.
    Subscription { name: String },
}

/// A source column the store cannot read. The `Display` text is what the admin reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The text found, made printable.
    pub text: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown source '{}' (expected cli, ami, ari, import, notify:<endpoint> or subscription:<name>)",
            self.text
        )
    }
}

impl std::error::Error for SourceError {}

const NOTIFY_PREFIX: &str = "notify:";
const SUBSCRIPTION_PREFIX: &str = "subscription:";

impl Source {
    /// The text kept in the store: `cli`, `ami`, `ari`, `import`, `notify:<endpoint>`,
    /// `subscription:<name>`. Borrowed for the variants without data (the update hot path).
    pub fn to_stored(&self) -> Cow<'static, str> {
        match self {
            Self::Cli => Cow::Borrowed("cli"),
            Self::Ami => Cow::Borrowed("ami"),
            Self::Ari => Cow::Borrowed("ari"),
            Self::Import => Cow::Borrowed("import"),
            Self::Notify { endpoint } => Cow::Owned(format!("{NOTIFY_PREFIX}{endpoint}")),
            Self::Subscription { name } => Cow::Owned(format!("{SUBSCRIPTION_PREFIX}{name}")),
        }
    }

    /// Reads back what [`Source::to_stored`] wrote.
    pub fn parse_stored(text: &str) -> Result<Self, SourceError> {
        match text {
            "cli" => Ok(Self::Cli),
            "ami" => Ok(Self::Ami),
            "ari" => Ok(Self::Ari),
            "import" => Ok(Self::Import),
            _ => {
                if let Some(endpoint) = text.strip_prefix(NOTIFY_PREFIX) {
                    Ok(Self::Notify { endpoint: endpoint.to_owned() })
                } else if let Some(name) = text.strip_prefix(SUBSCRIPTION_PREFIX) {
                    Ok(Self::Subscription { name: name.to_owned() })
                } else {
                    Err(SourceError { text: crate::domain::text::printable(text) })
                }
            }
        }
    }
}

/// For admins: `CLI`, `AMI`, `NOTIFY from endpoint vmtrunk`, `imported from res_mwi_external`,
/// `subscription vm-remote`.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cli => f.write_str("CLI"),
            Self::Ami => f.write_str("AMI"),
            Self::Ari => f.write_str("ARI"),
            Self::Notify { endpoint } => write!(f, "NOTIFY from endpoint {endpoint}"),
            Self::Import => f.write_str("imported from res_mwi_external"),
            Self::Subscription { name } => write!(f, "subscription {name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Source> {
        vec![
            Source::Cli,
            Source::Ami,
            Source::Ari,
            Source::Import,
            Source::Notify { endpoint: "vmtrunk".into() },
            Source::Notify { endpoint: "odd:name with spaces".into() },
            Source::Notify { endpoint: String::new() },
            Source::Subscription { name: "vm-remote".into() },
            Source::Subscription { name: "notify:x".into() },
        ]
    }

    #[test]
    fn round_trips_through_the_stored_text() {
        for source in all() {
            let text = source.to_stored();
            assert_eq!(Source::parse_stored(&text), Ok(source.clone()), "{text}");
        }
        assert_eq!(Source::Notify { endpoint: "vmtrunk".into() }.to_stored(), "notify:vmtrunk");
        assert_eq!(Source::Subscription { name: "s".into() }.to_stored(), "subscription:s");
        assert_eq!(Source::Cli.to_stored(), "cli");
        assert_eq!(Source::Ami.to_stored(), "ami");
        assert_eq!(Source::Import.to_stored(), "import");
    }

    #[test]
    fn refuses_unknown_text() {
        for bad in ["", "CLI", "notify", "web", "cli "] {
            assert!(Source::parse_stored(bad).is_err(), "{bad:?}");
        }
        let e = Source::parse_stored("x\ny").unwrap_err().to_string();
        assert!(e.starts_with("unknown source 'x\\x0ay'"), "{e}");
    }

    #[test]
    fn displays_for_admins() {
        assert_eq!(Source::Cli.to_string(), "CLI");
        assert_eq!(Source::Ami.to_string(), "AMI");
        assert_eq!(Source::Notify { endpoint: "vmtrunk".into() }.to_string(), "NOTIFY from endpoint vmtrunk");
        assert_eq!(Source::Import.to_string(), "imported from res_mwi_external");
        assert_eq!(Source::Subscription { name: "vm-remote".into() }.to_string(), "subscription vm-remote");
    }
}
