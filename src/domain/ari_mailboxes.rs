//! ARI `/mailboxes`, as res_ari_mailboxes answers it (the JSON shape, status codes and texts
//! its clients know), over our store: the request reading and the answers, without I/O.
//!
//! - `GET /mailboxes`: 200, every mailbox (sorted by name).
//! - `GET /mailboxes/{mailboxName}`: 200, or 404 "Mailbox is does not exist" (sic, as the
//!   original says it).
//! - `PUT /mailboxes/{mailboxName}`: `oldMessages`, `newMessages` (and ours, `urgentMessages`,
//!   as MWIUpdate adds UrgentMessages) as query parameters or JSON body keys, the body's winning;
//!   a missing one is 0. 204, creating the mailbox if needed.
//! - `DELETE /mailboxes/{mailboxName}`: 204, or 404 "Mailbox does not exist".
//!
//! The original takes any text as a count (atoi) and any name; here a bad name or count is a
//! 400 with the reason, and nothing changes.
//! Mailbox JSON: `{"name", "old_messages", "new_messages"}` plus `urgent_messages` (as MWIGet
//! adds UrgentMessages).

use serde_json::{json, Value};

use super::counts::{MwiCounts, MAX_PUBLISHABLE_COUNT};
use super::mailbox_commands::parse_count_field;
use super::store::{MailboxKey, MailboxRecord};
use super::text::printable;

/// Why a request is refused (what the answer says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AriRefusal {
    /// 400 Bad Request.
    BadRequest(String),
    /// 404 Not Found.
    NotFound(&'static str),
}

/// The texts of the original's 404s and 500s.
pub const GET_MISSING: &str = "Mailbox is does not exist";
pub const DELETE_MISSING: &str = "Mailbox does not exist";
pub const UPDATE_FAILED: &str = "Error updating mailbox";
pub const DELETE_FAILED: &str = "Failed to delete the mailbox";

/// One mailbox as JSON.
pub fn mailbox_json(r: &MailboxRecord) -> Value {
    json!({
        "name": r.key.as_str(),
        "old_messages": r.counts.old,
        "new_messages": r.counts.new,
        "urgent_messages": r.counts.urgent,
    })
}

/// The list, sorted by name.
pub fn list_json<'a>(records: impl IntoIterator<Item = &'a MailboxRecord>) -> String {
    let mut all: Vec<&MailboxRecord> = records.into_iter().collect();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    Value::Array(all.into_iter().map(mailbox_json).collect()).to_string()
}

/// The `{mailboxName}` of a route.
pub fn parse_name(name: Option<&str>) -> Result<MailboxKey, AriRefusal> {
    let name = name.unwrap_or_default();
    MailboxKey::parse(name)
        .map_err(|e| AriRefusal::BadRequest(format!("Invalid mailboxName '{}': {e}", printable(name))))
}

const FIELDS: [&str; 3] = ["oldMessages", "newMessages", "urgentMessages"];

fn set(counts: &mut MwiCounts, field: &str, value: u32) {
    match field {
        "oldMessages" => counts.old = value,
        "newMessages" => counts.new = value,
        _ => counts.urgent = value,
    }
}

fn count_from_json(field: &str, value: &Value) -> Result<u32, AriRefusal> {
    match value.as_u64() {
        Some(v) if v <= u64::from(MAX_PUBLISHABLE_COUNT) => Ok(v as u32),
        Some(_) => Err(AriRefusal::BadRequest(format!(
            "Invalid {field}: {value} (larger than {MAX_PUBLISHABLE_COUNT})"
        ))),
        None => Err(AriRefusal::BadRequest(format!(
            "Invalid {field}: {} (not a whole number from 0 to {MAX_PUBLISHABLE_COUNT})",
            printable(&value.to_string())
        ))),
    }
}

