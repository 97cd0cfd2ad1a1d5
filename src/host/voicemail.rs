//! The voicemail-provider role (asterisk/app.h): the counting half of `struct ast_vm_functions`
//! (has_voicemail, inboxcount, inboxcount2, messagecount). Asterisk asks the one registered
//! provider for AMI MailboxCount / MailboxStatus, VM_INFO, and the `Waiting` field of
//! MessageWaiting events. Message handling (play, move, forward, ...) is left NULL, which
//! Asterisk reports as not supported by the provider.

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::guard;
use super::module::ModuleRef;
use super::sys;
use crate::domain::counts::MwiCounts;
use crate::domain::provider::{self, Folder};
use crate::domain::status::ProviderRole;

/// Where a provider's counts come from.
pub trait MailboxCounts: 'static {
    /// The counts of one mailbox id, if it is known.
    fn lookup(id: &str) -> Option<MwiCounts>;
}

const PROVIDER_NAME: &CStr = c"res_mwi_hub";

/// Runs `body` for a provider callback: gate, guard, and 0 when turned away or on a panic.
fn provider_call(name: &'static str, body: impl FnOnce() -> libc::c_int) -> libc::c_int {
    guard::gated_or(name, 0, body)
}

/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn arg(p: *const libc::c_char) -> String {
    // SAFETY: as the caller promises.
    unsafe { super::text_of(p) }
}

unsafe extern "C" fn has_voicemail<P: MailboxCounts>(
    mailboxes: *const libc::c_char,
    folder: *const libc::c_char,
) -> libc::c_int {
    provider_call("voicemail has_voicemail", || {
        // SAFETY: Asterisk passes NUL-terminated strings (folder may be NULL).
        let (mailboxes, folder) = unsafe { (arg(mailboxes), arg(folder)) };
        let n = provider::total(&mailboxes, Folder::parse(&folder), P::lookup);
        libc::c_int::from(n > 0)
    })
}

/// # Safety
/// Called by Asterisk with valid (or NULL) out-pointers.
unsafe fn write_out(p: *mut libc::c_int, value: u64) {
    if !p.is_null() {
        // SAFETY: non-NULL out-pointer supplied by Asterisk for this call.
        unsafe { *p = value.min(i32::MAX as u64) as libc::c_int };
    }
}

unsafe extern "C" fn inboxcount2<P: MailboxCounts>(
    mailboxes: *const libc::c_char,
    urgent: *mut libc::c_int,
    new: *mut libc::c_int,
    old: *mut libc::c_int,
) -> libc::c_int {
    provider_call("voicemail inboxcount2", || {
        // SAFETY: NUL-terminated string from Asterisk.
        let mailboxes = unsafe { arg(mailboxes) };
        let sum = provider::sum(&mailboxes, P::lookup);
        // SAFETY: out-pointers from Asterisk, valid for the call or NULL.
        unsafe {
            write_out(urgent, sum.urgent);
            write_out(new, sum.new);
            write_out(old, sum.old);
        }
        0
    })
}

unsafe extern "C" fn inboxcount<P: MailboxCounts>(
    mailboxes: *const libc::c_char,
    new: *mut libc::c_int,
    old: *mut libc::c_int,
) -> libc::c_int {
    // SAFETY: same contract; urgent is not asked for.
    unsafe { inboxcount2::<P>(mailboxes, std::ptr::null_mut(), new, old) }
}

unsafe extern "C" fn messagecount<P: MailboxCounts>(
    mailbox: *const libc::c_char,
    folder: *const libc::c_char,
) -> libc::c_int {
    provider_call("voicemail messagecount", || {
        // SAFETY: NUL-terminated strings from Asterisk (folder may be NULL).
        let (mailbox, folder) = unsafe { (arg(mailbox), arg(folder)) };
        provider::total(&mailbox, Folder::parse(&folder), P::lookup).min(i32::MAX as u64) as libc::c_int
    })
}

/// Why the role was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum ProviderError {
    /// Another module (app_voicemail, usually) is the provider.
    Taken,
    Failed,
}

/// Holds the provider role; gives it up on drop.
///
/// # Invariants
/// res_mwi_hub is the registered voicemail provider while this value lives.
pub struct VoicemailProvider {
    _private: (),
}

/// Whether we hold the role now (a [`VoicemailProvider`] is alive).
static HELD: AtomicBool = AtomicBool::new(false);

/// Who answers Asterisk's voicemail questions.
pub fn provider_role() -> ProviderRole {
    if HELD.load(Ordering::SeqCst) {
        ProviderRole::Ours
    } else if provider_registered() {
        ProviderRole::Other
    } else {
        ProviderRole::Nobody
    }
}

pub fn provider_registered() -> bool {
    // SAFETY: plain query of Asterisk's global provider slot.
    unsafe { sys::ast_vm_is_registered() != 0 }
}

impl VoicemailProvider {
    pub fn register<P: MailboxCounts>(module: ModuleRef) -> Result<Self, ProviderError> {
        let table = sys::ast_vm_functions {
            module_version: sys::VM_MODULE_VERSION,
            module_name: PROVIDER_NAME.as_ptr(),
            module: module.as_ptr(),
            has_voicemail: Some(has_voicemail::<P>),
            inboxcount: Some(inboxcount::<P>),
            inboxcount2: Some(inboxcount2::<P>),
            messagecount: Some(messagecount::<P>),
            copy_recording_to_vm: std::ptr::null_mut(),
            index_to_foldername: std::ptr::null_mut(),
            mailbox_snapshot_create: std::ptr::null_mut(),
            mailbox_snapshot_destroy: std::ptr::null_mut(),
            msg_move: std::ptr::null_mut(),
            msg_remove: std::ptr::null_mut(),
            msg_forward: std::ptr::null_mut(),
            msg_play: std::ptr::null_mut(),
        };
        // SAFETY: Asterisk copies the table; module_name is 'static; the callbacks are guarded
        // and match the C typedefs.
        match unsafe { sys::__ast_vm_register(&table, module.as_ptr()) } {
            0 => {
                HELD.store(true, Ordering::SeqCst);
                Ok(Self { _private: () })
            }
            rc if rc == sys::AST_MODULE_LOAD_DECLINE => Err(ProviderError::Taken),
            _ => Err(ProviderError::Failed),
        }
    }
}

impl Drop for VoicemailProvider {
    fn drop(&mut self) {
        // SAFETY: unregisters only if the registered provider's name is ours.
        unsafe { sys::ast_vm_unregister(PROVIDER_NAME.as_ptr()) };
        HELD.store(false, Ordering::SeqCst);
    }
}
