//! Test-only commands (cargo feature `test-hooks`, never in the shipped build): forced panics
//! for the crash-safety tests, a held call for the unload-refusal test, and the timed publish
//! loop `make bench` compares with the C baseline module.

use std::time::{Duration, Instant};

use crate::domain::counts::{parse_count, MwiCounts};
use crate::domain::mailbox::MailboxId;
use crate::domain::store::MailboxKey;
use crate::host::cli::{CliCall, CliCommand, CliOutcome};
use crate::host::mwi;

pub static COMMANDS: [CliCommand; 9] = [
    CliCommand {
        command: c"mwi test module-running",
        summary: c"Test build only: whether the loader runs a module",
        usage: c"Usage: mwi test module-running <module.so>\n       yes or no, as res_mwi_hub decides whether res_ari runs.\n",
        run: module_running,
        complete: None,
    },
    CliCommand {
        command: c"mwi test panic",
        summary: c"Test build only: panic inside a CLI handler",
        usage: c"Usage: mwi test panic\n",
        run: |_| panic!("test-hooks: forced panic in a CLI handler"),
        complete: None,
    },
    CliCommand {
        command: c"mwi test sleep",
        summary: c"Test build only: hold a CLI call open",
        usage: c"Usage: mwi test sleep <milliseconds>\n",
        run: sleep,
        complete: None,
    },
    CliCommand {
        command: c"mwi test publish-loop",
        summary: c"Test build only: timed publish loop",
        usage: c"Usage: mwi test publish-loop <count> <mailboxes>\n       Publishes <count> states over <mailboxes> mailboxes bench<i>@bench.\n",
        run: publish_loop,
        complete: None,
    },
    CliCommand {
        command: c"mwi test publish-delay",
        summary: c"Test build only: slow the MWI publishing thread down",
        usage: c"Usage: mwi test publish-delay <milliseconds>\n       Sleeps that long before each queued publish (0: none), as a busy Asterisk core would.\n",
        run: publish_delay,
        complete: None,
    },
    CliCommand {
        command: c"mwi test delete-state",
        summary: c"Test build only: clear one cached MWI state",
        usage: c"Usage: mwi test delete-state <mailbox@context>\n",
        run: delete_state,
        complete: None,
    },
    CliCommand {
        command: c"mwi test newest-arrival",
        summary: c"Test build only: the NOTIFY received last for a mailbox",
        usage: c"Usage: mwi test newest-arrival <mailbox@context>\n       The arrival number (pjsip's receiving thread) and counts of the newest NOTIFY handled for it.\n",
        run: newest_arrival,
        complete: None,
    },
    CliCommand {
        command: c"mwi test arrival-check",
        summary: c"Test build only: switch the NOTIFY arrival-order check",
        usage: c"Usage: mwi test arrival-check on|off\n",
        run: arrival_check,
        complete: None,
    },
    CliCommand {
        command: c"mwi test pacing",
        summary: c"Test build only: switch publishing's pacing",
        usage: c"Usage: mwi test pacing on|off\n       Off, publishing never waits for an overloaded Asterisk.\n",
        run: pacing,
        complete: None,
    },
];

fn sleep(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [ms] = args.as_slice() else { return CliOutcome::ShowUsage };
    let Ok(ms) = parse_count(ms) else { return CliOutcome::ShowUsage };
    std::thread::sleep(Duration::from_millis(u64::from(ms)));
    call.print("slept\n");
    CliOutcome::Success
}

fn thread_cpu_ns() -> u128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-parameter for clock_gettime.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

fn publish_loop(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [count, mailboxes] = args.as_slice() else { return CliOutcome::ShowUsage };
    let (Ok(count), Ok(mailboxes)) = (parse_count(count), parse_count(mailboxes)) else {
        return CliOutcome::ShowUsage;
    };
    let mailboxes = mailboxes.max(1);
    let start = Instant::now();
    let cpu0 = thread_cpu_ns();
    let mut failed = 0u32;
    for i in 0..count {
        let id = format!("bench{}@bench", i % mailboxes);
        let Ok(id) = MailboxId::parse(&id) else { return CliOutcome::Failure };
        let counts = MwiCounts { new: i % 100, old: i % 7, urgent: i % 3 };
        if mwi::publish(MailboxKey::from(&id).as_str(), counts).is_err() {
            failed += 1;
        }
    }
    let cpu = thread_cpu_ns() - cpu0;
    let wall = start.elapsed().as_nanos();
    call.print(&format!("published {count} failed {failed} wall_ns {wall} cpu_ns {cpu}\n"));
    CliOutcome::Success
}

fn publish_delay(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [ms] = args.as_slice() else { return CliOutcome::ShowUsage };
    let Ok(ms) = parse_count(ms) else { return CliOutcome::ShowUsage };
    crate::mailboxes::set_publish_delay(Duration::from_millis(u64::from(ms)));
    call.print(&format!("publish delay {ms} ms\n"));
    CliOutcome::Success
}

fn module_running(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [name] = args.as_slice() else { return CliOutcome::ShowUsage };
    call.print(if crate::host::module::is_running(name) { "yes\n" } else { "no\n" });
    CliOutcome::Success
}

fn delete_state(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [id] = args.as_slice() else { return CliOutcome::ShowUsage };
    let Ok(id) = MailboxKey::parse(id) else { return CliOutcome::ShowUsage };
    if mwi::delete(id.as_str()) {
        call.print(&format!("deleted {id}\n"));
    } else {
        call.print(&format!("nothing cached for {id}\n"));
    }
    CliOutcome::Success
}

fn newest_arrival(call: &CliCall) -> CliOutcome {
    let args = call.args_after(3);
    let [id] = args.as_slice() else { return CliOutcome::ShowUsage };
    match crate::incoming::newest_arrival(id) {
        Some((arrival, c)) => {
            call.print(&format!("arrival {arrival} new {} old {} urgent {}\n", c.new, c.old, c.urgent))
        }
        None => call.print(&format!("no NOTIFY recorded for {id}\n")),
    }
    CliOutcome::Success
}

/// Runs a test switch `mwi test <name> on|off`: `set` applies it and says "<name> on|off".
fn switch(call: &CliCall, name: &str, set: impl FnOnce(bool) -> bool) -> CliOutcome {
    let on = match call.args_after(3).as_slice() {
        ["on"] => true,
        ["off"] => false,
        _ => return CliOutcome::ShowUsage,
    };
    if !set(on) {
        return CliOutcome::Failure;
    }
    call.print(&format!("{name} {}\n", if on { "on" } else { "off" }));
    CliOutcome::Success
}

fn arrival_check(call: &CliCall) -> CliOutcome {
    switch(call, "arrival check", |on| {
        crate::incoming::ARRIVAL_CHECK.store(on, std::sync::atomic::Ordering::Relaxed);
        true
    })
}

fn pacing(call: &CliCall) -> CliOutcome {
    switch(call, "pacing", |on| match crate::mailboxes::service::current() {
        Some(service) => {
            service.pacing().set_enabled(on);
            true
        }
        None => false,
    })
}
