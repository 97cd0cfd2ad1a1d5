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

/// The address of one of Asterisk's own functions that we may not bind at load: our image binds
/// every symbol then, and these are missing from some builds (XML documentation). Only for the
/// executable's symbols: a lookup through RTLD_DEFAULT makes glibc record the image that
/// defines it as a dependency of ours (see [`module_symbols`]).
pub(crate) fn core_symbol(name: &CStr) -> Option<*mut libc::c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT only reads the loaded images' symbol tables.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!address.is_null()).then_some(address)
}

/// The addresses of `names` in the loaded module `file` ("res_ari.so"), if it is mapped and
/// has them all.
///
/// Looked up in the module's own handle, never through RTLD_DEFAULT: that makes glibc record
/// the module as a dependency of our image, which keeps it mapped after its unload and unmaps
/// it at our unload, even when it was loaded again meanwhile and runs; its CLI entries then
/// point into nothing (seen: Asterisk crashed at the next CLI command). A lookup in a handle
/// records nothing, and the handle, opened with RTLD_NOLOAD, is let go at once. The addresses
/// stay valid while the module stays loaded (the caller's affair: see module::while_running).
pub(crate) fn module_symbols<const N: usize>(
    file: &str,
    names: [&CStr; N],
) -> Option<[*mut libc::c_void; N]> {
    let path = c_string(&module::module_dir().join(file).to_string_lossy());
    // SAFETY: RTLD_NOLOAD only returns a handle to an image already mapped (adding one reference).
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
    if handle.is_null() {
        return None;
    }
    let mut found = [std::ptr::null_mut(); N];
    for (slot, name) in found.iter_mut().zip(names) {
        // SAFETY: a live handle; dlsym only reads its symbol table.
        *slot = unsafe { libc::dlsym(handle, name.as_ptr()) };
    }
    // SAFETY: the reference taken by dlopen above, given back once.
    unsafe { libc::dlclose(handle) };
    found.iter().all(|a| !a.is_null()).then_some(found)
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
