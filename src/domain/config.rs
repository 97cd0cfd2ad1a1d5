//! res_mwi_hub.conf: the `[general]` settings and their validation.

use std::fmt;

/// Whether res_mwi_hub takes Asterisk's voicemail-provider role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProviderMode {
    /// Only when no other module (app_voicemail) holds it.
    #[default]
    Auto,
    /// Always try; log an error if another module holds it.
    Yes,
    No,
}

pub use super::incoming::growth::MailboxLimit;
pub use super::store::Durability;

/// The module's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HubConfig {
    pub voicemail_provider: ProviderMode,
    pub durability: Durability,
    /// Import res_mwi_external's astdb records on first load.
    pub import_res_mwi_external: bool,
    /// How many mailboxes one endpoint's NOTIFYs may hold (`max_mailboxes_per_endpoint`).
    pub mailbox_limit: MailboxLimit,
}

/// A setting that was ignored, with why. The file still loads: the rest applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub line: u32,
    pub text: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "res_mwi_hub.conf line {}: {}", self.line, self.text)
    }
}

fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "y" | "t" | "1" | "on" => Some(true),
        "no" | "false" | "n" | "f" | "0" | "off" => Some(false),
        _ => None,
    }
}

impl HubConfig {
    /// Builds the configuration from `[general]` settings (name, value, line); unknown names
    /// and bad values are reported and left at their defaults.
    pub fn from_settings(settings: &[(String, String, u32)]) -> (Self, Vec<ConfigWarning>) {
        let mut cfg = Self { import_res_mwi_external: true, ..Self::default() };
        let mut warnings = Vec::new();
        for (name, value, line) in settings {
            let mut bad = |what: &str| {
                warnings
                    .push(ConfigWarning { line: *line, text: format!("{name} = {value}: {what}; ignored") })
            };
            match name.to_ascii_lowercase().as_str() {
                "voicemail_provider" => match value.to_ascii_lowercase().as_str() {
                    "auto" => cfg.voicemail_provider = ProviderMode::Auto,
                    "yes" | "true" => cfg.voicemail_provider = ProviderMode::Yes,
                    "no" | "false" => cfg.voicemail_provider = ProviderMode::No,
                    _ => bad("expected auto, yes or no"),
                },
                "fsync" => match boolean(value) {
                    Some(true) => cfg.durability = Durability::PowerLoss,
                    Some(false) => cfg.durability = Durability::Process,
                    None => bad("expected yes or no"),
                },
                "import_res_mwi_external" => match boolean(value) {
                    Some(b) => cfg.import_res_mwi_external = b,
                    None => bad("expected yes or no"),
                },
                "max_mailboxes_per_endpoint" => match value.parse::<usize>() {
                    Ok(n) if n <= MailboxLimit::MAX => cfg.mailbox_limit = MailboxLimit(n),
                    _ => bad(&format!("expected a whole number from 0 (no limit) to {}", MailboxLimit::MAX)),
                },
                _ => bad("unknown setting"),
            }
        }
        (cfg, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pairs: &[(&str, &str)]) -> Vec<(String, String, u32)> {
        pairs.iter().enumerate().map(|(i, (n, v))| (n.to_string(), v.to_string(), i as u32 + 1)).collect()
    }

    #[test]
    fn defaults() {
        let (cfg, w) = HubConfig::from_settings(&[]);
        assert_eq!(cfg.voicemail_provider, ProviderMode::Auto);
        assert_eq!(cfg.durability, Durability::Process);
        assert!(cfg.import_res_mwi_external);
        assert_eq!(cfg.mailbox_limit, MailboxLimit(10_000));
        assert!(w.is_empty());
    }

    #[test]
    fn reads_every_setting() {
        let (cfg, w) = HubConfig::from_settings(&s(&[
            ("voicemail_provider", "No"),
            ("fsync", "yes"),
            ("import_res_mwi_external", "no"),
            ("max_mailboxes_per_endpoint", "0"),
        ]));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(cfg.voicemail_provider, ProviderMode::No);
        assert_eq!(cfg.durability, Durability::PowerLoss);
        assert!(!cfg.import_res_mwi_external);
        assert_eq!(cfg.mailbox_limit, MailboxLimit(0));
    }

    #[test]
    fn reports_bad_lines_and_keeps_defaults() {
        let (cfg, w) = HubConfig::from_settings(&s(&[("voicemail_provider", "maybe"), ("colour", "blue")]));
        assert_eq!(cfg.voicemail_provider, ProviderMode::Auto);
        assert_eq!(w.len(), 2);
        assert_eq!(
            w[0].to_string(),
            "res_mwi_hub.conf line 1: voicemail_provider = maybe: expected auto, yes or no; ignored"
        );
        assert!(w[1].text.contains("unknown setting"));
        for bad in ["-1", "ten", "", "100000001", "1.5"] {
            let (cfg, w) = HubConfig::from_settings(&s(&[("max_mailboxes_per_endpoint", bad)]));
            assert_eq!(cfg.mailbox_limit, MailboxLimit(10_000), "{bad:?}");
            assert_eq!(w.len(), 1, "{bad:?}");
            assert!(
                w[0].text.ends_with("expected a whole number from 0 (no limit) to 100000000; ignored"),
                "{w:?}"
            );
        }
    }
}
