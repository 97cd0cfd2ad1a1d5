//! The admin-facing surface: CLI commands, written against `host` and `domain`.

mod mwi_state;
#[cfg(feature = "test-hooks")]
mod test_hooks;
pub mod watch;

use crate::host::cli::CliCommand;

/// Every CLI command the module registers.
pub fn commands() -> &'static [CliCommand] {
    #[cfg(not(feature = "test-hooks"))]
    {
        &mwi_state::COMMANDS
    }
    #[cfg(feature = "test-hooks")]
    {
        static ALL: std::sync::OnceLock<Vec<CliCommand>> = std::sync::OnceLock::new();
        ALL.get_or_init(|| {
            let mut all: Vec<CliCommand> = Vec::new();
            all.extend(mwi_state::COMMANDS.iter().map(clone_command));
            all.extend(test_hooks::COMMANDS.iter().map(clone_command));
            all
        })
    }
}

#[cfg(feature = "test-hooks")]
fn clone_command(c: &CliCommand) -> CliCommand {
    CliCommand { command: c.command, summary: c.summary, usage: c.usage, run: c.run, complete: c.complete }
}
