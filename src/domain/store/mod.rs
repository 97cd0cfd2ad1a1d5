//! The external-mailbox store: the MWI counts that outside systems (AMI clients, the CLI, SIP
//! NOTIFYs, subscriptions) set for mailboxes, kept across restarts and crashes.
//!
//! This first part holds the values the store keeps: mailbox keys, sources, and the reading of
//! res_mwi_external's records for import.

mod import;
mod key;
mod source;

pub use import::{
    describe_import_error, parse_res_mwi_external_record, ImportError, RES_MWI_EXTERNAL_FAMILY,
};
pub use key::{MailboxKey, MailboxKeyError, MAX_KEY_LEN};
pub use source::{Source, SourceError};
