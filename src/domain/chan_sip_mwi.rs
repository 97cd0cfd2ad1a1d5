//! sip.conf's `mwi =>` lines (chan_sip's outbound MWI subscriptions) converted to pjsip.conf
//! objects of `type = mwi-subscription`, with a `type = auth` object where a secret is given.
//!
//! chan_sip read, in `[general]`:
//! `mwi => user[:secret[:authuser]]@host[:port]/mailbox` (also `mwi = ...`) and
//! `mwiexpiry = N` (seconds, default 3600, for every subscription). It split the value as
//! `sip_subscribe_mwi()` did: the host starts after the last `@`; the user ends at the first
//! `:`, the secret at the next one, and the authuser is the rest; the mailbox starts at the
//! first `/` after the host. It subscribed to `sip:user@host[:port]` over UDP, with
//! `authuser` (or `user`) as From and digest user, and published the counts to
//! `mailbox@SIP_Remote`.
//!
//! The file is read as Asterisk's config parser reads it: `;` starts a comment, `\;` is a
//! literal `;`, `;-- ... --;` is a (nestable, multi-line) block comment; only the first
//! `[general]` section counts (and `[general](+)` sections appended to it), as chan_sip
//! browsed only that one. `#include`/`#tryinclude`/`#exec` are reported, not followed.

use std::collections::HashSet;
use std::fmt::Write;

/// chan_sip's `DEFAULT_MWI_EXPIRY`.
pub const DEFAULT_MWI_EXPIRY: u32 = 3600;

/// The context chan_sip published remote mailboxes to.
pub const SIP_REMOTE_CONTEXT: &str = "SIP_Remote";

/// The result of [`convert`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conversion {
    /// The pjsip.conf fragment; empty when no line converted.
    pub text: String,
    /// What was not converted or needs a look, each naming its sip.conf line.
    pub warnings: Vec<String>,
    /// How many `mwi-subscription` objects `text` holds.
    pub count: usize,
}

/// One `mwi =>` value, split as chan_sip split it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MwiLine {
    user: String,
    secret: Option<String>,
    authuser: Option<String>,
    /// The host as written, brackets kept for IPv6 (`[2001:db8::1]`).
    host: String,
    port: Option<u16>,
    mailbox: String,
}

impl MwiLine {
    /// The From and digest user: authuser if given, else user.
    fn digest_user(&self) -> &str {
        self.authuser.as_deref().filter(|a| !a.is_empty()).unwrap_or(&self.user)
    }

    fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

const FORMAT: &str = "the format is user[:secret[:authuser]]@host[:port]/mailbox";

/// Splits an `mwi =>` value as chan_sip's `sip_subscribe_mwi()` did; the error says why not.
fn parse_mwi(value: &str) -> Result<MwiLine, String> {
    let Some(at) = value.rfind('@') else {
        return Err(format!("no @host ({FORMAT})"));
    };
    let (userinfo, hostpart) = (&value[..at], &value[at + 1..]);
    let mut parts = userinfo.splitn(3, ':');
    let user = parts.next().unwrap_or_default().to_owned();
    let secret = parts.next().map(str::to_owned);
    let authuser = parts.next().map(str::to_owned);
    let Some((host_port, mailbox)) = hostpart.split_once('/') else {
        return Err(format!("no /mailbox ({FORMAT})"));
    };
    if user.is_empty() {
        return Err(format!("no user before the @ ({FORMAT})"));
    }
    if host_port.is_empty() {
        return Err(format!("no host after the @ ({FORMAT})"));
    }
    if mailbox.is_empty() {
        return Err(format!("no mailbox after the / ({FORMAT})"));
    }
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let Some(close) = v6.find(']') else {
            return Err(format!("host {host_port}: no ] closing the IPv6 address"));
        };
        let rest = &v6[close + 1..];
        let port = match rest {
            "" => None,
            _ => match rest.strip_prefix(':') {
                Some(p) => Some(port_number(p)?),
                None => return Err(format!("host {host_port}: expected :port after the ]")),
            },
        };
        (format!("[{}]", &v6[..close]), port)
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => {
                if p.contains(':') {
                    return Err(format!("host {host_port}: an IPv6 address goes in brackets, [addr]:port"));
                }
                (h.to_owned(), Some(port_number(p)?))
            }
            None => (host_port.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(format!("no host after the @ ({FORMAT})"));
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control() || "@/;<>\"".contains(c)) {
        return Err(format!("host {host}: not a host name or address"));
    }
    Ok(MwiLine { user, secret, authuser, host, port, mailbox: mailbox.to_owned() })
}

fn port_number(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!("{text} is not a valid port number")),
    }
}

