//! The one guard every C-to-Rust entry point goes through, and the panic hook.
//!
//! A panic unwinding into C, or an abort, takes every call on the PBX with it. So each
//! `extern "C"` function of ours runs its body in [`entry`], which catches the panic and turns it
//! into the host's error value; the hook reports it through `ast_log` only. Neither touches
//! per-thread state with a destructor (no `thread::current()`, no thread-local with Drop): those
//! would register destructors on Asterisk-owned threads that run after our image is unmapped.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

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

static HOOK: Once = Once::new();

/// Installs the panic hook (once per image): it logs the message and location through ast_log
/// and does nothing else; no backtrace capture, no stderr, no thread lookup.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let msg = info.payload_as_str().unwrap_or("(non-text panic payload)");
            let (file, line) = info.location().map(|l| (l.file(), l.line())).unwrap_or(("?", 0));
            log::error_at(file, line, "panic", &format!("res_mwi_hub: Rust panic at {file}:{line}: {msg}"));
        }));
    });
}
