//! Configuration files (asterisk/config.h): read one category of a file in Asterisk's syntax.

use super::sys;

/// The settings of one category, in file order, with their line numbers.
#[derive(Debug, Clone, Default)]
pub struct Category {
    pub settings: Vec<(String, String, u32)>,
}

/// What loading a file gave.
#[derive(Debug)]
pub enum ConfigLoad {
    Missing,
    Invalid,
    Loaded(Category),
}

/// Reads category `category` of `file` from Asterisk's configuration directory.
pub fn load_category(file: &std::ffi::CStr, category: &std::ffi::CStr) -> ConfigLoad {
    let flags = sys::ast_flags { flags: sys::CONFIG_FLAG_NOCACHE as libc::c_uint };
    // SAFETY: file and who_asked are NUL-terminated; the result is a config we own, or one of
    // the sentinel values 0 (missing) and -2 (invalid); -1 is only returned when asked for
    // CONFIG_FLAG_FILEUNCHANGED, which we do not pass.
    let cfg = unsafe { sys::ast_config_load2(file.as_ptr(), c"res_mwi_hub".as_ptr(), flags) };
    match cfg as isize {
        0 => return ConfigLoad::Missing,
        -1 | -2 => return ConfigLoad::Invalid,
        _ => {}
    }
    let mut out = Category::default();
    // SAFETY: cfg is a live config we own; the variable list belongs to it.
    let mut var = unsafe { sys::ast_variable_browse(cfg, category.as_ptr()) };
    while !var.is_null() {
        // SAFETY: var is a live node of the list, read before the config is destroyed.
        let v = unsafe { &*var };
        // SAFETY: name and value are NUL-terminated strings of the node.
        let (name, value) = unsafe { (super::text_of(v.name), super::text_of(v.value)) };
        out.settings.push((name, value, v.lineno.max(0) as u32));
        var = v.next;
    }
    // SAFETY: cfg is ours and no pointer into it is kept.
    unsafe { sys::ast_config_destroy(cfg) };
    ConfigLoad::Loaded(out)
}
