//! Asterisk's key/value database, astdb (asterisk/astdb.h), and where it lives (paths.h).

use std::path::PathBuf;

use super::sys;

/// Every (key, value) under `family`, keys without the `/family/` prefix.
pub fn tree(family: &str) -> Vec<(String, String)> {
    let fam = super::c_string(family);
    // SAFETY: fam is NUL-terminated; NULL keytree means the whole family; the list is ours.
    let head = unsafe { sys::ast_db_gettree(fam.as_ptr(), std::ptr::null()) };
    let prefix = format!("/{family}/");
    let mut out = Vec::new();
    let mut entry = head;
    while !entry.is_null() {
        // SAFETY: entry is a live node of the list we own.
        let e = unsafe { &*entry };
        // SAFETY: key and the inline data are NUL-terminated strings of the node.
        let (key, value) = unsafe { (super::text_of(e.key), super::text_of(e.data.as_ptr())) };
        out.push((key.strip_prefix(&prefix).map(str::to_owned).unwrap_or(key), value));
        entry = e.next;
    }
    if !head.is_null() {
        // SAFETY: head came from ast_db_gettree and is freed once.
        unsafe { sys::ast_db_freetree(head) };
    }
    out
}

/// The directory holding astdb (/var/lib/asterisk by default): our database lives there too.
pub fn data_dir() -> PathBuf {
    // SAFETY: ast_config_AST_DB is set from asterisk.conf before modules load and never freed.
    let db = unsafe { super::text_of(std::ptr::addr_of!(sys::ast_config_AST_DB).read()) };
    let path = PathBuf::from(if db.is_empty() { "/var/lib/asterisk/astdb".to_owned() } else { db });
    path.parent().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/var/lib/asterisk"))
}
