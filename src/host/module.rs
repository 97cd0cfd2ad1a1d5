//! Module registration and lifecycle (asterisk/module.h).
//!
//! A module is a type implementing [`AsteriskModule`]: `load` builds it, `unload` takes it
//! apart. [`asterisk_module!`] writes what AST_MODULE_INFO writes in C: the writable
//! `ast_module_info`, the constructor/destructor that register it with the loader, and the
//! guarded `load_module` / `unload_module` / `reload_module` entry points.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::guard;
use super::log::{ast_error, ast_warning};
use crate::domain::host_version::{self, HostVersion};
use crate::sys;

/// Why `load` did not produce a module.
#[derive(Debug)]
pub enum LoadError {
    /// Not loaded, Asterisk continues (AST_MODULE_LOAD_DECLINE).
    Decline(String),
    /// Failed (AST_MODULE_LOAD_FAILURE).
    Failure(String),
}

/// A loadable module: its value owns every registration it made.
pub trait AsteriskModule: Sized + Send + 'static {
    fn load(module: ModuleRef) -> Result<Self, LoadError>;
    fn reload(&mut self, module: ModuleRef) -> Result<(), String>;
    /// Tears everything down before returning; on refusal hands itself back, still working.
    fn unload(self, module: ModuleRef) -> Result<(), (Self, String)>;
}

/// The loader's handle for this module (`ast_module_info->self`), needed to register CLI
/// commands and other resources that count as uses of the module.
#[derive(Clone, Copy)]
pub struct ModuleRef(*mut sys::ast_module);

impl ModuleRef {
    pub fn as_ptr(self) -> *mut sys::ast_module {
        self.0
    }
}

/// `ast_module_info` in writable memory: the loader writes `self` into it.
pub struct ModuleInfo(UnsafeCell<sys::ast_module_info>);

// SAFETY: written only by the loader (under its module lock) before load and read afterwards.
unsafe impl Sync for ModuleInfo {}

/// The text Asterisk's loader requires in every module's `key` (ASTERISK_GPL_KEY):
/// this module is licensed GPL-2.0-or-later accordingly.
pub const GPL_KEY: &std::ffi::CStr = c"This paragraph is copyright (c) 2006 by Digium, Inc. In order for your module to load, it must return this key via a function called \"key\".  Any code which includes this paragraph must be licensed under the GNU General Public License version 2 or later (at your option).  In addition to Digium's general reservations of rights, Digium expressly reserves the right to allow other parties to license this paragraph under different terms. Any use of Digium, Inc. trademarks or logos (including \"Asterisk\" or \"Digium\") without express written permission of Digium, Inc. is prohibited.\n";

/// The static description of a module, as AST_MODULE_INFO takes it.
pub struct ModuleSpec {
    pub name: &'static std::ffi::CStr,
    pub description: &'static std::ffi::CStr,
    pub load_priority: u8,
    pub support_level: sys::ast_module_support_level,
    /// Comma-separated modules that must be running first, if any.
    pub requires: Option<&'static std::ffi::CStr>,
    /// Comma-separated modules that, when they are loaded at all, must start first.
    pub optional_modules: Option<&'static std::ffi::CStr>,
    pub load: unsafe extern "C" fn() -> sys::ast_module_load_result,
    pub unload: unsafe extern "C" fn() -> libc::c_int,
    pub reload: unsafe extern "C" fn() -> libc::c_int,
}

impl ModuleInfo {
    pub const fn new(spec: ModuleSpec) -> Self {
        Self(UnsafeCell::new(sys::ast_module_info {
            self_: std::ptr::null_mut(),
            load: Some(spec.load),
            reload: Some(spec.reload),
            unload: Some(spec.unload),
            name: spec.name.as_ptr(),
            description: spec.description.as_ptr(),
            key: GPL_KEY.as_ptr(),
            flags: sys::AST_MODFLAG_LOAD_ORDER as libc::c_uint,
            // Empty: no build-options check. The host version is checked at load instead,
            // and the declarations are verified against the real headers by `make test`.
            buildopt_sum: [0; 33],
            load_pri: spec.load_priority,
            requires: match spec.requires {
                Some(r) => r.as_ptr(),
                None => std::ptr::null(),
            },
            optional_modules: match spec.optional_modules {
                Some(r) => r.as_ptr(),
                None => std::ptr::null(),
            },
            enhances: std::ptr::null(),
            reserved1: std::ptr::null_mut(),
            reserved2: std::ptr::null_mut(),
            reserved3: std::ptr::null_mut(),
            reserved4: std::ptr::null_mut(),
            support_level: spec.support_level,
        }))
    }

