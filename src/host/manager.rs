//! AMI actions (asterisk/manager.h).
//!
//! An action is a type implementing [`AmiAction`]; its C callback is a trampoline
//! monomorphised per type (Asterisk's action callback carries no user data). Every call passes
//! the module's gate and the guard, and always answers: a handler that returns without a
//! response, or panics, gets an `Error` response sent for it, so no client ever hangs.

use std::cell::Cell;
use std::ffi::CStr;
use std::marker::PhantomData;

use super::guard::{self, NotRun};
use super::module::ModuleRef;
use super::sys;

/// One AMI request being handled: read its headers, answer it once.
pub struct AmiCall<'a> {
    s: *mut sys::mansession,
    m: *const sys::message,
    responded: Cell<bool>,
    _call: PhantomData<&'a ()>,
}

impl AmiCall<'_> {
    /// The value of header `name`, or "" when absent (Asterisk does not tell them apart).
    pub fn header(&self, name: &CStr) -> String {
        // SAFETY: m is the live message of this call; the returned pointer is into it (or a
        // static ""), valid for the call. astman_get_header does not write through `var`.
        unsafe { super::text_of(sys::astman_get_header(self.m, name.as_ptr().cast_mut())) }
    }

    /// `Response: Error` with `Message: text`.
    pub fn error(&self, text: &str) {
        let text = super::c_string(text);
        // SAFETY: s and m are live for the call; text is NUL-terminated and only read.
        unsafe { sys::astman_send_error(self.s, self.m, text.as_ptr().cast_mut()) };
        self.responded.set(true);
    }

    /// `Response: Success`, with `Message: text` when given.
    pub fn ack(&self, text: Option<&str>) {
        let text = text.map(super::c_string);
        let ptr = text.as_ref().map_or(std::ptr::null_mut(), |t| t.as_ptr().cast_mut());
        // SAFETY: s and m are live; a NULL message is allowed (no Message header).
        unsafe { sys::astman_send_ack(self.s, self.m, ptr) };
        self.responded.set(true);
    }

    /// `Response: Success`, `EventList: <flag>`, `Message: text`: a list follows.
    pub fn list_ack(&self, text: &str, flag: &str) {
        let text = super::c_string(text);
        let flag = super::c_string(flag);
        // SAFETY: s and m are live; both strings NUL-terminated and only read.
        unsafe {
            sys::astman_send_listack(self.s, self.m, text.as_ptr().cast_mut(), flag.as_ptr().cast_mut())
        };
        self.responded.set(true);
    }

    /// Raw text to this session only (events of a list): each header line ends in "\r\n" and
    /// the message with an empty line.
    pub fn append(&self, text: &str) {
        let text = super::c_string(text);
        // SAFETY: s is live; "%s" consumes the one string argument.
        unsafe { sys::astman_append(self.s, c"%s".as_ptr(), text.as_ptr()) };
    }

    /// The `<event>` that closes a list: `EventList: Complete`, `ListItems: count`.
    pub fn list_complete(&self, event: &CStr, count: usize) {
        // SAFETY: s and m are live; event is NUL-terminated.
        unsafe {
            sys::astman_send_list_complete_start(
                self.s,
                self.m,
                event.as_ptr(),
                count.min(i32::MAX as usize) as i32,
            );
            sys::astman_send_list_complete_end(self.s);
        }
    }
}

/// An AMI action of ours.
pub trait AmiAction: 'static {
    const NAME: &'static CStr;
    /// Privilege needed, as `EVENT_FLAG_*` bits.
    const AUTHORITY: u32;
    const SYNOPSIS: &'static CStr;
    const DESCRIPTION: &'static CStr;
    /// Handles one request; must answer through `call` (the trampoline answers otherwise).
    fn handle(call: &AmiCall);
}

extern "C" fn trampoline<A: AmiAction>(s: *mut sys::mansession, m: *const sys::message) -> libc::c_int {
    let call = AmiCall { s, m, responded: Cell::new(false), _call: PhantomData };
    let name = A::NAME.to_str().unwrap_or("AMI action");
    guard::gated(
        name,
        0,
        |why| {
            call.error(match why {
                NotRun::Unloading => "res_mwi_hub is being unloaded; action not run",
                NotRun::Panicked => "Internal error in res_mwi_hub; details are in the Asterisk log",
            });
            0
        },
        || {
            A::handle(&call);
            if !call.responded.get() {
                call.error("Internal error in res_mwi_hub: no response was produced");
            }
            0
        },
    )
}

/// One registered action; unregistered on drop.
///
/// # Invariants
/// `name` is registered with Asterisk's manager and points to our trampoline.
pub struct AmiRegistration {
    name: &'static CStr,
}

