//! Incoming unsolicited MWI (message-summary NOTIFYs from PJSIP endpoints): the decisions, in
//! plain Rust. The pjsip service in `crate::incoming` feeds requests through these.
//!
//! - [`mapping`]: which mailbox a NOTIFY is for (`incoming_mwi_mailbox`, with `${ACCOUNT}`).
//! - [`summary_counts`]: the counts a parsed body publishes.
//! - [`request`]: what of the request (Event, Content-Type, Request-URI) decides that it is ours.
//! - [`arrival`]: receive order, so an older NOTIFY never overwrites a newer one.
//! - [`retransmissions`]: a resent NOTIFY is answered again but not published again.
//! - [`growth`]: how many mailboxes one endpoint may create.

pub mod arrival;
pub mod growth;
pub mod mapping;
pub mod request;
pub mod retransmissions;
pub mod summary_counts;