    /// Called from the image's constructor.
    pub fn register(&'static self) {
        // SAFETY: the info lives for the image's lifetime in writable memory.
        unsafe { sys::ast_module_register(self.0.get()) };
    }

    /// Called from the image's destructor.
    pub fn unregister(&'static self) {
        // SAFETY: the info was registered by the constructor.
        unsafe { sys::ast_module_unregister(self.0.get()) };
    }

    pub fn module_ref(&'static self) -> ModuleRef {
        // SAFETY: `self` is written by the loader before it calls load; read-only afterwards.
        ModuleRef(unsafe { std::ptr::addr_of!((*self.0.get()).self_).read_volatile() })
    }
}

/// Locks `m` even when a thread panicked while holding it (the guard caught that panic). For
/// data whose every critical section leaves it consistent; callers say why theirs does.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A value of the loaded module that handlers reach when Asterisk calls them without user
/// data (AMI actions, pjsip modules, voicemail-provider callbacks): set at load, cleared at
/// unload once no handler can be called any more.
pub struct LoadedSlot<T>(Mutex<Option<Arc<T>>>);

impl<T> LoadedSlot<T> {
    pub const fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// The loaded value, if any.
    pub fn get(&self) -> Option<Arc<T>> {
        lock(&self.0).clone()
    }

    pub fn install(&self, value: Arc<T>) {
        *lock(&self.0) = Some(value);
    }

    /// Forgets the value, returning it so the caller decides where it is dropped.
    pub fn clear(&self) -> Option<Arc<T>> {
        lock(&self.0).take()
    }
}

/// Counts the threads inside our CLI/AMI handlers and shuts the door on new calls while the
/// module unloads: unload is refused while any call is in flight, and it does not return
/// before the last thread has left our code.
pub struct InflightGate(AtomicU64);

const CLOSED: u64 = 1 << 63;

/// A thread inside one of our handlers, admitted or turned away; dropping it leaves. Hold it
/// for the whole handler, so the count covers every instruction of ours that Asterisk runs.
pub struct GateTicket {
    gate: &'static InflightGate,
    admitted: bool,
}

