//! CLI commands (asterisk/cli.h).
//!
//! A [`CliCommand`] describes one command; [`CliRegistration`] owns the registered
//! `ast_cli_entry` values (heap, writable: Asterisk writes into them) and unregisters them,
//! refusing while one is in use. Every call passes the module's in-flight gate and the guard.

use std::cell::UnsafeCell;
use std::ffi::CStr;
use std::ptr;
use std::time::Duration;

use super::guard::{self, NotRun};
use super::log::ast_error;
use super::module::ModuleRef;
use super::sys;

/// What a command handler returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliOutcome {
    Success,
    /// Asterisk prints the usage text.
    ShowUsage,
    /// The handler printed why; Asterisk adds "Command '...' failed."
    Failure,
}

/// One invocation of a command: its words and the console to print to.
pub struct CliCall {
    fd: libc::c_int,
    /// Every word of the command line, the command's own words included.
    pub argv: Vec<String>,
}

impl CliCall {
    /// Prints `text` as it is (add the newline yourself).
    pub fn print(&self, text: &str) {
        let text = super::c_string(text);
        // SAFETY: fd came from Asterisk for this call; "%s" consumes the one string passed.
        unsafe { sys::ast_cli(self.fd, c"%s".as_ptr(), text.as_ptr()) };
    }

    /// Reports a command line the admin must correct: `Error: <error>`, or the usage text
    /// when there is no error text.
    pub fn refuse(&self, error: Option<&str>) -> CliOutcome {
        match error {
            None => CliOutcome::ShowUsage,
            Some(msg) => {
                self.print(&format!("Error: {msg}\n"));
                CliOutcome::Failure
            }
        }
    }

    /// The words after the first `n` (the command's own words).
    pub fn args_after(&self, n: usize) -> Vec<&str> {
        self.argv.iter().skip(n).map(String::as_str).collect()
    }
}

/// A tab-completion request: the word being completed and its position (0-based) on the line.
pub struct Completion {
    pub word: String,
    pub pos: usize,
}

/// A command: its words, texts and handlers. Lives for the whole program (a `static`).
pub struct CliCommand {
    /// The words, e.g. `c"mwi show state"`.
    pub command: &'static CStr,
    /// One line, under 60 characters.
    pub summary: &'static CStr,
    /// Full usage text in Asterisk's style ("Usage: ...\n       ...\n").
    pub usage: &'static CStr,
    pub run: fn(&CliCall) -> CliOutcome,
    pub complete: Option<fn(&Completion) -> Vec<String>>,
}

/// An `ast_cli_entry` with the command it serves; `entry` first, so the pointer Asterisk hands
/// the handler is also a pointer to this struct.
#[repr(C)]
struct EntryCell {
    entry: UnsafeCell<sys::ast_cli_entry>,
    command: &'static CliCommand,
}

/// Registered commands.
///
/// # Invariants
/// Every entry in `entries` is registered with Asterisk and stays at its heap address until
/// it has been unregistered.
pub struct CliRegistration {
    // Boxed: Asterisk keeps each entry's address, which must not move when the Vec grows.
    #[allow(clippy::vec_box)]
    entries: Vec<Box<EntryCell>>,
}

// SAFETY: the entries are only touched by Asterisk under its own locks and by us in
// register/unregister, which the module serialises.
unsafe impl Send for CliRegistration {}

fn new_entry(command: &'static CliCommand) -> Box<EntryCell> {
    // SAFETY: ast_cli_entry is plain C data (pointers, ints, an Option<fn>): all-zero is its
    // valid "unset" state, as in a C static initialiser.
    let mut entry: sys::ast_cli_entry = unsafe { std::mem::zeroed() };
    entry.summary = command.summary.as_ptr();
    entry.handler = Some(cli_trampoline);
    Box::new(EntryCell { entry: UnsafeCell::new(entry), command })
}

fn register_entry(cell: &EntryCell, module: ModuleRef) -> bool {
    // SAFETY: the entry is heap-allocated and stays put while registered (invariant of
    // CliRegistration); module is our loader-given module pointer.
    unsafe { sys::__ast_cli_register(cell.entry.get(), module.as_ptr()) == 0 }
}

