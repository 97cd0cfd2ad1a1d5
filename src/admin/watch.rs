//! Watches every MWI state change on the bus. Today it reports changes at debug level
//! (`core set debug 1 res_mwi_hub`); the external-mailbox store will hang off it later.

use crate::domain::state::MwiState;
use crate::host::log::ast_debug;

/// The mailbox whose state makes the test build's watcher panic (test-hooks feature only).
#[cfg(feature = "test-hooks")]
pub const PANIC_MAILBOX: &str = "panic@res_mwi_hub_test";

/// Runs on a stasis thread for every MWI state published by anyone.
pub fn on_state(state: MwiState) {
    #[cfg(feature = "test-hooks")]
    if state.uniqueid == PANIC_MAILBOX {
        panic!("test-hooks: forced panic in the MWI watcher for {PANIC_MAILBOX}");
    }
    ast_debug!(
        1,
        "MWI state {}: new {} old {} urgent {} (eid {})",
        state.uniqueid,
        state.new,
        state.old,
        state.urgent,
        state.eid
    );
}
