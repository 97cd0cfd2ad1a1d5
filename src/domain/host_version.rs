//! Which Asterisk releases this binary's declarations fit.
//!
//! The structures and prototypes in asterisk-headers/ are unchanged from Asterisk 18.0 to 23.x
//! (upstream headers compared). The module leaves the build-options checksum empty, so this
//! check is what refuses a host with another ABI.

/// Oldest supported major release.
pub const FIRST_SUPPORTED_MAJOR: u32 = 18;
/// Newest supported major release.
pub const LAST_SUPPORTED_MAJOR: u32 = 23;

/// The verdict on a host's version string, as `ast_get_version()` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostVersion {
    Supported(u32),
    Unsupported(u32),
    /// Not a release number (a git build, for example): the ABI cannot be vouched for.
    Unknown,
}

/// Classifies "22.10.1", "certified-20.7-cert3", "1:22.10.1+dfsg" and the like.
pub fn classify(version: &str) -> HostVersion {
    let v = version.trim();
    let v = v.strip_prefix("certified/").or_else(|| v.strip_prefix("certified-")).unwrap_or(v);
    let v = match v.split_once(':') {
        Some((epoch, rest)) if epoch.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => v,
    };
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() || !v[digits.len()..].starts_with('.') {
        return HostVersion::Unknown;
    }
    match digits.parse::<u32>() {
        Ok(major) if (FIRST_SUPPORTED_MAJOR..=LAST_SUPPORTED_MAJOR).contains(&major) => {
            HostVersion::Supported(major)
        }
        Ok(major) => HostVersion::Unsupported(major),
        Err(_) => HostVersion::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_release_strings() {
        assert_eq!(classify("22.10.1"), HostVersion::Supported(22));
        assert_eq!(classify("18.0.0"), HostVersion::Supported(18));
        assert_eq!(classify("23.5.0-rc1"), HostVersion::Supported(23));
        assert_eq!(classify("certified-20.7-cert3"), HostVersion::Supported(20));
        assert_eq!(classify("1:22.10.1+dfsg"), HostVersion::Supported(22));
        assert_eq!(classify("16.30.0"), HostVersion::Unsupported(16));
        assert_eq!(classify("24.0.0"), HostVersion::Unsupported(24));
        assert_eq!(classify("GIT-master-abcdef"), HostVersion::Unknown);
        assert_eq!(classify(""), HostVersion::Unknown);
        assert_eq!(classify("22"), HostVersion::Unknown);
    }
}
