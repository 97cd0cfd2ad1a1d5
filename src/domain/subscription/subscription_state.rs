//! The Subscription-State header of a NOTIFY (RFC 6665 section 8.2.3):
//! `active;expires=60`, `pending`, `terminated;reason=deactivated;retry-after=30`.

use std::fmt;

/// What the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub kind: StateKind,
    /// `expires=` in seconds, if given.
    pub expires: Option<u32>,
    /// `reason=` (lower-cased), if given.
    pub reason: Option<TerminationReason>,
    /// `retry-after=` in seconds, if given.
    pub retry_after: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateKind {
    Active,
    Pending,
    Terminated,
}

/// RFC 6665 section 4.1.3 reasons; `Other` keeps an unknown token (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminationReason {
    Deactivated,
    Probation,
    Rejected,
    Timeout,
    Giveup,
    Noresource,
    Invariant,
    Other(String),
}

/// Why a header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError(pub String);

impl SubscriptionState {
    /// Parses the header's value (case-insensitive; whitespace around `;` and `=` allowed;
    /// unknown parameters ignored; a bad number in expires or retry-after is an error).
    /// An empty parameter (`active;`) is ignored; a repeated one: the last wins.
    pub fn parse(value: &str) -> Result<Self, StateError> {
        let mut parts = value.split(';');
        let state = parts.next().unwrap_or("").trim();
        let kind = if state.eq_ignore_ascii_case("active") {
            StateKind::Active
        } else if state.eq_ignore_ascii_case("pending") {
            StateKind::Pending
        } else if state.eq_ignore_ascii_case("terminated") {
            StateKind::Terminated
        } else if state.is_empty() {
            return Err(StateError("empty Subscription-State".to_owned()));
        } else {
            return Err(StateError(format!("unknown subscription state '{}'", shown(state))));
        };
        let mut parsed = Self { kind, expires: None, reason: None, retry_after: None };
        for param in parts {
            let (name, value) = match param.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim())),
                None => (param.trim(), None),
            };
            if name.eq_ignore_ascii_case("expires") {
                parsed.expires = Some(seconds("expires", value)?);
            } else if name.eq_ignore_ascii_case("retry-after") {
                parsed.retry_after = Some(seconds("retry-after", value)?);
            } else if name.eq_ignore_ascii_case("reason") {
                parsed.reason = value.filter(|v| !v.is_empty()).map(TerminationReason::from_token);
            }
        }
        Ok(parsed)
    }

    /// The subscription is over (the dialog ends with this NOTIFY).
    pub fn is_terminated(&self) -> bool {
        self.kind == StateKind::Terminated
    }
}

impl StateKind {
    /// The header's token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Terminated => "terminated",
        }
    }
}

impl TerminationReason {
    /// Reads a `reason=` token (case-insensitive).
    pub fn from_token(token: &str) -> Self {
        let token = token.to_ascii_lowercase();
        match token.as_str() {
            "deactivated" => Self::Deactivated,
            "probation" => Self::Probation,
            "rejected" => Self::Rejected,
            "timeout" => Self::Timeout,
            "giveup" => Self::Giveup,
            "noresource" => Self::Noresource,
            "invariant" => Self::Invariant,
            _ => Self::Other(token),
        }
    }

    /// The header's token.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Deactivated => "deactivated",
            Self::Probation => "probation",
            Self::Rejected => "rejected",
            Self::Timeout => "timeout",
            Self::Giveup => "giveup",
            Self::Noresource => "noresource",
            Self::Invariant => "invariant",
            Self::Other(token) => token,
        }
    }
}

/// The header as the admin reads it in a report: `terminated;reason=deactivated`, with the
/// parameters that were understood, in a fixed order.
impl fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        if let Some(reason) = &self.reason {
            write!(f, ";reason={}", shown(reason.as_str()))?;
        }
        if let Some(expires) = self.expires {
            write!(f, ";expires={expires}")?;
        }
        if let Some(retry_after) = self.retry_after {
            write!(f, ";retry-after={retry_after}")?;
        }
        Ok(())
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StateError {}

/// A parameter's value as whole seconds (digits only; at most u32).
fn seconds(name: &str, value: Option<&str>) -> Result<u32, StateError> {
    let value = value.unwrap_or("");
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StateError(format!("{name}='{}' is not a number of seconds", shown(value))));
    }
    value.parse().map_err(|_| StateError(format!("{name}={value} is too large")))
}

