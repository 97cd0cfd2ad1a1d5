//! The voicemail-provider answers, from the mailbox store.

use super::service;
use crate::domain::counts::MwiCounts;
use crate::host::voicemail::MailboxCounts;

/// Counts from the current mailbox service.
pub struct StoreCounts;

impl MailboxCounts for StoreCounts {
    fn lookup(id: &str) -> Option<MwiCounts> {
        service::current()?.counts(id)
    }
}
