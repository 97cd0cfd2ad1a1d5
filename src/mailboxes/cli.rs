//! The external-mailbox CLI (on by default, unlike res_mwi_external's):
//! `mwi update mailbox`, `mwi show mailbox`, `mwi list all|like`, `mwi delete mailbox|like|all`.

use super::service::{self, MailboxService};
use crate::domain::mailbox_commands as cmd;
use crate::domain::state_commands;
use crate::domain::store::{Source, UpdateOutcome};
use crate::host::cli::{CliCall, CliCommand, CliOutcome, Completion};

pub static COMMANDS: [CliCommand; 8] = [
    CliCommand {
        command: c"mwi update mailbox",
        summary: c"Set the counts of an external mailbox",
        usage: c"Usage: mwi update mailbox <id> [<new> [<old> [<urgent>]]]\n       Sets the new, old and urgent message counts of an external mailbox, creating\n       it if needed (missing counts are 0), stores them and publishes them if they\n       changed. The id is kept verbatim: 1000 and 1000@default are two mailboxes.\n",
        run: update,
        complete: Some(complete_at_3),
    },
    CliCommand {
        command: c"mwi show mailbox",
        summary: c"Show one external mailbox",
        usage: c"Usage: mwi show mailbox <id>\n       Shows an external mailbox: its counts, where they came from and when.\n",
        run: show,
        complete: Some(complete_at_3),
    },
    CliCommand {
        command: c"mwi list all",
        summary: c"List all external mailboxes",
        usage: c"Usage: mwi list all\n       Lists every external mailbox, sorted by id, then a count.\n",
        run: list_all,
        complete: None,
    },
    CliCommand {
        command: c"mwi list like",
        summary: c"List external mailboxes matching a regex",
        usage: c"Usage: mwi list like <regex>\n       Lists the external mailboxes whose id matches the regular expression\n       (unanchored; Rust regex syntax).\n",
        run: list_like,
        complete: None,
    },
    CliCommand {
        command: c"mwi delete mailbox",
        summary: c"Delete one external mailbox",
        usage: c"Usage: mwi delete mailbox <id>\n       Deletes an external mailbox: its lamp goes off (0 new, 0 old is published)\n       and its cached MWI state is cleared.\n",
        run: delete_one,
        complete: Some(complete_at_3),
    },
    CliCommand {
        command: c"mwi delete like",
        summary: c"Delete external mailboxes matching a regex",
        usage: c"Usage: mwi delete like <regex>\n       Deletes every external mailbox whose id matches the regular expression\n       (unanchored; an empty expression is refused: use 'mwi delete all').\n",
        run: delete_like,
        complete: None,
    },
    CliCommand {
        command: c"mwi delete all",
        summary: c"Delete all external mailboxes",
        usage: c"Usage: mwi delete all\n       Deletes every external mailbox (lamps off, cached states cleared).\n",
        run: delete_all,
        complete: None,
    },
    CliCommand {
        command: c"mwi show status",
        summary: c"Show res_mwi_hub's status",
        usage: c"Usage: mwi show status\n       The first screen to check: versions, the store file and its size, mailboxes\n       stored and watched, the publish queue, how far the republish at load got, how\n       long publishing was held back while Asterisk was overloaded, whether the store\n       can write (and how many updates were refused since it could not), incoming\n       NOTIFYs taken and refused since load, the mailboxes each endpoint's NOTIFYs\n       hold against max_mailboxes_per_endpoint, outbound subscriptions by state, who is the\n       voicemail provider, and whether ARI /mailboxes is served.\n",
        run: status,
        complete: None,
    },
];

fn status(call: &CliCall) -> CliOutcome {
    use crate::domain::status::{format_status, StatusFacts, StoreFile, WriteFailure};
    let Some(s) = service::current() else { return no_service(call) };
    let (pacing, watched_queues) = s.pacing().stats();
    let path = s.store_path();
    call.print(&format_status(&StatusFacts {
        version: env!("CARGO_PKG_VERSION"),
        asterisk_version: crate::host::module::asterisk_version(),
        store: StoreFile { bytes: store_bytes(&path), path: path.display().to_string() },
        stored: s.len(),
        write_failure: s.write_failure().map(|f| WriteFailure {
            for_: std::time::Duration::from_millis((service::now_ms() - f.since_ms).max(0) as u64),
            refused: f.refused,
            error: f.error,
        }),
        watched_mailboxes: s.watched_count(),
        queued: s.queued(),
        republish: s.republish_progress().report(),
        pacing,
        watched_queues,
        notifies: crate::incoming::notify_counts().ok_or("res_pjsip was not loaded when res_mwi_hub loaded"),
        endpoints: crate::incoming::endpoint_growth(s.mailboxes_by_endpoint())
            .ok_or("res_pjsip was not loaded when res_mwi_hub loaded"),
        subscriptions: crate::outbound::current()
            .map(|r| r.phase_counts())
            .ok_or("not started: see the log from res_mwi_hub's load"),
        provider: crate::host::voicemail::provider_role(),
        ari_loaded: crate::host::module::is_running("res_ari.so"),
        ari_serving: crate::host::ari::serving(),
    }));
    CliOutcome::Success
}