/// C `atoi`: leading blanks, an optional sign, then digits; 0 when there are none.
fn atoi(text: &str) -> i64 {
    let t = text.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if neg {
        -n
    } else {
        n
    }
}

/// Removes comments from one line as Asterisk's config parser does. `depth` is the nesting of
/// `;-- --;` block comments, carried from line to line.
fn strip_comments(line: &str, depth: &mut u32) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(p) = rest.find(';') {
        let (before, after) = (&rest[..p], &rest[p + 1..]);
        if let Some(kept) = before.strip_suffix('\\') {
            // `\;` is a literal semicolon.
            if *depth == 0 {
                out.push_str(kept);
                out.push(';');
            }
        } else if after.starts_with("--") && !after[2..].starts_with('-') {
            if *depth == 0 {
                out.push_str(before);
            }
            *depth += 1;
            rest = &after[2..];
            continue;
        } else if *depth > 0 && before.ends_with("--") {
            *depth -= 1;
        } else if *depth == 0 {
            out.push_str(before);
            return out;
        }
        rest = after;
    }
    if *depth == 0 {
        out.push_str(rest);
    }
    out
}

/// A pjsip.conf value: `;` escaped, as the config parser reads it back.
fn conf_value(text: &str) -> String {
    text.replace(';', "\\;")
}

