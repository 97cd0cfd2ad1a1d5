//! The options of one `type = mwi-subscription` object, read from the text sorcery gives
//! (`name = value` pairs as pjsip.conf spells them), validated, with the defaults applied.
//! Names and meanings of the timing options are res_pjsip_outbound_registration's.

use std::ffi::CStr;
use std::fmt;

use super::machine::Timing;
use crate::domain::mailbox::{is_visible_ascii, MailboxId};
use crate::domain::message_summary::uri_user;

/// The sorcery type name, as written in pjsip.conf (`type = mwi-subscription`).
pub const TYPE_NAME: &str = "mwi-subscription";
/// The context of the default mailbox: chan_sip's, so `mailboxes=1234@SIP_Remote` keeps working.
pub const DEFAULT_CONTEXT: &str = "SIP_Remote";

/// One validated subscription object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSettings {
    /// The object's name (its `[section]`).
    pub name: String,
    /// The remote mailbox's SIP URI (Request-URI and To), `sip:` or `sips:`. Required.
    pub server_uri: String,
    /// From; None: the host derives it (server_uri's user at the local address).
    pub client_uri: Option<String>,
    /// The user part of our Contact; None: the host's default.
    pub contact_user: Option<String>,
    /// Where the counts go. Default: `<server_uri's user>@SIP_Remote`.
    pub mailbox: MailboxId,
    /// res_pjsip `type=auth` object names, in order; empty: challenges cannot be answered.
    pub outbound_auth: Vec<String>,
    /// A res_pjsip transport name; None: res_pjsip picks one from the URI.
    pub transport: Option<String>,
    /// A SIP URI to route through; None: direct.
    pub outbound_proxy: Option<String>,
    /// An endpoint to borrow settings from (transport, outbound_proxy, from, auth) when the
    /// object does not set them; None: none.
    pub endpoint: Option<String>,
    /// Expires we ask for, seconds (default 3600, at least 1).
    pub expiration: u32,
    /// Base of the retry backoff after temporary failures, seconds (default 60, at least 1).
    pub retry_interval: u32,
    /// Wait after a 403 or rejected credentials, seconds; 0 (default): give up.
    pub forbidden_retry_interval: u32,
    /// Wait after other permanent failures (4xx other than 401/403/407/408/423/481), seconds;
    /// 0 (default): give up.
    pub fatal_retry_interval: u32,
    /// Failed attempts in a row retried before giving up (default 10).
    pub max_retries: u32,
    /// The first SUBSCRIBE waits a random time up to this many seconds (default 10).
    pub max_random_initial_delay: u32,
}

/// A refused object: which object and option, and why. `Display` is the log line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub object: String,
    /// The option at fault (`server_uri`, `mailbox`, ...).
    pub option: String,
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}': option '{}': {}", TYPE_NAME, self.object, self.option, self.message)
    }
}

impl std::error::Error for SettingsError {}

