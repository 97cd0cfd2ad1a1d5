//! Logging through Asterisk's logger (asterisk/logger.h).
//!
//! Messages are formatted in Rust and handed over with a constant `"%s\n"` format: a user
//! string is never a format. Debug output follows `core set debug N res_mwi_hub` (or the global
//! debug level), verbose output the verbosity level, exactly as Asterisk's own macros decide.

use std::ptr;

use super::sys;

/// The module name debug levels are set under.
const MODULE_NAME: &std::ffi::CStr = c"res_mwi_hub";
const LINE_FORMAT: &std::ffi::CStr = c"%s\n";

#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // Notice: see ast_notice
pub enum Level {
    Debug,
    Notice,
    Warning,
    Error,
}

fn level_value(level: Level) -> libc::c_int {
    (match level {
        Level::Debug => sys::__LOG_DEBUG,
        Level::Notice => sys::__LOG_NOTICE,
        Level::Warning => sys::__LOG_WARNING,
        Level::Error => sys::__LOG_ERROR,
    }) as libc::c_int
}

/// Logs `msg` at `level`, attributed to `file:line` in `func`.
pub fn log_at(level: Level, file: &str, line: u32, func: &str, msg: &str) {
    let file = super::c_string(file);
    let func = super::c_string(func);
    let msg = super::c_string(msg);
    // SAFETY: every pointer is a NUL-terminated string alive for the call; the format is the
    // constant "%s\n" and consumes exactly the one string argument passed.
    unsafe {
        sys::ast_log(
            level_value(level),
            file.as_ptr(),
            line as libc::c_int,
            func.as_ptr(),
            LINE_FORMAT.as_ptr(),
            msg.as_ptr(),
        )
    };
}

/// ERROR-level line; used by the guard and the panic hook.
pub fn error_at(file: &str, line: u32, func: &str, msg: &str) {
    log_at(Level::Error, file, line, func, msg);
}

/// Whether debug output at `level` is on for this module (Asterisk's DEBUG_ATLEAST).
pub fn debug_enabled(level: i32) -> bool {
    // SAFETY: option_debug and ast_options are plain globals Asterisk updates in place; an
    // aligned int/u64 read cannot tear, and a stale value only delays a debug line, as in C.
    let (global, flags) = unsafe {
        (
            ptr::addr_of!(sys::option_debug).read_volatile(),
            ptr::addr_of!(sys::ast_options.flags).read_volatile(),
        )
    };
    if global >= level {
        return true;
    }
    if flags & u64::from(sys::AST_OPT_FLAG_DEBUG_MODULE) == 0 {
        return false;
    }
    // SAFETY: MODULE_NAME is a NUL-terminated constant.
    let by_module = unsafe { sys::ast_debug_get_by_module(MODULE_NAME.as_ptr()) };
    by_module as i64 >= i64::from(level)
}

/// Whether Asterisk has finished booting (`ast_fully_booted`).
pub fn fully_booted() -> bool {
    // SAFETY: as in debug_enabled: an aligned u64 Asterisk updates in place.
    let flags = unsafe { ptr::addr_of!(sys::ast_options.flags).read_volatile() };
    flags & u64::from(sys::AST_OPT_FLAG_FULLY_BOOTED) != 0
}

/// Whether verbose output at `level` would reach any console (Asterisk's VERBOSITY_ATLEAST).
pub fn verbose_enabled(level: i32) -> bool {
    // SAFETY: as in debug_enabled: an aligned int Asterisk updates in place.
    let sys_level = unsafe { ptr::addr_of!(sys::ast_verb_sys_level).read_volatile() };
    level <= sys_level
}

/// A verbose message at `level` (the `-- ` lines of the console).
pub fn verbose_at(level: i32, file: &str, line: u32, func: &str, msg: &str) {
    let file = super::c_string(file);
    let func = super::c_string(func);
    let msg = super::c_string(msg);
    // SAFETY: NUL-terminated strings alive for the call; constant "%s\n" format with one argument.
    unsafe {
        sys::__ast_verbose(
            file.as_ptr(),
            line as libc::c_int,
            func.as_ptr(),
            level,
            LINE_FORMAT.as_ptr(),
            msg.as_ptr(),
        )
    };
}

/// `ast_error!("...", args)`: an ERROR line.
macro_rules! ast_error {
    ($($arg:tt)*) => {
        $crate::host::log::log_at($crate::host::log::Level::Error, file!(), line!(), module_path!(), &format!($($arg)*))
    };
}
/// `ast_warning!("...", args)`: a WARNING line.
macro_rules! ast_warning {
    ($($arg:tt)*) => {
        $crate::host::log::log_at($crate::host::log::Level::Warning, file!(), line!(), module_path!(), &format!($($arg)*))
    };
}
/// `ast_notice!("...", args)`: a NOTICE line.
#[allow(unused_macros)]
macro_rules! ast_notice {
    ($($arg:tt)*) => {
        $crate::host::log::log_at($crate::host::log::Level::Notice, file!(), line!(), module_path!(), &format!($($arg)*))
    };
}
/// `ast_verb!(level, "...", args)`: formatted only when that verbosity is on.
macro_rules! ast_verb {
    ($level:expr, $($arg:tt)*) => {
        if $crate::host::log::verbose_enabled($level) {
            $crate::host::log::verbose_at($level, file!(), line!(), module_path!(), &format!($($arg)*))
        }
    };
}
/// `ast_debug!(level, "...", args)`: formatted only when `core set debug` asks for it.
macro_rules! ast_debug {
    ($level:expr, $($arg:tt)*) => {
        if $crate::host::log::debug_enabled($level) {
            $crate::host::log::log_at($crate::host::log::Level::Debug, file!(), line!(), module_path!(), &format!($($arg)*))
        }
    };
}
#[allow(unused_imports)] // NOTICE has no user yet; the external-mailbox store will log with it
pub(crate) use {ast_debug, ast_error, ast_notice, ast_verb, ast_warning};
