//! How many mailboxes one endpoint's NOTIFYs may hold in the store.
//!
//! A `${ACCOUNT}` template lets a peer name any account, and each new account is a new stored
//! (and published) mailbox: a misbehaving or hostile voicemail server could grow the store
//! without bound. So an endpoint may hold at most `max_mailboxes_per_endpoint` mailboxes (those
//! whose counts a NOTIFY from it set last); beyond that a NOTIFY for a new account is refused,
//! while the mailboxes it holds keep updating. The refusal is logged once per episode: when the
//! endpoint first finds itself full, and again only after it had room once more.

use std::collections::{HashMap, HashSet};

/// The NOTIFY answer for a refused new account: a policy refusal, not worth retrying.
pub const REFUSED_STATUS: u16 = 403;
pub const REFUSED_REASON: &str = "Mailbox limit reached for this endpoint";

/// The limit; 0 in the configuration means none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxLimit(pub usize);

/// The default: far above what one voicemail platform serves on most sites, low enough that a
/// runaway peer cannot make the store (and Asterisk's MWI states) grow without bound.
pub const DEFAULT_LIMIT: MailboxLimit = MailboxLimit(10_000);

impl Default for MailboxLimit {
    fn default() -> Self {
        DEFAULT_LIMIT
    }
}

impl MailboxLimit {
    /// The largest limit the configuration takes (0, no limit, aside).
    pub const MAX: usize = 100_000_000;

    /// Whether an endpoint holding `held` mailboxes may create one more.
    pub fn has_room(self, held: usize) -> bool {
        self.0 == 0 || held < self.0
    }
}

/// What a NOTIFY that would create a mailbox gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admit,
    /// Refused; `log` is true for the first refusal of an episode.
    Refuse {
        log: bool,
    },
}

/// Per endpoint: whether it is full now (an episode is running) and how many NOTIFYs for new
/// accounts it had refused since load.
#[derive(Debug, Default)]
pub struct EndpointGrowth {
    full: HashSet<String>,
    refused: HashMap<String, u64>,
}

impl EndpointGrowth {
    /// Decides for a NOTIFY from `endpoint` that would create a mailbox, the endpoint holding
    /// `held` mailboxes now. NOTIFYs for mailboxes that exist are not asked about.
    pub fn admit_new(&mut self, endpoint: &str, held: usize, limit: MailboxLimit) -> Admission {
        if limit.has_room(held) {
            self.full.remove(endpoint);
            return Admission::Admit;
        }
        match self.refused.get_mut(endpoint) {
            Some(n) => *n += 1,
            None => {
                self.refused.insert(endpoint.to_owned(), 1);
            }
        }
        if self.full.contains(endpoint) {
            Admission::Refuse { log: false }
        } else {
            self.full.insert(endpoint.to_owned());
            Admission::Refuse { log: true }
        }
    }

    /// NOTIFYs for new accounts refused from `endpoint` since load.
    pub fn refused(&self, endpoint: &str) -> u64 {
        self.refused.get(endpoint).copied().unwrap_or(0)
    }

    /// Every endpoint that had a refusal since load, with its count.
    pub fn refusals(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.refused.iter().map(|(e, n)| (e.as_str(), *n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_then_refuses_logging_once_per_episode() {
        let mut g = EndpointGrowth::default();
        let limit = MailboxLimit(3);
        assert_eq!(g.admit_new("trunk", 0, limit), Admission::Admit);
        assert_eq!(g.admit_new("trunk", 2, limit), Admission::Admit);
        assert_eq!(g.admit_new("trunk", 3, limit), Admission::Refuse { log: true });
        assert_eq!(g.admit_new("trunk", 3, limit), Admission::Refuse { log: false });
        assert_eq!(g.admit_new("trunk", 4, limit), Admission::Refuse { log: false });
        // Another endpoint has its own episode.
        assert_eq!(g.admit_new("other", 3, limit), Admission::Refuse { log: true });
        assert_eq!(g.refused("trunk"), 3);
        assert_eq!(g.refused("other"), 1);
        assert_eq!(g.refused("nobody"), 0);
        // Room again (a mailbox deleted): admitted, and the next time it is full is logged.
        assert_eq!(g.admit_new("trunk", 2, limit), Admission::Admit);
        assert_eq!(g.admit_new("trunk", 3, limit), Admission::Refuse { log: true });
        assert_eq!(g.refused("trunk"), 4);
        let mut all: Vec<_> = g.refusals().collect();
        all.sort_unstable();
        assert_eq!(all, [("other", 1), ("trunk", 4)]);
    }

    #[test]
    fn zero_means_no_limit() {
        let mut g = EndpointGrowth::default();
        assert_eq!(g.admit_new("trunk", usize::MAX - 1, MailboxLimit(0)), Admission::Admit);
        assert!(MailboxLimit(0).has_room(1_000_000));
        assert!(!MailboxLimit(1).has_room(1));
        assert!(DEFAULT_LIMIT.has_room(9_999) && !DEFAULT_LIMIT.has_room(10_000));
    }
}
