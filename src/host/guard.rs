//! The one guard every C-to-Rust entry point goes through, the module's in-flight gate, and the
//! panic hook.
//!
//! A panic unwinding into C, or an abort, takes every call on the PBX with it. So each
//! `extern "C"` function of ours runs its body in [`entry`], which catches the panic and turns it
//! into the host's error value; the hook reports it through `ast_log` only. Neither touches
//! per-thread state with a destructor (no `thread::current()`, no thread-local with Drop): those
//! would register destructors on Asterisk-owned threads that run after our image is unmapped.
//!
//! Callbacks of our registrations (CLI, AMI, pjsip, MWI observer, voicemail provider) run
//! through [`gated`]: it also holds the module's [`GATE`] for the whole call, so an unload
//! waits for every thread inside our code and turns new ones away.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::log;

/// How an entry point failed.
#[derive(Debug)]
pub enum EntryFailure {
    /// The body panicked; the hook has logged where and why.
    Panicked,
}

/// Runs `body` as the body of the C entry point `name`; a panic is caught, logged at ERROR
/// level, and returned as [`EntryFailure::Panicked`] for the caller to map to the host's
/// error value.
pub fn entry<R>(name: &'static str, body: impl FnOnce() -> R) -> Result<R, EntryFailure> {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => Ok(value),
        Err(payload) => {
            // A payload whose Drop panics must not escape either: leak it instead.
            if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                std::mem::forget(again);
            }
            log::error_at(
                file!(),
                line!(),
                name,
                &format!("{name} failed: Rust panic caught (see previous message); Asterisk continues"),
            );
            Err(EntryFailure::Panicked)
        }
    }
}

/// Like [`entry`], returning `on_panic` after a panic.
pub fn entry_or<R>(name: &'static str, on_panic: R, body: impl FnOnce() -> R) -> R {
    entry(name, body).unwrap_or(on_panic)
}

/// Why a gated callback did not run its body to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
    /// The module is unloading: the gate turned the call away before the body ran.
    Unloading,
    /// The body panicked (logged by the hook and by [`entry`]).
    Panicked,
}

/// The one prologue of every callback of our registrations: enters the module's gate (held
/// until this returns, so unload waits for the whole call, answer included) and runs `body`
/// inside the guard. When turned away or after a panic, `fallback` says what to answer (it runs
/// inside the gate and the guard too); should that panic as well, `failure` is returned.
pub fn gated<R: Copy>(
    name: &'static str,
    failure: R,
    fallback: impl FnOnce(NotRun) -> R,
    body: impl FnOnce() -> R,
) -> R {
    let ticket = GATE.enter();
    let why = if ticket.admitted() {
        match entry(name, body) {
            Ok(value) => return value,
            Err(EntryFailure::Panicked) => NotRun::Panicked,
        }
    } else {
        NotRun::Unloading
    };
    let value = entry_or(name, failure, || fallback(why));
    drop(ticket);
    value
}

/// [`gated`] for callbacks whose answer is the same value whenever the body did not run.
pub fn gated_or<R: Copy>(name: &'static str, failure: R, body: impl FnOnce() -> R) -> R {
    gated(name, failure, |_| failure, body)
}

/// Counts the threads inside our callbacks and shuts the door on new calls while the module
/// unloads: unload is refused while any call is in flight, and it does not return before the
/// last thread has left our code.
pub struct InflightGate(AtomicU64);

const CLOSED: u64 = 1 << 63;

/// A thread inside one of our callbacks, admitted or turned away; dropping it leaves.
struct GateTicket {
    gate: &'static InflightGate,
    admitted: bool,
}

impl GateTicket {
    fn admitted(&self) -> bool {
        self.admitted
    }
}

impl Drop for GateTicket {
    fn drop(&mut self) {
        self.gate.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl InflightGate {
    const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    fn enter(&'static self) -> GateTicket {
        let prev = self.0.fetch_add(1, Ordering::SeqCst);
        GateTicket { gate: self, admitted: prev & CLOSED == 0 }
    }

    fn inside(&self) -> u64 {
        self.0.load(Ordering::SeqCst) & !CLOSED
    }

    /// Waits up to `wait` for every thread to leave; true when none is inside.
    pub fn drained(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while self.inside() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// Closes the door. Threads that were only turned away leave within microseconds; a call
    /// still running after a short wait makes this fail with the number inside.
    pub fn close(&self) -> Result<(), u64> {
        self.0.fetch_or(CLOSED, Ordering::SeqCst);
        if self.drained(Duration::from_millis(50)) {
            return Ok(());
        }
        self.open();
        Err(self.inside())
    }

    pub fn open(&self) {
        self.0.fetch_and(!CLOSED, Ordering::SeqCst);
    }
}

/// The gate of this image's module.
pub static GATE: InflightGate = InflightGate::new();

static HOOK: Once = Once::new();

/// Installs the panic hook (once per image): it logs the message and location through ast_log
/// and does nothing else; no backtrace capture, no stderr, no thread lookup. Called first in
/// the image's constructor, so no panic of ours ever reaches std's default hook.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let msg = info.payload_as_str().unwrap_or("(non-text panic payload)");
            let (file, line) = info.location().map(|l| (l.file(), l.line())).unwrap_or(("?", 0));
            log::error_at(file, line, "panic", &format!("res_mwi_hub: Rust panic at {file}:{line}: {msg}"));
        }));
    });
}
