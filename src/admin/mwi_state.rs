//! `mwi show state`, `mwi list states [like <regex>]`, `mwi publish`: the MWI state of every
//! mailbox Asterisk knows, whoever published it. Asterisk itself has no command for this.

use crate::domain::state_commands;
use crate::domain::store::MailboxKey;
use crate::host::cli::{CliCall, CliCommand, CliOutcome, Completion};
use crate::host::log::ast_verb;
use crate::host::mwi;

pub static COMMANDS: [CliCommand; 3] = [
    CliCommand {
        command: c"mwi show state",
        summary: c"Show the cached MWI state of one mailbox",
        usage: c"Usage: mwi show state <mailbox@context>\n       Shows the MWI state Asterisk holds for one mailbox, whoever published it\n       (app_voicemail, res_mwi_hub, other modules): new, old and urgent counts\n       and the entity id (EID) of the server it came from.\n",
        run: show_state,
        complete: Some(complete_mailbox_at_3),
    },
    CliCommand {
        command: c"mwi list states",
        summary: c"List the cached MWI state of every mailbox",
        usage: c"Usage: mwi list states [like <regex>]\n       Lists the MWI state of every mailbox Asterisk holds, one line each, sorted\n       by mailbox, then a count. With 'like', only the mailboxes whose id matches\n       the regular expression (unanchored; Rust regex syntax).\n",
        run: list_states,
        complete: None,
    },
    CliCommand {
        command: c"mwi publish",
        summary: c"Publish an MWI state for one mailbox",
        usage: c"Usage: mwi publish <mailbox@context> <new> <old> [<urgent>]\n       Publishes new, old and urgent message counts (urgent defaults to 0) for a\n       mailbox, once, as any voicemail system would: phones subscribed to it get a\n       NOTIFY. Counts are whole numbers from 0 to 2147483647.\n",
        run: publish,
        complete: Some(complete_mailbox_at_2),
    },
];

fn complete_mailbox(c: &Completion, pos: usize) -> Vec<String> {
    if c.pos != pos {
        return Vec::new();
    }
    let states = mwi::cached_states();
    state_commands::complete_ids(states.iter().map(|s| s.uniqueid.as_str()), &c.word)
}

fn complete_mailbox_at_3(c: &Completion) -> Vec<String> {
    complete_mailbox(c, 3)
}

fn complete_mailbox_at_2(c: &Completion) -> Vec<String> {
    complete_mailbox(c, 2)
}

/// Lets the external mailboxes' queued publishes reach the bus first, so that the cache shows
/// what the store answered (an AMI MWIUpdate answers before its publish).
fn settle_external_mailboxes() {
    if let Some(s) = crate::mailboxes::service::current() {
        s.settle();
    }
}

fn show_state(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [id] = args.as_slice() else { return CliOutcome::ShowUsage };
    settle_external_mailboxes();
    match mwi::cached_state(id) {
        Some(state) => {
            call.print(&state_commands::format_state(&state));
            CliOutcome::Success
        }
        None => {
            call.print(&format!("No MWI state is cached for '{}'.\n", crate::domain::text::printable(id)));
            CliOutcome::Failure
        }
    }
}

fn list_states(call: &CliCall) -> CliOutcome {
    match state_commands::parse_list_filter(&call.args_after(3)) {
        Ok(filter) => {
            settle_external_mailboxes();
            call.print(&state_commands::format_state_list(mwi::cached_states(), filter.as_ref()));
            CliOutcome::Success
        }
        Err(e) => call.refuse(e.message()),
    }
}

fn publish(call: &CliCall) -> CliOutcome {
    let request = match state_commands::parse_publish(&call.args_after(2)) {
        Ok(r) => r,
        Err(e) => return call.refuse(e.message()),
    };
    let c = request.counts;
    match mwi::publish(MailboxKey::from(&request.mailbox).as_str(), c) {
        Ok(()) => {
            ast_verb!(
                3,
                "MWI published for {} from the CLI: new {} old {} urgent {}",
                request.mailbox,
                c.new,
                c.old,
                c.urgent
            );
            call.print(&format!(
                "Published MWI for {}: new {}, old {}, urgent {}.\n",
                request.mailbox, c.new, c.old, c.urgent
            ));
            CliOutcome::Success
        }
        Err(e) => {
            call.print(&format!("Error: not published: {e}.\n"));
            CliOutcome::Failure
        }
    }
}
