//! Module registration and lifecycle (asterisk/module.h).
//!
//! A module is a type implementing [`AsteriskModule`]: `load` builds it, `unload` takes it
//! apart. [`asterisk_module!`] writes what AST_MODULE_INFO writes in C: the writable
//! `ast_module_info`, the constructor/destructor that register it with the loader, and the
//! guarded `load_module` / `unload_module` / `reload_module` entry points.

use std::cell::UnsafeCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::guard::{self, GATE};
use super::log::{ast_error, ast_warning};
use super::sys;
use crate::domain::host_version::{self, HostVersion};
use crate::domain::sync::lock;

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

// SAFETY: the handle is only passed back to Asterisk's registration functions, which take it
// from any thread; our threads that hold it are joined before the unload returns.
unsafe impl Send for ModuleRef {}

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
    pub support_level: SupportLevel,
    /// Comma-separated modules that must be running first, if any.
    pub requires: Option<&'static std::ffi::CStr>,
    /// Comma-separated modules that, when they are loaded at all, must start first.
    pub optional_modules: Option<&'static std::ffi::CStr>,
    pub load: unsafe extern "C" fn() -> LoadResult,
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
            support_level: spec.support_level.raw(),
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

/// A value of the loaded module that handlers reach when Asterisk calls them without user
/// data (AMI actions, pjsip modules, voicemail-provider callbacks): installed at load, cleared
/// when the [`Installed`] guard drops, once no handler can be called any more.
pub struct LoadedSlot<T: 'static>(Mutex<Option<Arc<T>>>);

impl<T> LoadedSlot<T> {
    pub const fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// The loaded value, if any.
    pub fn get(&self) -> Option<Arc<T>> {
        lock(&self.0).clone()
    }

    /// Makes `value` the loaded one until the returned guard is dropped.
    pub fn install(&'static self, value: Arc<T>) -> Installed<T> {
        *lock(&self.0) = Some(value);
        Installed { slot: self }
    }
}

/// A value installed in its [`LoadedSlot`]; dropping it clears the slot (and releases the
/// slot's reference there). Keep it after everything that lets Asterisk call the handlers
/// reading the slot, so it drops after them.
///
/// # Invariants
/// `slot` holds the value this guard installed, until the guard drops.
#[must_use = "the slot is cleared as soon as this guard is dropped"]
pub struct Installed<T: 'static> {
    slot: &'static LoadedSlot<T>,
}

impl<T> Drop for Installed<T> {
    fn drop(&mut self) {
        let value = lock(&self.slot.0).take();
        drop(value);
    }
}

/// What `load_module` returns to the loader.
pub type LoadResult = sys::ast_module_load_result;

/// Load priority of modules that channel drivers depend on (AST_MODPRI_CHANNEL_DEPEND).
pub const PRIORITY_CHANNEL_DEPEND: u8 = sys::AST_MODPRI_CHANNEL_DEPEND as u8;

/// The support level `module show` reports.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // one module, one level; the others are the loader's vocabulary
pub enum SupportLevel {
    Core,
    Extended,
    Deprecated,
}

impl SupportLevel {
    const fn raw(self) -> sys::ast_module_support_level {
        match self {
            Self::Core => sys::AST_MODULE_SUPPORT_CORE,
            Self::Extended => sys::AST_MODULE_SUPPORT_EXTENDED,
            Self::Deprecated => sys::AST_MODULE_SUPPORT_DEPRECATED,
        }
    }
}

/// The running Asterisk's version string ("22.10.1").
pub fn asterisk_version() -> String {
    // SAFETY: returns a static string owned by Asterisk.
    unsafe { super::text_of(sys::ast_get_version()) }
}

/// The directory Asterisk loads modules from (asterisk.conf's astmoddir).
pub fn module_dir() -> std::path::PathBuf {
    // SAFETY: set from asterisk.conf before modules load and never freed.
    unsafe { super::text_of(std::ptr::addr_of!(sys::ast_config_AST_MODULE_DIR).read()) }.into()
}

/// Whether the module `name` ("res_ari.so") is loaded and running: not merely in the loader's
/// list, where a module that declined, or was unloaded, stays.
pub fn is_running(name: &str) -> bool {
    while_running(name, || ()).is_some()
}

/// Runs `f` if the module `name` is running, while the loader cannot unload it: inside the
/// loader's walk of its list, under the list's lock. None if it is not running.
///
/// The lock is recursive, so a loader callback of ours (load, reload, unload) may call this.
/// Anything else must not be waited for by our unload while it is inside (unload holds the
/// lock): CLI handlers are not (an unload is refused while one runs); for our boot thread see
/// `hub::AfterBoot`.
pub fn while_running<F: FnOnce() -> R, R>(name: &str, f: F) -> Option<R> {
    let mut walk = ListWalk { wanted: name.strip_suffix(".so").unwrap_or(name), run: Some(f), result: None };
    // SAFETY: the callback matches modentry's C type and gets `walk` (alive for the whole
    // call, of the type module_entry::<F, R> casts back to); a NULL `like` is only passed on.
    unsafe {
        sys::ast_update_module_list_data(
            Some(module_entry::<F, R>),
            std::ptr::null(),
            std::ptr::addr_of_mut!(walk).cast(),
        )
    };
    walk.result
}

struct ListWalk<'a, F, R> {
    wanted: &'a str,
    run: Option<F>,
    result: Option<R>,
}

extern "C" fn module_entry<F: FnOnce() -> R, R>(
    module: *const libc::c_char,
    _description: *const libc::c_char,
    _usecnt: libc::c_int,
    status: *const libc::c_char,
    _like: *const libc::c_char,
    _support_level: sys::ast_module_support_level,
    data: *mut libc::c_void,
) -> libc::c_int {
    guard::entry_or("module list", 0, || {
        // SAFETY: data is the `walk` of while_running, alive during ast_update_module_list_data.
        let walk = unsafe { &mut *data.cast::<ListWalk<'_, F, R>>() };
        // SAFETY: NUL-terminated strings the loader keeps for the call.
        let (module, status) = unsafe { (super::text_of(module), super::text_of(status)) };
        if module.strip_suffix(".so").unwrap_or(&module) == walk.wanted && status == "Running" {
            if let Some(f) = walk.run.take() {
                walk.result = Some(f());
            }
        }
        0
    })
}

const LOAD_FAILURE: LoadResult = sys::AST_MODULE_LOAD_FAILURE;

/// Body of `load_module`.
pub fn load<M: AsteriskModule>(info: &'static ModuleInfo, state: &Mutex<Option<M>>) -> LoadResult {
    guard::entry_or("load_module", LOAD_FAILURE, || {
        let version = asterisk_version();
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
    // Through the gate: a reload racing an unload is turned away.
    guard::gated_or("reload_module", -1, || {
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
///     load_priority: PRIORITY_CHANNEL_DEPEND, support_level: SupportLevel::Extended,
///     requires: None, optional_modules: None,
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
        unsafe extern "C" fn load_module() -> $crate::host::module::LoadResult {
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
            // Before anything else of ours runs: no panic may reach std's default hook.
            $crate::host::guard::install_panic_hook();
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
