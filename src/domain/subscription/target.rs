//! What a server URI implies for the dialog: the transport pjsip will pick for it (as
//! res_pjsip derives it: `sips:` is TLS, `;transport=` names it, otherwise UDP) and the user
//! part our From and Contact default to.

/// The transport a URI asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriTransport {
    Udp,
    Tcp,
    Tls,
}

/// The transport and whether the host is an IPv6 literal.
pub fn uri_transport(uri: &str) -> (UriTransport, bool) {
    let inner = uri.trim().trim_start_matches('<');
    let inner = inner.split('>').next().unwrap_or(inner);
    let lower = inner.to_ascii_lowercase();
    let secure = lower.starts_with("sips:");
    let param = lower
        .split(';')
        .skip(1)
        .find_map(|p| p.trim().strip_prefix("transport=").map(|v| v.trim().to_owned()));
    let kind = match param.as_deref() {
        Some("tcp") if !secure => UriTransport::Tcp,
        Some("tls") => UriTransport::Tls,
        _ if secure => UriTransport::Tls,
        _ => UriTransport::Udp,
    };
    let host_part = lower.split(';').next().unwrap_or("");
    let host_part = host_part.rsplit('@').next().unwrap_or(host_part);
    (kind, host_part.contains('['))
}

/// The user part of a sip:/sips: URI, if it has one.
pub fn uri_user(uri: &str) -> Option<&str> {
    let inner = uri.trim().trim_start_matches('<');
    let rest = inner.strip_prefix("sip:").or_else(|| inner.strip_prefix("sips:")).or_else(|| {
        let lower = inner.get(..5)?.to_ascii_lowercase();
        if lower.starts_with("sips:") {
            inner.get(5..)
        } else if lower.starts_with("sip:") {
            inner.get(4..)
        } else {
            None
        }
    })?;
    let (user, _) = rest.split_once('@')?;
    let user = user.split(':').next().unwrap_or(user);
    (!user.is_empty()).then_some(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_follow_scheme_and_parameter() {
        assert_eq!(uri_transport("sip:1234@vm.example.com"), (UriTransport::Udp, false));
        assert_eq!(uri_transport("sip:1234@127.0.0.1:5070;transport=tcp"), (UriTransport::Tcp, false));
        assert_eq!(uri_transport("<sip:1234@h;Transport=TLS>"), (UriTransport::Tls, false));
        assert_eq!(uri_transport("sips:1234@h"), (UriTransport::Tls, false));
        assert_eq!(uri_transport("sips:1234@h;transport=tcp"), (UriTransport::Tls, false));
        assert_eq!(uri_transport("sip:1234@[::1]:5060"), (UriTransport::Udp, true));
    }

    #[test]
    fn users_are_read_from_sip_uris_only() {
        assert_eq!(uri_user("sip:1234@h"), Some("1234"));
        assert_eq!(uri_user("<SIPS:alice:pw@h>"), Some("alice"));
        assert_eq!(uri_user("sip:h"), None);
        assert_eq!(uri_user("tel:+123"), None);
        assert_eq!(uri_user("sip:@h"), None);
    }
}
