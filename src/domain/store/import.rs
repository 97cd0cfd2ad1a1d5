//! Reading res_mwi_external's records, so its mailboxes can be imported.
//!
//! res_mwi_external keeps them through sorcery in astdb, family `mwi_external/mailboxes`: the
//! key is the mailbox id, the value a JSON object of strings, `{"msgs_new":"3","msgs_old":"0"}`.

use std::fmt;

use serde_json::Value;

use super::key::{MailboxKey, MailboxKeyError};
use crate::domain::counts::{parse_count, CountError, MwiCounts};
use crate::domain::text::printable;

/// The astdb family res_mwi_external's records live in (sorcery's default astdb wizard).
pub const RES_MWI_EXTERNAL_FAMILY: &str = "mwi_external/mailboxes";

/// Why a res_mwi_external record cannot be imported. The `Display` text is what the admin reads;
/// the caller names the record (its key) beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The astdb key is not a valid mailbox id.
    BadKey(MailboxKeyError),
    /// The value is not JSON; serde_json's explanation.
    NotJson(String),
    /// The value is JSON but not an object.
    NotAnObject,
    /// `msgs_new` or `msgs_old` holds no count in 0..=4294967295.
    BadCount { field: &'static str, error: CountError },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadKey(e) => write!(f, "{e}"),
            Self::NotJson(e) => write!(f, "the value is not valid JSON ({e})"),
            Self::NotAnObject => write!(f, "the value is not a JSON object"),
            Self::BadCount { field, error } => write!(f, "{field} {error}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Parses one res_mwi_external record: `key` is the astdb key under
/// [`RES_MWI_EXTERNAL_FAMILY`] (the mailbox id), `value` its JSON.
///
/// `msgs_new` and `msgs_old` may be strings of decimal digits (what sorcery writes) or JSON
/// integers; a missing field means 0; other fields are ignored. res_mwi_external has no urgent
/// count, so urgent is 0. Note that a count res_mwi_external took as negative over AMI is stored
/// as 4294967295 and is returned as such (Asterisk cannot publish it: see
/// [`MwiCounts::first_unpublishable`]).
pub fn parse_res_mwi_external_record(key: &str, value: &str) -> Result<(MailboxKey, MwiCounts), ImportError> {
    let key = MailboxKey::parse(key).map_err(ImportError::BadKey)?;
    let json: Value = serde_json::from_str(value).map_err(|e| ImportError::NotJson(e.to_string()))?;
    let object = json.as_object().ok_or(ImportError::NotAnObject)?;
    let count = |field: &'static str| -> Result<u32, ImportError> {
        let bad = |error| ImportError::BadCount { field, error };
        match object.get(field) {
            None => Ok(0),
            Some(Value::String(text)) => parse_count(text).map_err(bad),
            Some(Value::Number(n)) => {
                if let Some(v) = n.as_u64() {
                    u32::try_from(v).map_err(|_| bad(CountError::TooLarge))
                } else if n.as_i64().is_some() {
                    Err(bad(CountError::Negative))
                } else {
                    Err(bad(CountError::NotANumber))
                }
            }
            Some(_) => Err(bad(CountError::NotANumber)),
        }
    };
    let counts = MwiCounts { new: count("msgs_new")?, old: count("msgs_old")?, urgent: 0 };
    Ok((key, counts))
}

/// An [`ImportError`] with the record it is about, for the admin's log line.
pub fn describe_import_error(key: &str, error: &ImportError) -> String {
    format!("res_mwi_external record '{}' not imported: {error}", printable(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(new: u32, old: u32) -> MwiCounts {
        MwiCounts { new, old, urgent: 0 }
    }

    #[test]
    fn parses_what_sorcery_writes() {
        let (key, c) = parse_res_mwi_external_record("1234", r#"{"msgs_new":"3","msgs_old":"0"}"#).unwrap();
        assert_eq!(key.as_str(), "1234");
        assert_eq!(c, counts(3, 0));
        let (key, c) =
            parse_res_mwi_external_record("1234@default", r#"{ "msgs_old" : "7", "msgs_new" : "12" }"#)
                .unwrap();
        assert_eq!(key.as_str(), "1234@default");
        assert_eq!(c, counts(12, 7));
    }

    #[test]
    fn missing_fields_are_zero_and_others_ignored() {
        assert_eq!(parse_res_mwi_external_record("k", "{}").unwrap().1, counts(0, 0));
        assert_eq!(parse_res_mwi_external_record("k", r#"{"msgs_new":"2"}"#).unwrap().1, counts(2, 0));
        assert_eq!(
            parse_res_mwi_external_record("k", r#"{"msgs_old":"5","id":"k","x":[1]}"#).unwrap().1,
            counts(0, 5)
        );
    }

    #[test]
    fn accepts_json_numbers() {
        assert_eq!(
            parse_res_mwi_external_record("k", r#"{"msgs_new":3,"msgs_old":4294967295}"#).unwrap().1,
            counts(3, u32::MAX)
        );
        assert_eq!(
            parse_res_mwi_external_record("k", r#"{"msgs_new":"4294967295"}"#).unwrap().1,
            counts(u32::MAX, 0)
        );
    }

    #[test]
    fn refuses_bad_counts() {
        let err = |value: &str| parse_res_mwi_external_record("k", value).unwrap_err();
        let bad = |field, error| ImportError::BadCount { field, error };
        assert_eq!(err(r#"{"msgs_new":"-1"}"#), bad("msgs_new", CountError::Negative));
        assert_eq!(err(r#"{"msgs_old":-1}"#), bad("msgs_old", CountError::Negative));
        assert_eq!(err(r#"{"msgs_new":"4294967296"}"#), bad("msgs_new", CountError::TooLarge));
        assert_eq!(err(r#"{"msgs_new":4294967296}"#), bad("msgs_new", CountError::TooLarge));
        assert_eq!(err(r#"{"msgs_new":18446744073709551615}"#), bad("msgs_new", CountError::TooLarge));
        assert_eq!(err(r#"{"msgs_new":"abc"}"#), bad("msgs_new", CountError::NotANumber));
        assert_eq!(err(r#"{"msgs_new":" 3"}"#), bad("msgs_new", CountError::NotANumber));
        assert_eq!(err(r#"{"msgs_new":3.5}"#), bad("msgs_new", CountError::NotANumber));
        assert_eq!(err(r#"{"msgs_new":1e3}"#), bad("msgs_new", CountError::NotANumber));
        assert_eq!(err(r#"{"msgs_new":null}"#), bad("msgs_new", CountError::NotANumber));
        assert_eq!(err(r#"{"msgs_new":true}"#), bad("msgs_new", CountError::NotANumber));
        assert_eq!(err(r#"{"msgs_new":"1","msgs_old":""}"#), bad("msgs_old", CountError::Empty));
    }

    #[test]
    fn refuses_bad_json_and_keys() {
        assert!(matches!(parse_res_mwi_external_record("k", "msgs_new=3"), Err(ImportError::NotJson(_))));
        assert!(matches!(parse_res_mwi_external_record("k", ""), Err(ImportError::NotJson(_))));
        assert_eq!(parse_res_mwi_external_record("k", r#"["3","0"]"#), Err(ImportError::NotAnObject));
        assert_eq!(parse_res_mwi_external_record("k", "3"), Err(ImportError::NotAnObject));
        assert!(matches!(parse_res_mwi_external_record("a b", "{}"), Err(ImportError::BadKey(_))));
        assert!(matches!(parse_res_mwi_external_record("", "{}"), Err(ImportError::BadKey(_))));
    }

    #[test]
    fn error_texts_are_readable() {
        let e = parse_res_mwi_external_record("k", r#"{"msgs_old":"-2"}"#).unwrap_err();
        assert_eq!(e.to_string(), "msgs_old is negative; counts are 0 or more");
        assert_eq!(
            describe_import_error("10\r\n", &e),
            "res_mwi_external record '10\\x0d\\x0a' not imported: msgs_old is negative; counts are 0 or more"
        );
        let e = parse_res_mwi_external_record("k", "{").unwrap_err().to_string();
        assert!(e.starts_with("the value is not valid JSON ("), "{e}");
    }
}