impl AmiRegistration {
    /// Registers `A`; fails if the name is taken (for example by res_mwi_external_ami).
    ///
    /// With our XML documentation installed, Asterisk builds the action's help from it (NULL
    /// texts: `manager show command` then shows its Syntax, Arguments and "Provided By");
    /// otherwise, or when another module's documentation of the same name comes first, the
    /// static texts stand.
    pub fn register<A: AmiAction>(module: ModuleRef) -> Result<Self, String> {
        let (synopsis, description) = if xml_synopsis(A::NAME).is_some_and(|s| same_text(&s, A::SYNOPSIS)) {
            (std::ptr::null(), std::ptr::null())
        } else {
            (A::SYNOPSIS.as_ptr(), A::DESCRIPTION.as_ptr())
        };
        // SAFETY: all strings are 'static and NUL-terminated (or NULL: documented from XML);
        // the trampoline matches the callback type; module is our loader-given module pointer.
        let rc = unsafe {
            sys::ast_manager_register2(
                A::NAME.as_ptr(),
                A::AUTHORITY as libc::c_int,
                Some(trampoline::<A>),
                module.as_ptr(),
                synopsis,
                description,
            )
        };
        if rc != 0 {
            return Err(format!(
                "could not register AMI action {} (already registered by another module, such as res_mwi_external_ami?)",
                A::NAME.to_string_lossy()
            ));
        }
        Ok(Self { name: A::NAME })
    }
}

type BuildSynopsis =
    unsafe extern "C" fn(*const libc::c_char, *const libc::c_char, *const libc::c_char) -> *mut libc::c_char;

/// The synopsis Asterisk's XML documentation gives manager action `name`: the first document
/// that has one (third-party documents are read before core-en_US.xml, which documents
/// res_mwi_external_ami's actions of the same names). None in a build without XML docs.
fn xml_synopsis(name: &CStr) -> Option<String> {
    let build = super::core_symbol(c"ast_xmldoc_build_synopsis")?;
    // SAFETY: the address is Asterisk's ast_xmldoc_build_synopsis, whose C type (read on
    // branches 20 to 23; asterisk-headers/xmldoc.h, checked by the conformance check) is the
    // one transmuted to.
    let build = unsafe { std::mem::transmute::<*mut libc::c_void, BuildSynopsis>(build) };
    // SAFETY: NUL-terminated strings, only read; a NULL module means any module's document.
    let text = unsafe { build(c"manager".as_ptr(), name.as_ptr(), std::ptr::null()) };
    if text.is_null() {
        return None;
    }
    // SAFETY: text is the NUL-terminated string just returned, ours to free with ast_free.
    let synopsis = unsafe { super::text_of(text) };
    // SAFETY: allocated by Asterisk's allocator and not used after this.
    unsafe {
        sys::__ast_free(text.cast(), c"manager.rs".as_ptr(), line!() as libc::c_int, c"xml_synopsis".as_ptr())
    };
    Some(synopsis)
}

/// Equal up to white space (the XML's synopsis is indented and wrapped).
fn same_text(xml: &str, ours: &CStr) -> bool {
    xml.split_whitespace().eq(ours.to_string_lossy().split_whitespace())
}

impl Drop for AmiRegistration {
    fn drop(&mut self) {
        // SAFETY: the action is registered (invariant); the name is NUL-terminated. Calls that
        // already started are covered by the module's gate, which unload drains.
        unsafe { sys::ast_manager_unregister(self.name.as_ptr()) };
    }
}

/// Privilege bits for [`AmiAction::AUTHORITY`].
pub const EVENT_FLAG_CALL: u32 = sys::EVENT_FLAG_CALL;
pub const EVENT_FLAG_REPORTING: u32 = sys::EVENT_FLAG_REPORTING;
pub const EVENT_FLAG_SYSTEM: u32 = sys::EVENT_FLAG_SYSTEM;

/// Raises AMI event `name` of class `category` (`EVENT_FLAG_*`) to every session allowed to
/// see it; `body` is its header lines, each ending in "\r\n".
pub fn raise_event(category: u32, name: &CStr, body: &str) {
    let body = super::c_string(body);
    // SAFETY: every string is NUL-terminated and read during the call; "%s" takes `body`.
    unsafe {
        sys::__ast_manager_event_multichan(
            category as libc::c_int,
            name.as_ptr(),
            0,
            std::ptr::null_mut(),
            c"manager.rs".as_ptr(),
            line!() as libc::c_int,
            c"raise_event".as_ptr(),
            c"%s".as_ptr(),
            body.as_ptr(),
        )
    };
}