/// Remote text for a log line: at most 40 characters, anything but visible ASCII as `?`.
fn shown(text: &str) -> String {
    text.chars().take(40).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> SubscriptionState {
        SubscriptionState::parse(value).unwrap_or_else(|e| panic!("{value:?}: {e}"))
    }

    #[test]
    fn reads_each_state() {
        let s = parse("active;expires=60");
        assert_eq!(
            s,
            SubscriptionState { kind: StateKind::Active, expires: Some(60), reason: None, retry_after: None }
        );
        assert!(!s.is_terminated());
        let s = parse("pending");
        assert_eq!(
            s,
            SubscriptionState { kind: StateKind::Pending, expires: None, reason: None, retry_after: None }
        );
        assert!(!s.is_terminated());
        let s = parse("terminated;reason=deactivated;retry-after=30");
        assert_eq!(
            s,
            SubscriptionState {
                kind: StateKind::Terminated,
                expires: None,
                reason: Some(TerminationReason::Deactivated),
                retry_after: Some(30)
            }
        );
        assert!(s.is_terminated());
    }

    #[test]
    fn reads_every_reason() {
        use TerminationReason::*;
        for (token, reason) in [
            ("deactivated", Deactivated),
            ("probation", Probation),
            ("rejected", Rejected),
            ("timeout", Timeout),
            ("giveup", Giveup),
            ("noresource", Noresource),
            ("invariant", Invariant),
            ("Moved", Other("moved".to_owned())),
        ] {
            assert_eq!(parse(&format!("terminated;reason={token}")).reason, Some(reason), "{token}");
        }
        assert_eq!(parse("terminated;reason=").reason, None);
        assert_eq!(parse("terminated;reason").reason, None);
    }

    #[test]
    fn is_case_insensitive_and_allows_whitespace() {
        let s = parse("  TERMINATED ; Reason = NoResource ; RETRY-AFTER = 5 ; Expires=0 ");
        assert_eq!(s.kind, StateKind::Terminated);
        assert_eq!(s.reason, Some(TerminationReason::Noresource));
        assert_eq!((s.retry_after, s.expires), (Some(5), Some(0)));
        assert_eq!(parse("Active\t;\texpires=3600").expires, Some(3600));
        assert_eq!(parse(" PeNdInG ").kind, StateKind::Pending);
        assert!(SubscriptionState::parse("active; expires ").is_err(), "a bare name is trimmed too");
    }

    #[test]
    fn parameters_in_any_order_unknown_ones_ignored() {
        let a = parse("terminated;retry-after=10;x-foo=\"bar\";reason=probation;expires=5");
        let b = parse("terminated;expires=5;reason=probation;retry-after=10");
        assert_eq!(a, b);
        assert_eq!(parse("active;;expires=1;"), parse("active;expires=1"));
        assert_eq!(parse("active;expires=1;expires=2").expires, Some(2), "the last wins");
    }

    #[test]
    fn bad_numbers_are_errors() {
        for value in [
            "active;expires=",
            "active;expires",
            "active;expires=abc",
            "active;expires=-1",
            "active;expires=+1",
            "active;expires=1.5",
            "terminated;retry-after=soon",
        ] {
            assert!(SubscriptionState::parse(value).is_err(), "{value}");
        }
        assert_eq!(
            SubscriptionState::parse("active;expires=4294967296"),
            Err(StateError("expires=4294967296 is too large".to_owned()))
        );
        assert_eq!(parse("active;expires=4294967295").expires, Some(u32::MAX));
        assert_eq!(
            SubscriptionState::parse("terminated;retry-after=x").unwrap_err().to_string(),
            "retry-after='x' is not a number of seconds"
        );
    }

    #[test]
    fn empty_or_unknown_state_is_an_error() {
        assert_eq!(SubscriptionState::parse(""), Err(StateError("empty Subscription-State".to_owned())));
        assert_eq!(
            SubscriptionState::parse("  ;expires=5"),
            Err(StateError("empty Subscription-State".to_owned()))
        );
        assert_eq!(
            SubscriptionState::parse("waiting;expires=5"),
            Err(StateError("unknown subscription state 'waiting'".to_owned()))
        );
        assert_eq!(
            SubscriptionState::parse("act\rive"),
            Err(StateError("unknown subscription state 'act?ive'".to_owned()))
        );
    }

    #[test]
    fn displays_what_was_understood() {
        assert_eq!(
            parse("TERMINATED;retry-after=3;reason=Giveup").to_string(),
            "terminated;reason=giveup;retry-after=3"
        );
        assert_eq!(parse("active;expires=60;foo=bar").to_string(), "active;expires=60");
    }
}
