//! An object type of our own in res_pjsip's sorcery instance, so admins configure it in
//! pjsip.conf next to endpoints and registrations (asterisk/sorcery.h,
//! asterisk/config_options.h).
//!
//! [`SorceryType::register`] registers the type the way res_pjsip_outbound_registration does
//! (config wizard on pjsip.conf with `criteria=type=<name>`, one custom field per option, an
//! apply check, a `loaded` observer) and undoes all of it on drop. Option values are kept as
//! text inside the sorcery object's own memory and read back by name: the object has no
//! destructor, so no code of ours runs when sorcery frees it, whenever that is.

use std::cell::UnsafeCell;
use std::ffi::{c_void, CStr};
use std::marker::PhantomData;

use super::ao2::{container_items, Ao2};
use super::guard;
use super::log::ast_error;
use super::{c_string, sys, text_of};

/// One object type: its name, its options and what to do with what pjsip.conf says.
pub trait ObjectType: 'static {
    /// The type's name (`type = <name>` in pjsip.conf).
    const TYPE: &'static CStr;
    /// The options it takes besides `type`.
    const OPTIONS: &'static [&'static CStr];
    /// Checks one object as sorcery builds it; Err(message): the object is refused (the
    /// message, which names the object and the option, is logged as an error).
    fn check(id: &str, options: &[(String, String)]) -> Result<(), String>;
    /// Called after every load and reload of the type (module load, `pjsip reload`,
    /// `module reload res_mwi_hub.so`).
    fn loaded();
}

/// Room for an object's options, as `name NUL value NUL` pairs.
const TEXT_CAPACITY: usize = 1024;

/// The sorcery object: sorcery's details pointer first (SORCERY_OBJECT), then our text.
#[repr(C)]
struct StoredObject {
    details: sys::ast_sorcery_object_details,
    len: u32,
    text: [u8; TEXT_CAPACITY],
}

impl StoredObject {
    fn options(&self) -> Vec<(String, String)> {
        let used = &self.text[..(self.len as usize).min(TEXT_CAPACITY)];
        let mut parts = used.split(|&b| b == 0);
        let mut out: Vec<(String, String)> = Vec::new();
        while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
            if name.is_empty() {
                break;
            }
            let name = String::from_utf8_lossy(name).into_owned();
            let value = String::from_utf8_lossy(value).into_owned();
            // Set twice (a template and the object): the later one wins.
            out.retain(|(n, _)| *n != name);
            out.push((name, value));
        }
        out
    }

    fn push(&mut self, name: &[u8], value: &[u8]) -> bool {
        let start = self.len as usize;
        let need = name.len() + value.len() + 2;
        if start + need > TEXT_CAPACITY || name.contains(&0) || value.contains(&0) {
            return false;
        }
        self.text[start..start + name.len()].copy_from_slice(name);
        self.text[start + name.len()] = 0;
        let v = start + name.len() + 1;
        self.text[v..v + value.len()].copy_from_slice(value);
        self.text[v + value.len()] = 0;
        self.len = (start + need) as u32;
        true
    }
}

/// A registered type; dropping it removes the type (and sorcery frees its objects).
pub struct SorceryType<T: ObjectType> {
    observer: Box<UnsafeCell<sys::ast_sorcery_observer>>,
    _type: PhantomData<T>,
}

// SAFETY: the observer struct is only read by sorcery; we touch it to add and remove it, from
// one thread at a time (load/unload).
unsafe impl<T: ObjectType> Send for SorceryType<T> {}
// SAFETY: shared use only reads through sorcery's own locked API (objects, reload).
unsafe impl<T: ObjectType> Sync for SorceryType<T> {}

fn sorcery() -> *mut sys::ast_sorcery {
    // SAFETY: res_pjsip is loaded (we require it); its sorcery instance lives while it does.
    unsafe { sys::ast_sip_get_sorcery() }
}

