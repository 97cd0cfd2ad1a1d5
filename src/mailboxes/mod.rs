//! External mailboxes: counts that outside systems set for mailboxes (AMI, CLI, later SIP
//! NOTIFYs and subscriptions), kept in the persistent store, published on the MWI bus, and
//! answered to Asterisk's voicemail-provider questions. The AMI actions are wire-compatible with
//! res_mwi_external_ami; the CLI replaces res_mwi_external's.

pub mod ami;
pub mod ari;
pub mod cli;
pub mod migrate;
pub mod pacing;
pub mod provider;
mod publishing;
pub mod republish;
pub mod service;

#[cfg(feature = "test-hooks")]
pub use publishing::set_delay as set_publish_delay;
