//! A watcher of every MWI state change on the bus, in the test build only: it proves the
//! subscription layer (owned, typed states on an Asterisk thread) and that a panic in a stasis
//! callback is contained. The shipped module does not subscribe to `mwi:all`: a subscriber there
//! costs a queued message per publish, and a mass republish at boot would flood its queue.

use crate::host::module::LoadError;
use crate::host::mwi::MwiSubscription;

/// The mailbox whose state makes the test build's watcher panic.
#[cfg(feature = "test-hooks")]
pub const PANIC_MAILBOX: &str = "panic@res_mwi_hub_test";

/// Runs on a stasis thread for every MWI state published by anyone.
#[cfg(feature = "test-hooks")]
fn on_state(state: crate::domain::state::MwiState) {
    if state.uniqueid == PANIC_MAILBOX {
        panic!("test-hooks: forced panic in the MWI watcher for {PANIC_MAILBOX}");
    }
    crate::host::log::ast_debug!(
        1,
        "MWI state seen {}: new {} old {} urgent {} (eid {})",
        state.uniqueid,
        state.new,
        state.old,
        state.urgent,
        state.eid
    );
}

/// Starts the watcher (test build) or nothing.
pub fn start() -> Result<Option<MwiSubscription>, LoadError> {
    #[cfg(feature = "test-hooks")]
    {
        MwiSubscription::subscribe(Box::new(on_state))
            .map(Some)
            .ok_or_else(|| LoadError::Failure("could not subscribe to the MWI topic".into()))
    }
    #[cfg(not(feature = "test-hooks"))]
    {
        Ok(None)
    }
}
