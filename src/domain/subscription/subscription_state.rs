//! The Subscription-State header of a NOTIFY (RFC 6665 section 8.2.3):
//! `active;expires=60`, `pending`, `terminated;reason=deactivated;retry-after=30`.

/// What the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub kind: StateKind,
    /// `expires=` in seconds, if given.
    pub expires: Option<u32>,
    /// `reason=` (lower-cased), if given.
    pub reason: Option<TerminationReason>,
    /// `retry-after=` in seconds, if given.
    pub retry_after: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateKind {
    Active,
    Pending,
    Terminated,
}

/// RFC 6665 section 4.1.3 reasons; `Other` keeps an unknown token (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminationReason {
    Deactivated,
    Probation,
    Rejected,
    Timeout,
    Giveup,
    Noresource,
    Invariant,
    Other(String),
}

/// Why a header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError(pub String);

impl SubscriptionState {
    /// Parses the header's value (case-insensitive; whitespace around `;` and `=` allowed;
    /// unknown parameters ignored; a bad number in expires or retry-after is an error).
    pub fn parse(value: &str) -> Result<Self, StateError> {
        let _ = value;
        todo!("helper")
    }
}
