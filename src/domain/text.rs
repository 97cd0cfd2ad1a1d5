//! Text helpers shared by every part that echoes outside input (CLI, AMI, SIP reasons, logs).

use std::fmt::Write;

/// Admin-supplied text made safe to echo on one line: control characters become `\xNN`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().take(200) {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            out.push(c);
        }
    }
    if text.chars().count() > 200 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls_and_truncates() {
        assert_eq!(printable("a\tb"), "a\\x09b");
        assert!(printable(&"x".repeat(500)).ends_with("..."));
    }
}