/// Tries to unregister one entry; true when Asterisk really removed it.
fn unregister_entry(cell: &EntryCell) -> bool {
    let e = cell.entry.get();
    for _ in 0..200 {
        // SAFETY: e is registered and alive; inuse is an int Asterisk changes atomically.
        let inuse = unsafe { ptr::addr_of!((*e).inuse).read_volatile() };
        if inuse == 0 {
            // SAFETY: e is registered and alive.
            unsafe { sys::ast_cli_unregister(e) };
            // ast_cli_unregister returns 0 even when it refused: it clears _full_cmd only
            // when it removed the entry.
            // SAFETY: e is alive; Asterisk no longer writes it once removed.
            if unsafe { ptr::addr_of!((*e)._full_cmd).read_volatile() }.is_null() {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

impl CliRegistration {
    /// Registers every command; all or nothing.
    pub fn register(
        commands: impl IntoIterator<Item = &'static CliCommand>,
        module: ModuleRef,
    ) -> Result<Self, String> {
        let mut entries = Vec::new();
        for command in commands {
            let cell = new_entry(command);
            if !register_entry(&cell, module) {
                let mut partial = Self { entries };
                let _ = partial.unregister_all();
                std::mem::forget(partial);
                return Err(format!(
                    "could not register CLI command '{}'",
                    command.command.to_string_lossy()
                ));
            }
            entries.push(cell);
        }
        Ok(Self { entries })
    }

    /// Unregisters every command, all or nothing: if one is in use past a short wait, the ones
    /// already removed are registered again and the registration is handed back.
    pub fn unregister(mut self, module: ModuleRef) -> Result<(), Self> {
        match self.unregister_all() {
            Ok(()) => {
                std::mem::forget(self);
                Ok(())
            }
            Err(removed) => {
                for cell in &self.entries[..removed] {
                    if !register_entry(cell, module) {
                        ast_error!(
                            "could not re-register CLI command '{}'",
                            cell.command.command.to_string_lossy()
                        );
                    }
                }
                Err(self)
            }
        }
    }

    /// Removes entries in order; on a refusal returns how many were removed before it.
    fn unregister_all(&mut self) -> Result<(), usize> {
        for (i, cell) in self.entries.iter().enumerate() {
            if !unregister_entry(cell) {
                return Err(i);
            }
        }
        self.entries = Vec::new(); // frees the buffer too: unregister then forgets self
        Ok(())
    }
}

impl Drop for CliRegistration {
    fn drop(&mut self) {
        // Only reached on error paths (unregister forgets self on success). Entries Asterisk
        // still holds are leaked, never freed under it.
        if let Err(removed) = self.unregister_all() {
            ast_error!("CLI commands still in use: leaking their entries");
            for cell in self.entries.drain(removed..) {
                Box::leak(cell);
            }
        }
    }
}

/// The one handler every entry of ours points to.
extern "C" fn cli_trampoline(
    e: *mut sys::ast_cli_entry,
    cmd: libc::c_int,
    a: *mut sys::ast_cli_args,
) -> *mut libc::c_char {
    const SUCCESS: *mut libc::c_char = sys::RESULT_SUCCESS as usize as *mut libc::c_char;
    const SHOWUSAGE: *mut libc::c_char = sys::RESULT_SHOWUSAGE as usize as *mut libc::c_char;
    const FAILURE: *mut libc::c_char = sys::RESULT_FAILURE as usize as *mut libc::c_char;

    if e.is_null() {
        return FAILURE;
    }
    // SAFETY: every entry we register is the first field of an EntryCell (repr(C),
    // UnsafeCell is transparent), alive while registered.
    let command = unsafe { (*e.cast::<EntryCell>()).command };
    if cmd == sys::CLI_INIT {
        // Asked while registering, from our own load or unload (which hold the image): not
        // through the gate, which a failed unload's re-registration finds closed.
        return guard::entry_or("CLI init", ptr::null_mut(), || {
            // SAFETY: e is our live entry; Asterisk copies `command` and keeps `usage`, both
            // 'static.
            unsafe {
                (*e).command = command.command.as_ptr().cast_mut();
                (*e).usage = command.usage.as_ptr();
            }
            ptr::null_mut()
        });
    }
    if a.is_null() {
        return if cmd == sys::CLI_GENERATE { ptr::null_mut() } else { FAILURE };
    }
    if cmd == sys::CLI_GENERATE {
        return guard::gated_or("CLI completion", ptr::null_mut(), || {
            let Some(complete) = command.complete else { return ptr::null_mut() };
            // SAFETY: a is valid for the call; word is a NUL-terminated string or NULL.
            let (word, pos, n) = unsafe { (super::text_of((*a).word), (*a).pos, (*a).n) };
            let matches = complete(&Completion { word, pos: pos.max(0) as usize });
            match matches.get(n.max(0) as usize) {
                Some(m) => {
                    let m = super::c_string(m);
                    // SAFETY: Asterisk frees completion strings with ast_free, so they are
                    // allocated with its own strdup.
                    unsafe {
                        sys::__ast_strdup(
                            m.as_ptr(),
                            c"host/cli.rs".as_ptr(),
                            line!() as libc::c_int,
                            c"cli_trampoline".as_ptr(),
                        )
                    }
                }
                None => ptr::null_mut(),
            }
        });
    }
    // SAFETY: a is valid for the call; argv holds argc NUL-terminated strings.
    let (fd, argv) = unsafe {
        let args = &*a;
        let argv =
            (0..args.argc.max(0) as usize).map(|i| super::text_of(*args.argv.add(i))).collect::<Vec<_>>();
        (args.fd, argv)
    };
    let call = CliCall { fd, argv };
    guard::gated(
        command.command.to_str().unwrap_or("CLI command"),
        FAILURE,
        |why| {
            call.print(match why {
                NotRun::Unloading => "res_mwi_hub is being unloaded; command not run.\n",
                NotRun::Panicked => "Error: internal failure in res_mwi_hub; details are in the Asterisk log. Nothing else was affected.\n",
            });
            FAILURE
        },
        || match (command.run)(&call) {
            CliOutcome::Success => SUCCESS,
            CliOutcome::ShowUsage => SHOWUSAGE,
            CliOutcome::Failure => FAILURE,
        },
    )
}