/// The counts of a PUT: query parameters, then the JSON body's keys over them.
pub fn parse_update(query: &[(String, String)], body: Option<&str>) -> Result<MwiCounts, AriRefusal> {
    let mut counts = MwiCounts::default();
    for (name, value) in query {
        if let Some(field) = FIELDS.iter().find(|f| **f == name.as_str()) {
            set(&mut counts, field, parse_count_field(field, value).map_err(AriRefusal::BadRequest)?);
        }
    }
    let Some(body) = body else { return Ok(counts) };
    let body: Value = serde_json::from_str(body)
        .map_err(|e| AriRefusal::BadRequest(format!("The body is not JSON: {e}")))?;
    match &body {
        Value::Object(map) => {
            for field in FIELDS {
                if let Some(value) = map.get(field) {
                    set(&mut counts, field, count_from_json(field, value)?);
                }
            }
        }
        // res_ari reads a body of `null` for a request without one.
        Value::Null => {}
        _ => return Err(AriRefusal::BadRequest("The body must be a JSON object".into())),
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::store::Source;

    fn record(id: &str, new: u32, old: u32, urgent: u32) -> MailboxRecord {
        MailboxRecord::for_test(id, MwiCounts { new, old, urgent }, Source::Ari, 0)
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn mailboxes_render_as_the_original_plus_urgent() {
        let v = mailbox_json(&record("1000@default", 3, 1, 2));
        assert_eq!(
            v,
            json!({"name": "1000@default", "old_messages": 1, "new_messages": 3, "urgent_messages": 2})
        );
        let list = list_json(&[record("b", 1, 0, 0), record("a", 0, 0, 0)]);
        let names: Vec<String> = serde_json::from_str::<Vec<Value>>(&list)
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(list_json(&[]), "[]");
    }

    #[test]
    fn counts_come_from_the_query_then_the_body() {
        assert_eq!(parse_update(&[], None), Ok(MwiCounts::default()));
        assert_eq!(
            parse_update(&q(&[("oldMessages", "1"), ("newMessages", "3"), ("urgentMessages", "2")]), None),
            Ok(MwiCounts { new: 3, old: 1, urgent: 2 })
        );
        assert_eq!(
            parse_update(&q(&[("oldMessages", "1"), ("newMessages", "3")]), Some(r#"{"newMessages": 7}"#)),
            Ok(MwiCounts { new: 7, old: 1, urgent: 0 })
        );
        assert_eq!(parse_update(&q(&[("other", "x")]), Some("null")), Ok(MwiCounts::default()));
    }

    #[test]
    fn bad_counts_and_names_are_refused_with_the_reason() {
        let bad = |r: Result<MwiCounts, AriRefusal>| match r {
            Err(AriRefusal::BadRequest(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(bad(parse_update(&q(&[("newMessages", "-1")]), None)).starts_with("Invalid newMessages: -1"));
        assert!(bad(parse_update(&q(&[("oldMessages", "3x")]), None)).starts_with("Invalid oldMessages: 3x"));
        assert!(
            bad(parse_update(&q(&[("newMessages", "2147483648")]), None)).contains("larger than 2147483647")
        );
        assert!(
            bad(parse_update(&[], Some(r#"{"newMessages": "3"}"#))).starts_with("Invalid newMessages: \"3\"")
        );
        assert!(bad(parse_update(&[], Some(r#"{"oldMessages": -2}"#))).starts_with("Invalid oldMessages: -2"));
        assert!(
            bad(parse_update(&[], Some(r#"{"oldMessages": 1.5}"#))).starts_with("Invalid oldMessages: 1.5")
        );
        assert!(bad(parse_update(&[], Some("[1]"))).contains("JSON object"));
        assert!(bad(parse_update(&[], Some("{"))).contains("not JSON"));
        assert!(matches!(parse_name(Some("")), Err(AriRefusal::BadRequest(m)) if m.contains("empty")));
        assert!(matches!(parse_name(None), Err(AriRefusal::BadRequest(_))));
        assert!(
            matches!(parse_name(Some("a b")), Err(AriRefusal::BadRequest(m)) if m.starts_with("Invalid mailboxName 'a b'"))
        );
        assert_eq!(parse_name(Some("1000@default")).unwrap().as_str(), "1000@default");
    }
}