/// A SIP URI user part (RFC 3261 `user`): characters outside unreserved and user-unreserved
/// (`;` included, to keep it out of the config parser's way) percent-encoded.
fn uri_user(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,?/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A sorcery id from free text: letters, digits, `.`, `_` and `-` kept, the rest `_`.
fn sanitize(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}

/// `mwi-<user>-<host>`, with `-2`, `-3`... when taken (the `-auth` name included).
fn object_name(line: &MwiLine, used: &mut HashSet<String>) -> String {
    let host = line.host.trim_start_matches('[').trim_end_matches(']');
    let base = format!("mwi-{}-{}", sanitize(&line.user), sanitize(host));
    let mut name = base.clone();
    let mut n = 1;
    while used.contains(&name) || used.contains(&format!("{name}-auth")) {
        n += 1;
        name = format!("{base}-{n}");
    }
    used.insert(name.clone());
    used.insert(format!("{name}-auth"));
    name
}

/// Converts the `mwi =>` lines of a sip.conf text to pjsip.conf objects.
pub fn convert(sip_conf: &str) -> Conversion {
    let mut warnings = Vec::new();
    let mut lines: Vec<(usize, MwiLine)> = Vec::new();
    let mut expiry = DEFAULT_MWI_EXPIRY;
    let mut depth = 0u32;
    // Whether we are in the [general] chan_sip read, and whether that one was seen.
    let mut in_general = false;
    let mut general_seen = false;
    let mut in_other_general = false;
    for (index, raw) in sip_conf.lines().enumerate() {
        let lineno = index + 1;
        let raw = if lineno == 1 { raw.strip_prefix('\u{feff}').unwrap_or(raw) } else { raw };
        let line = strip_comments(raw, &mut depth);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(directive) = line.strip_prefix('#') {
            let word = directive.split_whitespace().next().unwrap_or_default();
            if ["include", "tryinclude", "exec"].contains(&word.to_ascii_lowercase().as_str()) {
                warnings.push(format!(
                    "sip.conf line {lineno}: {line}: not followed; convert that file too if it has mwi lines"
                ));
                continue;
            }
        }
        if let Some(header) = line.strip_prefix('[') {
            let Some(close) = header.find(']') else {
                warnings.push(format!("sip.conf line {lineno}: no ] closing the section name"));
                in_general = false;
                in_other_general = false;
                continue;
            };
            let name = &header[..close];
            let options = header[close + 1..].trim();
            let options = options.strip_prefix('(').and_then(|o| o.strip_suffix(')')).unwrap_or("");
            let options: Vec<&str> = options.split(',').map(str::trim).filter(|o| !o.is_empty()).collect();
            let is_general = name.eq_ignore_ascii_case("general");
            let template = options.contains(&"!");
            let append = options.contains(&"+");
            in_general = false;
            in_other_general = false;
            if is_general && !template {
                if !general_seen || append {
                    in_general = true;
                    general_seen = true;
                    if let Some(t) = options.iter().find(|o| **o != "+") {
                        warnings.push(format!(
                            "sip.conf line {lineno}: [general] inherits from template {t}: not followed"
                        ));
                    }
                } else {
                    in_other_general = true;
                }
            }
            continue;
        }
        let Some(eq) = line.find('=') else {
            continue;
        };
        let key = line[..eq].trim();
        let value = line[eq + 1..].strip_prefix('>').unwrap_or(&line[eq + 1..]).trim();
        let is_mwi = key.eq_ignore_ascii_case("mwi");
        let is_expiry = key.eq_ignore_ascii_case("mwiexpiry") || key.eq_ignore_ascii_case("mwiexpirey");
        if !(is_mwi || is_expiry) {
            continue;
        }
        if in_other_general {
            warnings.push(format!(
                "sip.conf line {lineno}: {key} in a second [general] section, which chan_sip did not read; \
                 not converted"
            ));
            continue;
        }
        if !in_general {
            continue;
        }
        if is_expiry {
            let n = atoi(value);
            expiry = match u32::try_from(n) {
                Ok(n) if n >= 1 => n,
                _ => {
                    warnings.push(format!(
                        "sip.conf line {lineno}: {key} = {value}: not a positive number; \
                         {DEFAULT_MWI_EXPIRY} used, as chan_sip did"
                    ));
                    DEFAULT_MWI_EXPIRY
                }
            };
            continue;
        }
        match parse_mwi(value) {
            Ok(mwi) => lines.push((lineno, mwi)),
            Err(why) => warnings.push(format!("sip.conf line {lineno}: mwi: {why}; not converted")),
        }
    }
    if depth > 0 {
        warnings.push("sip.conf: a ;-- block comment is not closed by --; at the end of the file".to_owned());
    }

    let mut text = String::new();
    let mut used = HashSet::new();
    for (lineno, mwi) in &lines {
        let name = object_name(mwi, &mut used);
        let from_user = mwi.digest_user();
        let secret = mwi.secret.as_deref().filter(|s| !s.is_empty());
        if let Some(s) = secret {
            if s != s.trim() {
                warnings.push(format!(
                    "sip.conf line {lineno}: the secret starts or ends with blanks, which pjsip.conf \
                     cannot hold; check the password of {name}-auth"
                ));
            }
        }
        let _ = writeln!(text, "; from sip.conf line {lineno}");
        if let Some(s) = secret {
            let _ = writeln!(text, "[{name}-auth]");
            let _ = writeln!(text, "type = auth");
            let _ = writeln!(
                text,
                "; userpass: read by Asterisk 20 to 23 (20.12, 21.7, 22.2 and later also take digest)"
            );
            let _ = writeln!(text, "auth_type = userpass");
            let _ = writeln!(text, "username = {}", conf_value(from_user));
            let _ = writeln!(text, "password = {}", conf_value(s));
            text.push('\n');
        }
        let _ = writeln!(text, "[{name}]");
        let _ = writeln!(text, "type = mwi-subscription");
        let _ = writeln!(text, "server_uri = sip:{}@{}", uri_user(&mwi.user), mwi.host_port());
        let _ = writeln!(text, "client_uri = sip:{}@{}", uri_user(from_user), mwi.host);
        if secret.is_some() {
            let _ = writeln!(text, "outbound_auth = {name}-auth");
        }
        let _ = writeln!(text, "mailbox = {}@{SIP_REMOTE_CONTEXT}", conf_value(&mwi.mailbox));
        let _ = writeln!(text, "expiration = {expiry}");
        let _ = writeln!(
            text,
            "; transport: not set; chan_sip used UDP (res_pjsip takes its first UDP transport)"
        );
        text.push('\n');
    }
    Conversion { text, warnings, count: lines.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(conf: &str) -> Conversion {
        let c = convert(conf);
        assert_eq!(c.count, 1, "{c:?}");
        c
    }

    #[test]
    fn user_secret_host_mailbox_exact_text() {
        let c = only("[general]\nmwi => 1234:s3cret@vm.example.com/1234\n");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(
            c.text,
            "\
; from sip.conf line 2
[mwi-1234-vm.example.com-auth]
type = auth
; userpass: read by Asterisk 20 to 23 (20.12, 21.7, 22.2 and later also take digest)
auth_type = userpass
username = 1234
password = s3cret

[mwi-1234-vm.example.com]
type = mwi-subscription
server_uri = sip:1234@vm.example.com
client_uri = sip:1234@vm.example.com
outbound_auth = mwi-1234-vm.example.com-auth
mailbox = 1234@SIP_Remote
expiration = 3600
; transport: not set; chan_sip used UDP (res_pjsip takes its first UDP transport)

"
        );
    }

    #[test]
    fn no_secret_port_and_mwiexpiry_exact_text() {
        let c = only("[general]\nmwi = alice@10.0.0.5:5070/8000\nmwiexpiry = 600\n");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(
            c.text,
            "\
; from sip.conf line 2
[mwi-alice-10.0.0.5]
type = mwi-subscription
server_uri = sip:alice@10.0.0.5:5070
client_uri = sip:alice@10.0.0.5
mailbox = 8000@SIP_Remote
expiration = 600
; transport: not set; chan_sip used UDP (res_pjsip takes its first UDP transport)

"
        );
    }

    #[test]
    fn authuser_is_from_and_digest_user() {
        let c = only("[general]\nmwi => 1234:pw:authname@vm.example.com/1234\n");
        assert!(c.text.contains("username = authname\npassword = pw\n"), "{}", c.text);
        assert!(c.text.contains("server_uri = sip:1234@vm.example.com\n"));
        assert!(c.text.contains("client_uri = sip:authname@vm.example.com\n"));
    }

    #[test]
    fn colons_split_as_chan_sip_did() {
        // user up to the first ':', secret up to the next, authuser the rest.
        let c = only("[general]\nmwi => u:pa:ss:word@vm/1\n");
        assert!(c.text.contains("username = ss:word\npassword = pa\n"), "{}", c.text);
        assert!(c.text.contains("client_uri = sip:ss%3Aword@vm\n"), "{}", c.text);
    }

    #[test]
    fn host_is_after_the_last_at() {
        let c = only("[general]\nmwi => bob:p@ss@vm.example.com/55\n");
        assert!(c.text.contains("password = p@ss\n"), "{}", c.text);
        assert!(c.text.contains("server_uri = sip:bob@vm.example.com\n"));
    }

    #[test]
    fn empty_secret_means_no_auth() {
        let c = only("[general]\nmwi => bob:@vm/55\n");
        assert!(!c.text.contains("type = auth"), "{}", c.text);
        assert!(!c.text.contains("outbound_auth"));
    }

    #[test]
    fn ipv6_host_with_and_without_port() {
        let c = only("[general]\nmwi => 1234@[2001:db8::1]:5060/1234\n");
        assert!(c.text.contains("[mwi-1234-2001_db8__1]\n"), "{}", c.text);
        assert!(c.text.contains("server_uri = sip:1234@[2001:db8::1]:5060\n"));
        assert!(c.text.contains("client_uri = sip:1234@[2001:db8::1]\n"));
        let c = only("[general]\nmwi => 1234@[::1]/1234\n");
        assert!(c.text.contains("server_uri = sip:1234@[::1]\n"), "{}", c.text);
    }

    #[test]
    fn bare_ipv6_and_bad_ports_are_errors() {
        for (value, why) in [
            ("1234@2001:db8::1/1", "in brackets"),
            ("1234@vm:0/1", "not a valid port"),
            ("1234@vm:70000/1", "not a valid port"),
            ("1234@vm:50x/1", "not a valid port"),
            ("1234@[::1/1", "no ]"),
            ("1234@[::1]5060/1", "expected :port"),
        ] {
            let c = convert(&format!("[general]\nmwi => {value}\n"));
            assert_eq!(c.count, 0, "{value}");
            assert_eq!(c.warnings.len(), 1, "{value}: {:?}", c.warnings);
            assert!(c.warnings[0].starts_with("sip.conf line 2: mwi: "), "{}", c.warnings[0]);
            assert!(c.warnings[0].contains(why), "{value}: {}", c.warnings[0]);
        }
    }

    #[test]
    fn missing_mailbox_names_the_line() {
        let c = convert("[general]\n\nmwi => 1234:pw@vm.example.com\nmwi => 5@vm/5\n");
        assert_eq!(c.count, 1);
        assert_eq!(
            c.warnings,
            ["sip.conf line 3: mwi: no /mailbox (the format is user[:secret[:authuser]]@host[:port]/mailbox); \
              not converted"]
        );
        assert!(!c.text.contains("pw"), "a line not converted leaves nothing behind: {}", c.text);
    }

    #[test]
    fn missing_host_user_or_mailbox_are_errors() {
        for (value, why) in [
            ("1234/1234", "no @host"),
            ("1234@/1234", "no host"),
            ("@vm/1234", "no user"),
            (":pw@vm/1234", "no user"),
            ("1234@vm/", "no mailbox"),
        ] {
            let c = convert(&format!("[general]\nmwi => {value}\n"));
            assert_eq!(c.count, 0, "{value}");
            assert!(c.warnings[0].starts_with("sip.conf line 2:"), "{}", c.warnings[0]);
            assert!(c.warnings[0].contains(why), "{value}: {}", c.warnings[0]);
        }
    }

    #[test]
    fn comments_and_whitespace() {
        let c = only(
            "; sip.conf\n[general]   ; the globals\n\t mwi   =>   1234@vm/1234   ; Bob's box\n\
             ;mwi => 9@vm/9\n",
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert!(c.text.contains("server_uri = sip:1234@vm\n"), "{}", c.text);
        assert!(c.text.contains("mailbox = 1234@SIP_Remote\n"));
    }

    #[test]
    fn escaped_semicolon_is_kept_and_escaped_again() {
        let c = only("[general]\nmwi => 1234:pa\\;ss@vm/1234 ; comment\n");
        assert!(c.text.contains("password = pa\\;ss\n"), "{}", c.text);
    }

    #[test]
    fn block_comments_span_lines() {
        let c = only("[general]\n;-- mwi => 1@vm/1\nmwi => 2@vm/2\n--; mwi => 3@vm/3 ;-- x --;\n");
        assert!(c.text.contains("sip:3@vm\n"), "{}", c.text);
        assert!(c.text.contains("; from sip.conf line 4\n"));
    }

    #[test]
    fn several_lines_unique_names() {
        let c = convert(
            "[general]\nmwi => 1234:a@vm.example.com/1234\nmwi => 1234:b@vm.example.com/5678\n\
             mwi => 1234@vm.example.com:5062/1234\nmwi => o'neil@vm/1\n",
        );
        assert_eq!(c.count, 4, "{:?}", c.warnings);
        for name in [
            "[mwi-1234-vm.example.com-auth]\n",
            "[mwi-1234-vm.example.com]\n",
            "[mwi-1234-vm.example.com-2-auth]\n",
            "[mwi-1234-vm.example.com-2]\n",
            "[mwi-1234-vm.example.com-3]\n",
            "[mwi-o_neil-vm]\n",
        ] {
            assert_eq!(c.text.matches(name).count(), 1, "{name} in {}", c.text);
        }
        assert!(c
            .text
            .contains("outbound_auth = mwi-1234-vm.example.com-2-auth\nmailbox = 5678@SIP_Remote\n"));
    }

    #[test]
    fn other_sections_are_ignored() {
        let c = convert(
            "[general]\ncontext = public\n[6001]\ntype = friend\nmwi => 9@vm/9\n\
             [general](!)\nmwi => 8@vm/8\n[general](+)\nmwi => 7@vm/7\n",
        );
        assert_eq!(c.count, 1, "{c:?}");
        assert!(c.text.contains("sip:7@vm\n"), "{}", c.text);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn second_general_section_is_reported() {
        let c = convert("[General]\nmwi => 1@vm/1\n[general]\nmwi => 2@vm/2\n");
        assert_eq!(c.count, 1);
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].starts_with("sip.conf line 4: mwi in a second [general]"), "{:?}", c.warnings);
    }

    #[test]
    fn includes_are_reported_not_followed() {
        let c = convert("#include sip_mwi.conf\n[general]\n#tryinclude \"more.conf\"\nmwi => 1@vm/1\n");
        assert_eq!(c.count, 1);
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert_eq!(
            c.warnings[0],
            "sip.conf line 1: #include sip_mwi.conf: not followed; convert that file too if it has mwi lines"
        );
        assert!(c.warnings[1].starts_with("sip.conf line 3: #tryinclude"));
    }

    #[test]
    fn mwiexpiry_applies_to_every_line_wherever_it_is() {
        let c = convert("[general]\nmwi => 1@vm/1\nmwiexpirey = 120\nmwi => 2@vm/2\n");
        assert_eq!(c.count, 2);
        assert_eq!(c.text.matches("expiration = 120\n").count(), 2, "{}", c.text);
    }

    #[test]
    fn bad_mwiexpiry_falls_back_like_chan_sip() {
        let c = convert("[general]\nmwiexpiry = 0\nmwi => 1@vm/1\n");
        assert!(c.text.contains("expiration = 3600\n"), "{}", c.text);
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].starts_with("sip.conf line 2: mwiexpiry = 0:"), "{:?}", c.warnings);
        // atoi: leading digits count.
        let c = convert("[general]\nmwiexpiry = 900s\nmwi => 1@vm/1\n");
        assert!(c.text.contains("expiration = 900\n"), "{}", c.text);
    }

    #[test]
    fn user_part_is_percent_encoded() {
        let c = only("[general]\nmwi => a b\\;c@vm/1\n");
        assert!(c.text.contains("server_uri = sip:a%20b%3Bc@vm\n"), "{}", c.text);
        assert!(c.text.contains("[mwi-a_b_c-vm]\n"));
    }

    #[test]
    fn secret_with_edge_blanks_is_reported() {
        let c = only("[general]\nmwi => 1: pw@vm/1\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].starts_with("sip.conf line 2: the secret starts or ends with blanks"));
        assert!(c.warnings[0].contains("mwi-1-vm-auth"));
    }

    #[test]
    fn nothing_to_convert() {
        let c = convert("[general]\nregister => a:b@c\n");
        assert_eq!(c, Conversion::default());
    }
}