impl SubscriptionSettings {
    /// Validates one object's options (`type` is ignored; an option given twice: the last
    /// wins; unknown names are refused). Values are trimmed; an empty value leaves an option
    /// unset (its default applies).
    pub fn from_options(name: &str, options: &[(String, String)]) -> Result<Self, SettingsError> {
        let fail = |option: &str, message: String| SettingsError {
            object: name.to_owned(),
            option: option.to_owned(),
            message,
        };
        // The last value of each known option, None when unset or empty.
        let mut raw: [Option<&str>; OPTIONS.len()] = [None; OPTIONS.len()];
        for (option, value) in options {
            let option = option.trim();
            if option == "type" {
                continue;
            }
            let Some(index) = option_index(option) else {
                return Err(fail(option, "unknown option".to_owned()));
            };
            let value = value.trim();
            raw[index] = (!value.is_empty()).then_some(value);
        }
        let get = |option: &str| option_index(option).and_then(|i| raw[i]);

        let uri = |option: &str| -> Result<Option<String>, SettingsError> {
            get(option)
                .map(|text| check_sip_uri(text).map(str::to_owned).map_err(|m| fail(option, m)))
                .transpose()
        };
        let token = |option: &str| -> Result<Option<String>, SettingsError> {
            get(option)
                .map(|text| check_token(text).map(|()| text.to_owned()).map_err(|m| fail(option, m)))
                .transpose()
        };
        let number = |option: &str, range: std::ops::RangeInclusive<u32>, default: u32, unit: &str| {
            get(option)
                .map_or(Ok(default), |text| parse_number(text, &range, unit).map_err(|m| fail(option, m)))
        };

        let server_uri = uri("server_uri")?.ok_or_else(|| {
            fail("server_uri", "missing: the remote mailbox's SIP URI (sip:user@host)".to_owned())
        })?;
        let client_uri = uri("client_uri")?;
        let outbound_proxy = uri("outbound_proxy")?;
        let contact_user = token("contact_user")?;
        let transport = token("transport")?;
        let endpoint = token("endpoint")?;

        let mailbox = match get("mailbox") {
            Some(text) => MailboxId::parse(text)
                .map_err(|e| fail("mailbox", format!("'{}' is not valid: {e}", printable(text))))?,
            None => {
                let user = uri_user(&server_uri).ok_or_else(|| {
                    fail("mailbox", "not set, and server_uri has no user part to default it from".to_owned())
                })?;
                let text = format!("{user}@{DEFAULT_CONTEXT}");
                MailboxId::parse(&text).map_err(|e| {
                    fail(
                        "mailbox",
                        format!("not set, and the default '{text}' (from server_uri) is not valid: {e}"),
                    )
                })?
            }
        };

        let mut outbound_auth = Vec::new();
        if let Some(list) = get("outbound_auth") {
            for auth in list.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                check_token(auth)
                    .map_err(|m| fail("outbound_auth", format!("'{}': {m}", printable(auth))))?;
                outbound_auth.push(auth.to_owned());
            }
        }

        Ok(Self {
            name: name.to_owned(),
            server_uri,
            client_uri,
            contact_user,
            mailbox,
            outbound_auth,
            transport,
            outbound_proxy,
            endpoint,
            expiration: number("expiration", EXPIRATION_RANGE, 3600, "seconds")?,
            retry_interval: number("retry_interval", RETRY_INTERVAL_RANGE, 60, "seconds")?,
            forbidden_retry_interval: number(
                "forbidden_retry_interval",
                PERMANENT_RETRY_RANGE,
                0,
                "seconds",
            )?,
            fatal_retry_interval: number("fatal_retry_interval", PERMANENT_RETRY_RANGE, 0, "seconds")?,
            max_retries: number("max_retries", MAX_RETRIES_RANGE, 10, "attempts")?,
            max_random_initial_delay: number("max_random_initial_delay", INITIAL_DELAY_RANGE, 10, "seconds")?,
        })
    }

    /// The options the state machine works with.
    pub fn timing(&self) -> Timing {
        Timing {
            expiration: self.expiration,
            retry_interval: self.retry_interval,
            forbidden_retry_interval: self.forbidden_retry_interval,
            fatal_retry_interval: self.fatal_retry_interval,
            max_retries: self.max_retries,
        }
    }
}

/// Every option name an object may set, besides `type`: what sorcery registers as the type's
/// fields (as C strings, which it keeps) and what `from_options` accepts.
pub const OPTIONS: [&CStr; 14] = [
    c"server_uri",
    c"client_uri",
    c"contact_user",
    c"mailbox",
    c"outbound_auth",
    c"transport",
    c"outbound_proxy",
    c"endpoint",
    c"expiration",
    c"retry_interval",
    c"forbidden_retry_interval",
    c"fatal_retry_interval",
    c"max_retries",
    c"max_random_initial_delay",
];

fn option_index(name: &str) -> Option<usize> {
    OPTIONS.iter().position(|known| known.to_bytes() == name.as_bytes())
}

/// Accepted `expiration`: up to a week, which no real server grants anyway.
pub const EXPIRATION_RANGE: std::ops::RangeInclusive<u32> = 1..=604_800;
/// Accepted `retry_interval`: 0 would retry in a tight loop.
pub const RETRY_INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 1..=86_400;
/// Accepted `forbidden_retry_interval` and `fatal_retry_interval` (0: give up).
pub const PERMANENT_RETRY_RANGE: std::ops::RangeInclusive<u32> = 0..=86_400;
/// Accepted `max_retries`.
pub const MAX_RETRIES_RANGE: std::ops::RangeInclusive<u32> = 0..=10_000;
/// Accepted `max_random_initial_delay`.
pub const INITIAL_DELAY_RANGE: std::ops::RangeInclusive<u32> = 0..=3_600;

