//! The outbound-subscription CLI, next to what chan_sip's `sip show mwi` was:
//! `mwi show subscriptions`, `mwi show subscription <name>`, `mwi resubscribe <name>`,
//! `mwi convert sip.conf [<file>]`.

use super::{current, view};
use crate::domain::chan_sip_mwi;
use crate::domain::subscription::report::{format_detail, format_table};
use crate::domain::text::printable;
use crate::host::cli::{CliCall, CliCommand, CliOutcome, Completion};

pub static COMMANDS: [CliCommand; 4] = [
    CliCommand {
        command: c"mwi show subscriptions",
        summary: c"Show outbound MWI subscriptions",
        usage: c"Usage: mwi show subscriptions\n       Lists the outbound MWI subscriptions of pjsip.conf (type = mwi-subscription):\n       server, local mailbox, state, last response, granted expiry, time to the next\n       SUBSCRIBE, last counts and failures in a row.\n",
        run: show_all,
        complete: None,
    },
    CliCommand {
        command: c"mwi show subscription",
        summary: c"Show one outbound MWI subscription",
        usage: c"Usage: mwi show subscription <name>\n       Shows one outbound MWI subscription with its recent state changes and why.\n",
        run: show_one,
        complete: Some(complete_name),
    },
    CliCommand {
        command: c"mwi resubscribe",
        summary: c"Subscribe again now",
        usage: c"Usage: mwi resubscribe <name>\n       Starts a new subscription for <name> now (also after it gave up), with its\n       failure count reset.\n",
        run: resubscribe,
        complete: Some(complete_name),
    },
    CliCommand {
        command: c"mwi convert sip.conf",
        summary: c"Print sip.conf mwi => lines as pjsip.conf objects",
        usage: c"Usage: mwi convert sip.conf [<file>]\n       Reads chan_sip's 'mwi =>' lines (and mwiexpiry) from <file> (default\n       /etc/asterisk/sip.conf) and prints the type=auth and type=mwi-subscription\n       objects that do the same in pjsip.conf. Changes nothing.\n",
        run: convert,
        complete: None,
    },
];

fn no_runtime(call: &CliCall) -> CliOutcome {
    call.print("Error: outbound MWI subscriptions are not running (see the Asterisk log).\n");
    CliOutcome::Failure
}

fn show_all(call: &CliCall) -> CliOutcome {
    if !call.args_after(3).is_empty() {
        return CliOutcome::ShowUsage;
    }
    let Some(rt) = current() else { return no_runtime(call) };
    let views: Vec<_> = rt.subscriptions().iter().map(|s| view(s)).collect();
    call.print(&format_table(&views));
    CliOutcome::Success
}

fn show_one(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [name] = args.as_slice() else { return CliOutcome::ShowUsage };
    let Some(rt) = current() else { return no_runtime(call) };
    let Some(sub) = rt.get(name) else {
        return call.refuse(Some(&format!("no MWI subscription '{}'", printable(name))));
    };
    call.print(&format_detail(&view(&sub), rt.clock.now()));
    CliOutcome::Success
}

fn resubscribe(call: &CliCall) -> CliOutcome {
    let args = call.args_after(2);
    let [name] = args.as_slice() else { return CliOutcome::ShowUsage };
    let Some(rt) = current() else { return no_runtime(call) };
    if rt.resubscribe(name) {
        call.print(&format!("MWI subscription '{}': subscribing again now.\n", printable(name)));
        CliOutcome::Success
    } else {
        call.refuse(Some(&format!("no MWI subscription '{}'", printable(name))))
    }
}

fn convert(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let path = match args.as_slice() {
        [] => "/etc/asterisk/sip.conf",
        [p] => p,
        _ => return CliOutcome::ShowUsage,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return call.refuse(Some(&format!("cannot read {}: {e}", printable(path)))),
    };
    let conversion = chan_sip_mwi::convert(&text);
    for w in &conversion.warnings {
        call.print(&format!("; warning: {w}\n"));
    }
    call.print(&conversion.text);
    call.print(&format!("; {} mwi-subscription object(s) from {}\n", conversion.count, printable(path)));
    CliOutcome::Success
}

fn complete_name(c: &Completion) -> Vec<String> {
    let Some(rt) = current() else { return Vec::new() };
    rt.subscriptions().iter().map(|s| s.name().to_owned()).filter(|n| n.starts_with(&c.word)).collect()
}