/// The database file and its write-ahead log (SQLite's `-wal`, absent after a clean close).
fn store_bytes(path: &std::path::Path) -> Option<u64> {
    let db = std::fs::metadata(path).ok()?.len();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    Some(db + std::fs::metadata(wal).map_or(0, |m| m.len()))
}

fn no_service(call: &CliCall) -> CliOutcome {
    call.print("Error: the external-mailbox store is not available (see the Asterisk log).\n");
    CliOutcome::Failure
}

/// Runs `f` with the loaded service, or says there is none. Returns once what `f` changed is
/// on the MWI bus, so an admin's next `mwi show state` shows it.
fn with_service(call: &CliCall, f: impl FnOnce(&MailboxService) -> CliOutcome) -> CliOutcome {
    match service::current() {
        Some(s) => {
            let outcome = f(&s);
            s.settle();
            outcome
        }
        None => no_service(call),
    }
}

fn store_failed(call: &CliCall, e: impl std::fmt::Display) -> CliOutcome {
    call.print(&format!("Error: nothing changed: {e}\n"));
    CliOutcome::Failure
}

fn complete_at_3(c: &Completion) -> Vec<String> {
    if c.pos != 3 {
        return Vec::new();
    }
    let Some(s) = service::current() else { return Vec::new() };
    let ids = s.ids();
    state_commands::complete_ids(ids.iter().map(String::as_str), &c.word)
}

fn update(call: &CliCall) -> CliOutcome {
    let (key, counts) = match cmd::parse_cli_update(&call.args_after(3)) {
        Ok(v) => v,
        Err(e) => return call.refuse(e.message()),
    };
    with_service(call, |s| match s.update(&key, counts, Source::Cli) {
        Ok(outcome) => {
            let what = match outcome {
                UpdateOutcome::Created => "created and published",
                UpdateOutcome::Changed { .. } => "updated and published",
                UpdateOutcome::Unchanged => "unchanged; nothing published",
            };
            call.print(&format!(
                "Mailbox {key}: new {}, old {}, urgent {} ({what}).\n",
                counts.new, counts.old, counts.urgent
            ));
            CliOutcome::Success
        }
        Err(e) => store_failed(call, e),
    })
}

fn show(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [id] = args.as_slice() else { return CliOutcome::ShowUsage };
    let key = match cmd::parse_cli_key(id) {
        Ok(k) => k,
        Err(e) => return call.refuse(e.message()),
    };
    with_service(call, |s| match s.get(&key) {
        Some(r) => {
            call.print(&cmd::format_mailbox(&r));
            CliOutcome::Success
        }
        None => {
            call.print(&format!("No external mailbox '{key}'.\n"));
            CliOutcome::Failure
        }
    })
}

fn list_all(call: &CliCall) -> CliOutcome {
    if !call.args_after(3).is_empty() {
        return CliOutcome::ShowUsage;
    }
    with_service(call, |s| {
        let (records, total) = s.list(None);
        call.print(&cmd::format_mailbox_list(&records.iter().collect::<Vec<_>>(), total, None));
        CliOutcome::Success
    })
}

fn list_like(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [pattern] = args.as_slice() else { return CliOutcome::ShowUsage };
    let re = match cmd::parse_cli_like(pattern) {
        Ok(re) => re,
        Err(e) => return call.refuse(e.message()),
    };
    with_service(call, |s| {
        let (records, total) = s.list(Some(&re));
        call.print(&cmd::format_mailbox_list(&records.iter().collect::<Vec<_>>(), total, Some(&re)));
        CliOutcome::Success
    })
}

fn delete_one(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [id] = args.as_slice() else { return CliOutcome::ShowUsage };
    let key = match cmd::parse_cli_key(id) {
        Ok(k) => k,
        Err(e) => return call.refuse(e.message()),
    };
    with_service(call, |s| match s.delete(&key) {
        Ok(Some(_)) => {
            call.print(&format!("Deleted external mailbox {key}.\n"));
            CliOutcome::Success
        }
        Ok(None) => {
            call.print(&format!("No external mailbox '{key}'; nothing deleted.\n"));
            CliOutcome::Failure
        }
        Err(e) => store_failed(call, e),
    })
}

fn delete_like(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [pattern] = args.as_slice() else { return CliOutcome::ShowUsage };
    let re = match cmd::parse_cli_like(pattern) {
        Ok(re) => re,
        Err(e) => return call.refuse(e.message()),
    };
    with_service(call, |s| match s.delete_matching(&re) {
        Ok(removed) => {
            call.print(&format!(
                "Deleted {} external mailboxes matching '{}'.\n",
                removed.len(),
                re.as_str()
            ));
            CliOutcome::Success
        }
        Err(e) => store_failed(call, e),
    })
}

fn delete_all(call: &CliCall) -> CliOutcome {
    if !call.args_after(3).is_empty() {
        return CliOutcome::ShowUsage;
    }
    with_service(call, |s| match s.delete_all() {
        Ok(removed) => {
            call.print(&format!("Deleted all {} external mailboxes.\n", removed.len()));
            CliOutcome::Success
        }
        Err(e) => store_failed(call, e),
    })
}
