//! What of a SIP request decides that res_mwi_hub takes it, read from header texts.

use crate::domain::message_summary::uri_user;

/// The Content-Type of a message-summary body (RFC 3842).
pub const SUMMARY_TYPE: (&str, &str) = ("application", "simple-message-summary");

/// True when an Event header value names the message-summary package (parameters such as
/// `;id=` ignored; compared without case, as Asterisk's own handler ignores it altogether).
pub fn is_message_summary_event(event: &str) -> bool {
    let package = event.split(';').next().unwrap_or("").trim();
    package.eq_ignore_ascii_case("message-summary")
}

/// True for `application/simple-message-summary` (without case, as media types compare).
pub fn is_summary_content_type(media_type: &str, subtype: &str) -> bool {
    media_type.trim().eq_ignore_ascii_case(SUMMARY_TYPE.0)
        && subtype.trim().eq_ignore_ascii_case(SUMMARY_TYPE.1)
}

/// The user part of the Request-URI of a raw request (`NOTIFY sip:1001@host SIP/2.0`), the
/// account a NOTIFY is about when its body names none. None when the first line is not a
/// request line or its URI has no user part.
pub fn request_uri_user(message: &[u8]) -> Option<&str> {
    let end = message.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(message.len());
    let line = std::str::from_utf8(&message[..end]).ok()?;
    let mut parts = line.split(' ');
    let (_method, uri, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("SIP/") {
        return None;
    }
    uri_user(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_message_summary_package() {
        assert!(is_message_summary_event("message-summary"));
        assert!(is_message_summary_event(" Message-Summary ;id=7"));
        assert!(!is_message_summary_event("presence"));
        assert!(!is_message_summary_event("message-summary-x"));
        assert!(!is_message_summary_event(""));
    }

    #[test]
    fn recognises_the_summary_content_type() {
        assert!(is_summary_content_type("application", "simple-message-summary"));
        assert!(is_summary_content_type("Application", "Simple-Message-Summary"));
        assert!(!is_summary_content_type("application", "sdp"));
        assert!(!is_summary_content_type("text", "simple-message-summary"));
    }

    #[test]
    fn reads_the_request_uri_user() {
        assert_eq!(request_uri_user(b"NOTIFY sip:1001@127.0.0.1:5060 SIP/2.0\r\nVia: x\r\n"), Some("1001"));
        assert_eq!(request_uri_user(b"NOTIFY sip:2002@h;transport=udp SIP/2.0"), Some("2002"));
        assert_eq!(request_uri_user(b"NOTIFY sip:127.0.0.1 SIP/2.0\r\n"), None);
        assert_eq!(request_uri_user(b"SIP/2.0 200 OK\r\n"), None);
        assert_eq!(request_uri_user(b""), None);
        assert_eq!(request_uri_user(b"\xff\xfe"), None);
    }
}
