//! MWI state as observed on Asterisk's message bus, copied out of the host's structures.

/// One mailbox's cached MWI state, whoever published it.
///
/// Counts are Asterisk's `int`s: other publishers (res_mwi_external, for one) can put negative
/// values there, so they are shown as they are rather than reinterpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MwiState {
    /// The stasis unique id, normally `mailbox@context`.
    pub uniqueid: String,
    pub new: i32,
    pub old: i32,
    pub urgent: i32,
    /// Entity id of the server the state came from, as `aa:bb:cc:dd:ee:ff`.
    pub eid: String,
    /// Whether `eid` is this server's own.
    pub local: bool,
}