/// A decimal number in `range`; digits only (no sign, no unit), so `1e3` or `-1` are refused
/// rather than misread.
fn parse_number(text: &str, range: &std::ops::RangeInclusive<u32>, unit: &str) -> Result<u32, String> {
    let wanted = || format!("a whole number of {unit} from {} to {}", range.start(), range.end());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{}' is not {}", printable(text), wanted()));
    }
    match text.parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!("{text} is out of range: expected {}", wanted())),
    }
}

/// Checks a `sip:`/`sips:` URI, optionally in `<...>`, and returns it without the brackets
/// (the form a Request-URI takes). Checked: the scheme, a host, a numeric port in 1..65535 if
/// one is given, and visible ASCII only (a space or a control character would end up in a SIP
/// header). The user part, parameters and headers are left to pjsip.
fn check_sip_uri(text: &str) -> Result<&str, String> {
    if let Some((offset, byte)) = text.bytes().enumerate().find(|(_, b)| !is_visible_ascii(*b)) {
        return Err(format!(
            "contains a space, a control or a non-ASCII character (byte 0x{byte:02x} at position {})",
            offset + 1
        ));
    }
    let not_sip = || format!("'{text}' is not a sip: or sips: URI");
    let uri = match text.strip_prefix('<') {
        Some(inner) => {
            inner.strip_suffix('>').ok_or_else(|| format!("'{text}' has a '<' without its '>'"))?
        }
        None if text.ends_with('>') => return Err(format!("'{text}' has a '>' without its '<'")),
        None => text,
    };
    let (scheme, rest) = uri.split_once(':').ok_or_else(not_sip)?;
    if !(scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips")) {
        return Err(not_sip());
    }
    // '@' is not allowed unescaped anywhere but after the userinfo (whose telephone-subscriber
    // user may carry ';' parameters); parameters and headers follow the host part.
    let after_user = match rest.split_once('@') {
        Some(("", _)) => return Err(format!("'{text}' has an empty user part before '@'")),
        Some((_, after)) => after,
        None => rest,
    };
    let hostport = after_user.split([';', '?']).next().unwrap_or(after_user);
    let port = if let Some(v6) = hostport.strip_prefix('[') {
        let (address, after) =
            v6.split_once(']').ok_or_else(|| format!("'{text}' has a '[' without its ']'"))?;
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(format!("'{text}' has a bad IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| format!("'{text}' has junk after ']'"))?),
        };
        port
    } else {
        let (host, port) = match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        };
        if host.is_empty() {
            return Err(format!("'{text}' has no host part"));
        }
        if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
            return Err(format!("'{text}' has a bad host '{host}'"));
        }
        port
    };
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !valid {
            return Err(format!("'{text}' has a bad port '{port}' (expected 1 to 65535)"));
        }
    }
    Ok(uri)
}

/// A name that goes into a SIP header or names another object: visible ASCII only.
fn check_token(text: &str) -> Result<(), String> {
    match text.bytes().enumerate().find(|(_, b)| !is_visible_ascii(*b)) {
        Some((offset, byte)) => Err(format!(
            "contains a space, a control or a non-ASCII character (byte 0x{byte:02x} at position {})",
            offset + 1
        )),
        None => Ok(()),
    }
}

