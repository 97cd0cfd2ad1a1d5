//! The admin-facing MWI state tools: CLI commands written against `host` and `domain`.

mod mwi_state;
#[cfg(feature = "test-hooks")]
mod test_hooks;
pub mod watch;

use crate::host::cli::CliCommand;

/// The CLI commands of the state tools (and, in the test build, the test hooks).
pub fn commands() -> impl Iterator<Item = &'static CliCommand> {
    let all = mwi_state::COMMANDS.iter();
    #[cfg(feature = "test-hooks")]
    let all = all.chain(test_hooks::COMMANDS.iter());
    all
}
