//! The safe wrapper layer over Asterisk. Each file wraps one host concept and names the
//! Asterisk header it covers; values own their registrations and undo them on drop.
//! Only this layer touches the raw bindings (`sys`, private here: the compiler enforces it).

pub mod ao2;
pub mod ari;
pub mod astdb;
pub mod cli;
pub mod config;
pub mod guard;
pub mod log;
pub mod manager;
pub mod module;
pub mod mwi;
pub mod pjsip;
pub mod pjsip_client;
// Private: code outside `host` that names a raw binding does not compile.
pub mod sorcery;
mod sys;
pub mod taskprocessor;
pub mod thread;
pub mod voicemail;

use std::ffi::{CStr, CString};

/// A C string for Asterisk from Rust text; an interior NUL (never valid in what we pass)
/// becomes '?', so the conversion cannot fail.
pub(crate) fn c_string(text: &str) -> CString {
    match CString::new(text) {
        Ok(c) => c,
        Err(_) => CString::new(text.replace('\0', "?")).unwrap_or_default(),
    }
}

/// The address of a global symbol of the loaded images (Asterisk's and its modules'), for the
/// functions we may not bind at load: our image binds every symbol then, and these are missing
/// from some builds (XML documentation) or live in optional modules (res_ari).
pub(crate) fn global_symbol(name: &CStr) -> Option<*mut libc::c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT only reads the loaded images' symbol tables.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!address.is_null()).then_some(address)
}

/// Text of a C string owned by Asterisk, lossily decoded.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for the duration of the call.
pub(crate) unsafe fn text_of(ptr: *const libc::c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: non-NULL and NUL-terminated, as the caller promises.
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}
