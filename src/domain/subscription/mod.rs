//! Outbound MWI subscriptions (what chan_sip's `mwi =>` did), as plain Rust: the options of a
//! `type = mwi-subscription` object in pjsip.conf ([`settings`]), the Subscription-State
//! header ([`subscription_state`]), the per-subscription state machine with every RFC 6665
//! client rule, retry and refresh decision ([`machine`]), and what a reload changes
//! ([`reload`]). Time is a number of milliseconds the caller passes in: the host passes a
//! monotonic clock, the tests a simulated one.

pub mod machine;
pub mod reload;
pub mod report;
pub mod settings;
pub mod subscription_state;
pub mod target;
pub mod wakeups;

/// Milliseconds on the caller's monotonic clock.
pub type Millis = u64;