/// `text` for an error message, with anything but visible ASCII shown as `?`.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<SubscriptionSettings, SettingsError> {
        SubscriptionSettings::from_options("vm", &opts(pairs))
    }

    /// The error for `pairs`, checked to name the object and `option`.
    fn error(pairs: &[(&str, &str)], option: &str) -> String {
        let e = parse(pairs).expect_err("should be refused");
        assert_eq!(e.object, "vm");
        assert_eq!(e.option, option, "{e}");
        e.message
    }

    #[test]
    fn minimal_object_gets_every_default() {
        let s = parse(&[("type", "mwi-subscription"), ("server_uri", "sip:1001@vm.example")]).unwrap();
        assert_eq!(s.name, "vm");
        assert_eq!(s.server_uri, "sip:1001@vm.example");
        assert_eq!(s.mailbox.as_str(), "1001@SIP_Remote");
        assert_eq!(s.client_uri, None);
        assert_eq!(s.contact_user, None);
        assert!(s.outbound_auth.is_empty());
        assert_eq!(s.transport, None);
        assert_eq!(s.outbound_proxy, None);
        assert_eq!(s.endpoint, None);
        assert_eq!(
            (s.expiration, s.retry_interval, s.forbidden_retry_interval, s.fatal_retry_interval),
            (3600, 60, 0, 0)
        );
        assert_eq!((s.max_retries, s.max_random_initial_delay), (10, 10));
        assert_eq!(
            s.timing(),
            Timing {
                expiration: 3600,
                retry_interval: 60,
                forbidden_retry_interval: 0,
                fatal_retry_interval: 0,
                max_retries: 10
            }
        );
    }

    #[test]
    fn every_option_is_read_and_trimmed() {
        let s = parse(&[
            ("server_uri", " <sips:2000@vm.example:5061;transport=tls> "),
            ("client_uri", "sip:me@pbx.example"),
            ("contact_user", " mwi "),
            ("mailbox", " 2000@office "),
            ("outbound_auth", " a1 , ,a2,"),
            ("transport", "transport-tls"),
            ("outbound_proxy", "sip:proxy.example;lr"),
            ("endpoint", "provider"),
            ("expiration", " 600 "),
            ("retry_interval", "30"),
            ("forbidden_retry_interval", "300"),
            ("fatal_retry_interval", "900"),
            ("max_retries", "0"),
            ("max_random_initial_delay", "0"),
        ])
        .unwrap();
        assert_eq!(s.server_uri, "sips:2000@vm.example:5061;transport=tls", "brackets dropped");
        assert_eq!(s.client_uri.as_deref(), Some("sip:me@pbx.example"));
        assert_eq!(s.contact_user.as_deref(), Some("mwi"));
        assert_eq!(s.mailbox.as_str(), "2000@office");
        assert_eq!(s.outbound_auth, ["a1", "a2"]);
        assert_eq!(s.transport.as_deref(), Some("transport-tls"));
        assert_eq!(s.outbound_proxy.as_deref(), Some("sip:proxy.example;lr"));
        assert_eq!(s.endpoint.as_deref(), Some("provider"));
        let t = s.timing();
        assert_eq!(
            (
                t.expiration,
                t.retry_interval,
                t.forbidden_retry_interval,
                t.fatal_retry_interval,
                t.max_retries
            ),
            (600, 30, 300, 900, 0)
        );
        assert_eq!(s.max_random_initial_delay, 0);
    }

    #[test]
    fn empty_values_leave_options_unset_and_the_last_value_wins() {
        let s = parse(&[
            ("server_uri", "sip:1@h"),
            ("client_uri", "  "),
            ("mailbox", ""),
            ("expiration", ""),
            ("outbound_auth", " , "),
            ("retry_interval", "5"),
            ("retry_interval", "7"),
        ])
        .unwrap();
        assert_eq!(s.client_uri, None);
        assert_eq!(s.mailbox.as_str(), "1@SIP_Remote");
        assert_eq!(s.expiration, 3600);
        assert!(s.outbound_auth.is_empty());
        assert_eq!(s.retry_interval, 7);
    }

    #[test]
    fn server_uri_is_required() {
        assert_eq!(error(&[], "server_uri"), "missing: the remote mailbox's SIP URI (sip:user@host)");
        assert_eq!(
            error(&[("server_uri", " ")], "server_uri"),
            "missing: the remote mailbox's SIP URI (sip:user@host)"
        );
    }

    #[test]
    fn unknown_option_is_refused_by_name() {
        assert_eq!(error(&[("server_uri", "sip:1@h"), ("expires", "60")], "expires"), "unknown option");
    }

    #[test]
    fn accepts_the_sip_uri_forms() {
        for uri in [
            "sip:host",
            "SIP:1001@Host.Example",
            "Sips:1001@host",
            "sip:1001:secret@host:5060",
            "sip:1001@10.0.0.1:65535;transport=tcp",
            "sip:1001@[2001:db8::1]:5060",
            "sip:1001@[::1]",
            "sip:1001;user=phone@host?subject=x",
            "<sip:1001@host>",
        ] {
            let s = parse(&[("server_uri", uri), ("mailbox", "1@c")]);
            assert!(s.is_ok(), "{uri}: {:?}", s.err());
        }
    }

    #[test]
    fn refuses_bad_sip_uris() {
        for (uri, expected) in [
            ("xyz", "'xyz' is not a sip: or sips: URI"),
            ("tel:+15551234", "'tel:+15551234' is not a sip: or sips: URI"),
            ("http://host", "'http://host' is not a sip: or sips: URI"),
            ("sip:", "'sip:' has no host part"),
            ("sip:1001@", "'sip:1001@' has no host part"),
            ("sip:1001@:5060", "'sip:1001@:5060' has no host part"),
            ("sip:;lr", "'sip:;lr' has no host part"),
            ("sip:@host", "'sip:@host' has an empty user part before '@'"),
            ("sip:1@host:0", "'sip:1@host:0' has a bad port '0' (expected 1 to 65535)"),
            ("sip:1@host:65536", "'sip:1@host:65536' has a bad port '65536' (expected 1 to 65535)"),
            ("sip:1@host:", "'sip:1@host:' has a bad port '' (expected 1 to 65535)"),
            ("sip:1@host:50x", "'sip:1@host:50x' has a bad port '50x' (expected 1 to 65535)"),
            ("sip:1@ho/st", "'sip:1@ho/st' has a bad host 'ho/st'"),
            ("sip:1@[zz]", "'sip:1@[zz]' has a bad IPv6 address"),
            ("sip:1@[::1", "'sip:1@[::1' has a '[' without its ']'"),
            ("sip:1@[::1]x", "'sip:1@[::1]x' has junk after ']'"),
            ("<sip:1@host", "'<sip:1@host' has a '<' without its '>'"),
            ("sip:1@host>", "'sip:1@host>' has a '>' without its '<'"),
        ] {
            assert_eq!(error(&[("server_uri", uri), ("mailbox", "1@c")], "server_uri"), expected, "{uri}");
        }
    }

    #[test]
    fn refuses_whitespace_and_control_characters_in_uris() {
        let message = error(&[("server_uri", "sip:10 01@host")], "server_uri");
        assert!(message.contains("0x20") && message.contains("position 7"), "{message}");
        let message = error(&[("server_uri", "sip:1@host"), ("client_uri", "sip:a@b\r\nX: y")], "client_uri");
        assert!(message.contains("0x0d"), "{message}");
        let message =
            error(&[("server_uri", "sip:1@host"), ("outbound_proxy", "sip:pr\u{00f6}xy")], "outbound_proxy");
        assert!(message.contains("0xc3"), "{message}");
    }

    #[test]
    fn client_uri_and_outbound_proxy_are_checked_like_server_uri() {
        assert_eq!(
            error(&[("server_uri", "sip:1@h"), ("client_uri", "me@pbx")], "client_uri"),
            "'me@pbx' is not a sip: or sips: URI"
        );
        assert_eq!(
            error(&[("server_uri", "sip:1@h"), ("outbound_proxy", "sip:proxy:99999")], "outbound_proxy"),
            "'sip:proxy:99999' has a bad port '99999' (expected 1 to 65535)"
        );
        let s = parse(&[("server_uri", "sip:1@h"), ("outbound_proxy", "<sip:proxy;lr>")]).unwrap();
        assert_eq!(s.outbound_proxy.as_deref(), Some("sip:proxy;lr"));
    }

    #[test]
    fn mailbox_defaults_from_the_server_uri_user() {
        let s = parse(&[("server_uri", "sips:1001:pw@vm.example;transport=tls")]).unwrap();
        assert_eq!(s.mailbox.as_str(), "1001@SIP_Remote");
        let s = parse(&[("server_uri", "<sip:+15551234;user=phone@vm.example>")]).unwrap();
        assert_eq!(s.mailbox.as_str(), "+15551234@SIP_Remote");
    }

    #[test]
    fn mailbox_is_required_when_server_uri_has_no_user() {
        assert_eq!(
            error(&[("server_uri", "sip:vm.example")], "mailbox"),
            "not set, and server_uri has no user part to default it from"
        );
        let s = parse(&[("server_uri", "sip:vm.example"), ("mailbox", "1@c")]).unwrap();
        assert_eq!(s.mailbox.as_str(), "1@c");
    }

    #[test]
    fn mailbox_is_validated() {
        let message = error(&[("server_uri", "sip:1@h"), ("mailbox", "1001")], "mailbox");
        assert_eq!(message, "'1001' is not valid: the mailbox id must have the form mailbox@context");
        let message = error(&[("server_uri", "sip:1@h"), ("mailbox", "a@b@c")], "mailbox");
        assert!(message.contains("more than one '@'"), "{message}");
        let long = format!("sip:{}@h", "u".repeat(100));
        let message = error(&[("server_uri", &long)], "mailbox");
        assert!(message.starts_with("not set, and the default"), "{message}");
        assert!(message.contains("longer than"), "{message}");
    }

    #[test]
    fn names_are_visible_ascii() {
        for option in ["contact_user", "transport", "endpoint", "outbound_auth"] {
            let message = error(&[("server_uri", "sip:1@h"), (option, "a b")], option);
            assert!(message.contains("0x20"), "{option}: {message}");
        }
        let message = error(&[("server_uri", "sip:1@h"), ("outbound_auth", "ok, b\tad")], "outbound_auth");
        assert!(message.starts_with("'b?ad': ") && message.contains("0x09"), "{message}");
    }

    #[test]
    fn numbers_accept_their_whole_range() {
        for (option, low, high) in [
            ("expiration", "1", "604800"),
            ("retry_interval", "1", "86400"),
            ("forbidden_retry_interval", "0", "86400"),
            ("fatal_retry_interval", "0", "86400"),
            ("max_retries", "0", "10000"),
            ("max_random_initial_delay", "0", "3600"),
        ] {
            for value in [low, high] {
                assert!(parse(&[("server_uri", "sip:1@h"), (option, value)]).is_ok(), "{option} = {value}");
            }
        }
    }

    #[test]
    fn numbers_out_of_range_are_refused_with_the_range() {
        for (option, value, expected) in [
            ("expiration", "0", "0 is out of range: expected a whole number of seconds from 1 to 604800"),
            (
                "expiration",
                "604801",
                "604801 is out of range: expected a whole number of seconds from 1 to 604800",
            ),
            ("retry_interval", "0", "0 is out of range: expected a whole number of seconds from 1 to 86400"),
            (
                "retry_interval",
                "86401",
                "86401 is out of range: expected a whole number of seconds from 1 to 86400",
            ),
            (
                "forbidden_retry_interval",
                "86401",
                "86401 is out of range: expected a whole number of seconds from 0 to 86400",
            ),
            (
                "fatal_retry_interval",
                "90000",
                "90000 is out of range: expected a whole number of seconds from 0 to 86400",
            ),
            (
                "max_retries",
                "10001",
                "10001 is out of range: expected a whole number of attempts from 0 to 10000",
            ),
            (
                "max_random_initial_delay",
                "3601",
                "3601 is out of range: expected a whole number of seconds from 0 to 3600",
            ),
            (
                "expiration",
                "99999999999",
                "99999999999 is out of range: expected a whole number of seconds from 1 to 604800",
            ),
        ] {
            assert_eq!(
                error(&[("server_uri", "sip:1@h"), (option, value)], option),
                expected,
                "{option} = {value}"
            );
        }
    }

    #[test]
    fn numbers_must_be_plain_decimal() {
        for value in ["abc", "-1", "+5", "1e3", "60s", "6 0", "0x10", "1.5"] {
            let message = error(&[("server_uri", "sip:1@h"), ("expiration", value)], "expiration");
            assert_eq!(message, format!("'{value}' is not a whole number of seconds from 1 to 604800"));
        }
        let message = error(&[("server_uri", "sip:1@h"), ("max_retries", "\u{7}")], "max_retries");
        assert_eq!(message, "'?' is not a whole number of attempts from 0 to 10000");
    }

    #[test]
    fn error_display_names_object_and_option() {
        let e = parse(&[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "mwi-subscription 'vm': option 'server_uri': missing: the remote mailbox's SIP URI (sip:user@host)"
        );
    }
}