impl<T: ObjectType> SorceryType<T> {
    /// Registers the type in res_pjsip's sorcery, reading pjsip.conf's objects of it.
    /// Err when sorcery refuses (on builds with XML documentation it refuses a type whose
    /// documentation is not installed).
    pub fn register(module_name: &CStr) -> Result<Self, String> {
        let type_name = T::TYPE.to_string_lossy().into_owned();
        let criteria = c_string(&format!("pjsip.conf,criteria=type={type_name}"));
        let s = sorcery();
        // SAFETY: a live sorcery instance; every string is read during the call (sorcery copies).
        let applied = unsafe {
            sys::__ast_sorcery_apply_default(
                s,
                T::TYPE.as_ptr(),
                module_name.as_ptr(),
                c"config".as_ptr(),
                criteria.as_ptr(),
            )
        };
        if applied == sys::AST_SORCERY_APPLY_FAIL {
            return Err(format!("sorcery could not map type {type_name} to pjsip.conf"));
        }
        // SAFETY: alloc and apply are our trampolines, valid until the type is unregistered
        // (on drop, before the image can go away).
        let rc = unsafe {
            sys::__ast_sorcery_object_register(s, T::TYPE.as_ptr(), 0, 1, Some(alloc), None, Some(apply::<T>))
        };
        let registered = Self {
            // SAFETY: all-NULL callbacks is a valid observer; `loaded` is set below.
            observer: Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() })),
            _type: PhantomData,
        };
        if rc != 0 {
            // Drop unregisters what apply_default created.
            drop(registered);
            return Err(format!(
                "sorcery refused to register type {type_name} (is res_mwi_hub-en_US.xml installed in Asterisk's \
                 documentation/thirdparty directory? Asterisk reads it at startup)"
            ));
        }
        // SAFETY: as above; "type" takes no storage (NOOP), argc 1 with its unused offset.
        let rc = unsafe {
            sys::__ast_sorcery_object_field_register(
                s,
                T::TYPE.as_ptr(),
                c"type".as_ptr(),
                c"".as_ptr(),
                sys::OPT_NOOP_T,
                None,
                None,
                None,
                0,
                0,
                0,
                1,
                0usize,
            )
        };
        if rc != 0 {
            return Err(format!("sorcery refused option 'type' of {type_name}"));
        }
        for option in T::OPTIONS {
            // SAFETY: store_option is our trampoline (valid while registered); no default, so
            // only options pjsip.conf sets reach it.
            let rc = unsafe {
                sys::__ast_sorcery_object_field_register(
                    s,
                    T::TYPE.as_ptr(),
                    option.as_ptr(),
                    c"".as_ptr(),
                    sys::OPT_CUSTOM_T,
                    Some(store_option::<T>),
                    None,
                    None,
                    0,
                    0,
                    0,
                    0,
                )
            };
            if rc != 0 {
                return Err(format!("sorcery refused option '{}' of {type_name}", option.to_string_lossy()));
            }
        }
        // SAFETY: the observer lives in a Box until removed in drop.
        unsafe { (*registered.observer.get()).loaded = Some(loaded::<T>) };
        // SAFETY: as above.
        if unsafe { sys::ast_sorcery_observer_add(s, T::TYPE.as_ptr(), registered.observer.get()) } != 0 {
            return Err(format!("sorcery refused an observer for {type_name}"));
        }
        // SAFETY: a registered type of a live instance.
        unsafe { sys::ast_sorcery_load_object(s, T::TYPE.as_ptr()) };
        Ok(registered)
    }

    /// Re-reads pjsip.conf's objects of this type (sorcery skips an unchanged file).
    pub fn reload(&self) {
        // SAFETY: a registered type of a live instance.
        unsafe { sys::ast_sorcery_reload_object(sorcery(), T::TYPE.as_ptr()) };
    }

    /// Every object of the type now: (id, options as set in pjsip.conf).
    pub fn objects(&self) -> Vec<(String, Vec<(String, String)>)> {
        // SAFETY: a registered type; MULTIPLE|ALL returns a container reference we own.
        let container = unsafe {
            sys::ast_sorcery_retrieve_by_fields(
                sorcery(),
                T::TYPE.as_ptr(),
                sys::AST_RETRIEVE_FLAG_MULTIPLE | sys::AST_RETRIEVE_FLAG_ALL,
                std::ptr::null_mut(),
            )
        };
        // SAFETY: as above.
        let Some(container) = (unsafe { Ao2::<sys::ao2_container>::from_owned(container.cast()) }) else {
            return Vec::new();
        };
        container_items::<StoredObject>(&container)
            .iter()
            .map(|obj| {
                // SAFETY: objects of our type are StoredObjects (our alloc), live while referenced.
                let stored = unsafe { &*obj.as_ptr() };
                (object_id(obj.as_ptr().cast()), stored.options())
            })
            .collect()
    }
}

impl<T: ObjectType> Drop for SorceryType<T> {
    fn drop(&mut self) {
        let s = sorcery();
        // SAFETY: removing an observer that may or may not have been added is harmless; the
        // unregister removes the type, its wizards and (unless referenced) its objects. None of
        // our callbacks is referenced afterwards: objects have no destructor of ours.
        unsafe {
            sys::ast_sorcery_observer_remove(s, T::TYPE.as_ptr(), self.observer.get());
            sys::ast_sorcery_object_unregister(s, T::TYPE.as_ptr());
        }
    }
}

