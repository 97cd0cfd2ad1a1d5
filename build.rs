//! Generates the raw Asterisk declarations (src/sys.rs includes them) from the project's own
//! headers in asterisk-headers/, and compiles any C glue found in include/.
use std::env;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let headers = root.join("asterisk-headers");
    let include = root.join("include");
    println!("cargo:rerun-if-changed={}", headers.display());
    println!("cargo:rerun-if-changed={}", include.display());

    let bindings = bindgen::Builder::default()
        .header(headers.join("asterisk_api.h").to_string_lossy())
        .clang_arg(format!("-I{}", headers.display()))
        // Only what we declared; libc types come from the libc crate.
        .allowlist_file(format!("{}/.*", regex_escape(&headers.to_string_lossy())))
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .layout_tests(true)
        .wrap_unsafe_ops(true)
        .derive_default(false)
        .derive_debug(false)
        .generate_comments(false)
        .ctypes_prefix("::libc")
        .generate()
        .expect("bindgen over asterisk-headers/asterisk_api.h failed");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    bindings.write_to_file(out.join("asterisk_bindings.rs")).expect("writing asterisk_bindings.rs");

    // Small C glue, if any: every *.c in include/ is compiled and linked in.
    let glue: Vec<PathBuf> = std::fs::read_dir(&include)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "c"))
                .collect()
        })
        .unwrap_or_default();
    if !glue.is_empty() {
        cc::Build::new()
            .files(&glue)
            .include(&headers)
            .include(&include)
            .warnings(true)
            .compile("res_mwi_hub_glue");
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