impl GateTicket {
    /// False while the module unloads: the handler must only say so and return.
    pub fn admitted(&self) -> bool {
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

    /// Enters; the ticket says whether the call may run.
    pub fn enter(&'static self) -> GateTicket {
        let prev = self.0.fetch_add(1, Ordering::SeqCst);
        GateTicket { gate: self, admitted: prev & CLOSED == 0 }
    }

    fn inside(&self) -> u64 {
        self.0.load(Ordering::SeqCst) & !CLOSED
    }

    /// Waits up to `wait` for every thread to leave; true when none is inside.
    fn drained(&self, wait: Duration) -> bool {
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
    fn close(&self) -> Result<(), u64> {
        self.0.fetch_or(CLOSED, Ordering::SeqCst);
        if self.drained(Duration::from_millis(50)) {
            return Ok(());
        }
        self.open();
        Err(self.inside())
    }

    fn open(&self) {
        self.0.fetch_and(!CLOSED, Ordering::SeqCst);
    }
}

/// The gate of this image's module.
pub static GATE: InflightGate = InflightGate::new();

const LOAD_FAILURE: sys::ast_module_load_result = sys::AST_MODULE_LOAD_FAILURE;

/// Body of `load_module`.
pub fn load<M: AsteriskModule>(
    info: &'static ModuleInfo,
    state: &Mutex<Option<M>>,
) -> sys::ast_module_load_result {
    guard::install_panic_hook();
    guard::entry_or("load_module", LOAD_FAILURE, || {
        // SAFETY: returns a static string owned by Asterisk.
        let version = unsafe { super::text_of(sys::ast_get_version()) };
        match host_version::classify(&version) {
            HostVersion::Supported(_) => {}
            other => {
                ast_error!(
                    "res_mwi_hub supports Asterisk {}.x to {}.x; this Asterisk is '{version}' ({other:?}): declining to load",
                    host_version::FIRST_SUPPORTED_MAJOR,
                    host_version::LAST_SUPPORTED_MAJOR
                );
                return sys::AST_MODULE_LOAD_DECLINE;
            }
        }
        let mut slot = lock(state);
        if slot.is_some() {
            ast_error!("load_module called while already loaded");
            return LOAD_FAILURE;
        }
        GATE.open();
        match M::load(info.module_ref()) {
            Ok(m) => {
                *slot = Some(m);
                sys::AST_MODULE_LOAD_SUCCESS
            }
            Err(LoadError::Decline(why)) => {
                ast_error!("res_mwi_hub declined to load: {why}");
                sys::AST_MODULE_LOAD_DECLINE
            }
            Err(LoadError::Failure(why)) => {
                ast_error!("res_mwi_hub failed to load: {why}");
                LOAD_FAILURE
            }
        }
    })
}

/// Body of `unload_module`: 0 when everything is torn down, -1 (module stays) otherwise.
pub fn unload<M: AsteriskModule>(info: &'static ModuleInfo, state: &Mutex<Option<M>>) -> libc::c_int {
    guard::entry_or("unload_module", -1, || {
        if let Err(inflight) = GATE.close() {
            ast_warning!(
                "res_mwi_hub not unloaded: {inflight} call(s) into our code (CLI, AMI, pjsip) still in progress; try again"
            );
            return -1;
        }
        let mut slot = lock(state);
        let Some(module) = slot.take() else { return 0 };
        match module.unload(info.module_ref()) {
            Ok(()) => {
                // Nothing can call us any more; a thread Asterisk let in just before the
                // unregistration may still be on its way out of our code.
                if GATE.drained(Duration::from_secs(5)) {
                    0
                } else {
                    ast_error!("res_mwi_hub: a handler is still running after unregistration; keeping the image mapped");
                    -1
                }
            }
            Err((module, why)) => {
                *slot = Some(module);
                GATE.open();
                ast_warning!("res_mwi_hub not unloaded: {why}");
                -1
            }
        }
    })
}

/// Body of `reload_module`: 0 on success, -1 on failure (configuration kept as it was).
pub fn reload<M: AsteriskModule>(info: &'static ModuleInfo, state: &Mutex<Option<M>>) -> libc::c_int {
    guard::entry_or("reload_module", -1, || {
        let ticket = GATE.enter();
        if !ticket.admitted() {
            return -1;
        }
        let mut slot = lock(state);
        match slot.as_mut().map(|m| m.reload(info.module_ref())) {
            Some(Ok(())) | None => 0,
            Some(Err(why)) => {
                ast_error!("res_mwi_hub reload failed: {why}");
                -1
            }
        }
    })
}

/// Declares the module: info struct, constructor/destructor and entry points.
///
/// ```ignore
/// asterisk_module! {
///     type: Hub, name: c"res_mwi_hub", description: c"...",
///     load_priority: sys::AST_MODPRI_CHANNEL_DEPEND as u8,
///     support_level: sys::AST_MODULE_SUPPORT_EXTENDED, requires: None,
/// }
/// ```
macro_rules! asterisk_module {
    (
        type: $ty:ty,
        name: $name:expr,
        description: $desc:expr,
        load_priority: $pri:expr,
        support_level: $support:expr,
        requires: $requires:expr,
        optional_modules: $optional:expr $(,)?
    ) => {
        static MODULE_STATE: ::std::sync::Mutex<Option<$ty>> = ::std::sync::Mutex::new(None);

        /// Called by the loader to start the module.
        unsafe extern "C" fn load_module() -> $crate::sys::ast_module_load_result {
            $crate::host::module::load::<$ty>(&MODULE_INFO, &MODULE_STATE)
        }
        /// Called by the loader to stop the module; must leave nothing behind on success.
        unsafe extern "C" fn unload_module() -> ::libc::c_int {
            $crate::host::module::unload::<$ty>(&MODULE_INFO, &MODULE_STATE)
        }
        /// Called on `module reload`.
        unsafe extern "C" fn reload_module() -> ::libc::c_int {
            $crate::host::module::reload::<$ty>(&MODULE_INFO, &MODULE_STATE)
        }

        static MODULE_INFO: $crate::host::module::ModuleInfo =
            $crate::host::module::ModuleInfo::new($crate::host::module::ModuleSpec {
                name: $name,
                description: $desc,
                load_priority: $pri,
                support_level: $support,
                requires: $requires,
                optional_modules: $optional,
                load: load_module,
                unload: unload_module,
                reload: reload_module,
            });

        extern "C" fn register_with_loader() {
            $crate::host::guard::entry_or("module constructor", (), || MODULE_INFO.register());
        }
        extern "C" fn unregister_from_loader() {
            $crate::host::guard::entry_or("module destructor", (), || MODULE_INFO.unregister());
        }
        // The loader finds the module through these, as through __reg_module/__unreg_module
        // in C: without the constructor Asterisk reports "did not register itself".
        #[used]
        #[link_section = ".init_array"]
        static REGISTER_WITH_LOADER: extern "C" fn() = register_with_loader;
        #[used]
        #[link_section = ".fini_array"]
        static UNREGISTER_FROM_LOADER: extern "C" fn() = unregister_from_loader;
    };
}
pub(crate) use asterisk_module;