fn object_id(obj: *const c_void) -> String {
    // SAFETY: obj is a live sorcery object; its id lives as long as it.
    unsafe { text_of(sys::ast_sorcery_object_get_id(obj)) }
}

unsafe extern "C" fn alloc(_id: *const libc::c_char) -> *mut c_void {
    guard::gated_or("sorcery alloc", std::ptr::null_mut(), || {
        // SAFETY: a zeroed allocation of our size, no destructor; sorcery fills the details.
        unsafe { sys::ast_sorcery_generic_alloc(std::mem::size_of::<StoredObject>(), None) }
    })
}

unsafe extern "C" fn store_option<T: ObjectType>(
    _opt: *const sys::aco_option,
    var: *mut sys::ast_variable,
    obj: *mut c_void,
) -> libc::c_int {
    guard::gated_or("sorcery option", -1, || {
        if var.is_null() || obj.is_null() {
            return -1;
        }
        // SAFETY: sorcery passes a live variable and one of our objects, under its build.
        let (var, stored) = unsafe { (&*var, &mut *obj.cast::<StoredObject>()) };
        // SAFETY: name and value are NUL-terminated strings of the variable.
        let (name, value) = unsafe { (CStr::from_ptr(var.name), CStr::from_ptr(var.value)) };
        if stored.push(name.to_bytes(), value.to_bytes()) {
            0
        } else {
            ast_error!(
                "{} '{}': option '{}': the object's options are longer than {TEXT_CAPACITY} bytes in all",
                T::TYPE.to_string_lossy(),
                object_id(obj),
                name.to_string_lossy()
            );
            -1
        }
    })
}

unsafe extern "C" fn apply<T: ObjectType>(
    _sorcery: *const sys::ast_sorcery,
    obj: *mut c_void,
) -> libc::c_int {
    guard::gated_or("sorcery apply", -1, || {
        if obj.is_null() {
            return -1;
        }
        // SAFETY: one of our objects, live for the call.
        let stored = unsafe { &*obj.cast::<StoredObject>() };
        match T::check(&object_id(obj), &stored.options()) {
            Ok(()) => 0,
            Err(message) => {
                ast_error!("{message}; the object is ignored");
                -1
            }
        }
    })
}

unsafe extern "C" fn loaded<T: ObjectType>(_type: *const libc::c_char) {
    guard::gated_or("sorcery loaded", (), || T::loaded())
}

/// Whether res_pjsip has an object of `type_name` called `id` (an auth, transport, endpoint).
pub fn exists(type_name: &str, id: &str) -> bool {
    let (t, i) = (c_string(type_name), c_string(id));
    // SAFETY: a live instance; the result is NULL or a reference we own (released on drop).
    let found = unsafe {
        Ao2::<c_void>::from_owned(sys::ast_sorcery_retrieve_by_id(sorcery(), t.as_ptr(), i.as_ptr()))
    };
    found.is_some()
}

/// The options of res_pjsip's object `id` of `type_name`, as pjsip.conf spells them; None
/// when there is no such object.
pub fn options_of(type_name: &str, id: &str) -> Option<Vec<(String, String)>> {
    let (t, i) = (c_string(type_name), c_string(id));
    // SAFETY: as in `exists`.
    let obj = unsafe {
        Ao2::<c_void>::from_owned(sys::ast_sorcery_retrieve_by_id(sorcery(), t.as_ptr(), i.as_ptr()))
    }?;
    // SAFETY: a live object of res_pjsip's instance, referenced until the call returns.
    let out = unsafe { objectset(obj.as_ptr()) };
    Some(out)
}

/// Every field of a sorcery object of res_pjsip's instance as (name, value) text, in sorcery's
/// order, as pjsip.conf would spell it.
///
/// # Safety
/// `obj` is a live sorcery object of res_pjsip's instance for the duration of the call.
pub(super) unsafe fn objectset(obj: *const c_void) -> Vec<(String, String)> {
    // SAFETY: as promised; the list is ours, destroyed below.
    let list = unsafe { sys::ast_sorcery_objectset_create2(sorcery(), obj, sys::AST_HANDLER_ONLY_STRING) };
    let mut out = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: a node of that list.
        let var = unsafe { &*cursor };
        // SAFETY: NUL-terminated strings of the node.
        out.push(unsafe { (text_of(var.name), text_of(var.value)) });
        cursor = var.next;
    }
    // SAFETY: created above, freed once.
    unsafe { sys::ast_variables_destroy(list) };
    out
}
