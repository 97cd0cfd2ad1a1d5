//! The options of one `type = mwi-subscription` object, read from the text sorcery gives
//! (`name = value` pairs as pjsip.conf spells them), validated, with the defaults applied.
//! Names and meanings of the timing options are res_pjsip_outbound_registration's.

use std::fmt;

use crate::domain::mailbox::MailboxId;

/// The sorcery type name, as written in pjsip.conf (`type = mwi-subscription`).
pub const TYPE_NAME: &str = "mwi-subscription";
/// The context of the default mailbox: chan_sip's, so `mailboxes=1234@SIP_Remote` keeps working.
pub const DEFAULT_CONTEXT: &str = "SIP_Remote";

/// One validated subscription object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSettings {
    /// The object's name (its `[section]`).
    pub name: String,
    /// The remote mailbox's SIP URI (Request-URI and To), `sip:` or `sips:`. Required.
    pub server_uri: String,
    /// From; None: the host derives it (server_uri's user at the local address).
    pub client_uri: Option<String>,
    /// The user part of our Contact; None: the host's default.
    pub contact_user: Option<String>,
    /// Where the counts go. Default: `<server_uri's user>@SIP_Remote`.
    pub mailbox: MailboxId,
    /// res_pjsip `type=auth` object names, in order; empty: challenges cannot be answered.
    pub outbound_auth: Vec<String>,
    /// A res_pjsip transport name; None: res_pjsip picks one from the URI.
    pub transport: Option<String>,
    /// A SIP URI to route through; None: direct.
    pub outbound_proxy: Option<String>,
    /// An endpoint to borrow settings from (transport, outbound_proxy, from, auth) when the
    /// object does not set them; None: none.
    pub endpoint: Option<String>,
    /// Expires we ask for, seconds (default 3600, at least 1).
    pub expiration: u32,
    /// Base of the retry backoff after temporary failures, seconds (default 60, at least 1).
    pub retry_interval: u32,
    /// Wait after a 403 or rejected credentials, seconds; 0 (default): give up.
    pub forbidden_retry_interval: u32,
    /// Wait after other permanent failures (4xx other than 401/403/407/408/423/481), seconds;
    /// 0 (default): give up.
    pub fatal_retry_interval: u32,
    /// Failed attempts in a row retried before giving up (default 10).
    pub max_retries: u32,
    /// The first SUBSCRIBE waits a random time up to this many seconds (default 10).
    pub max_random_initial_delay: u32,
}

/// A refused object: which object and option, and why. `Display` is the log line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub object: String,
    /// The option at fault (`server_uri`, `mailbox`, ...).
    pub option: String,
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}': option '{}': {}", TYPE_NAME, self.object, self.option, self.message)
    }
}

impl std::error::Error for SettingsError {}

impl SubscriptionSettings {
    /// Validates one object's options (`type` is ignored; an option given twice: the last
    /// wins; unknown names are refused).
    pub fn from_options(name: &str, options: &[(String, String)]) -> Result<Self, SettingsError> {
        let _ = (name, options);
        todo!("helper")
    }
}
