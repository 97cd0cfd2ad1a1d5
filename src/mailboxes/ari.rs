//! ARI `/mailboxes` (res_ari_mailboxes' routes) over the mailbox store: what AMI and the CLI
//! change, ARI reads, and the other way round. The rules are in `domain::ari_mailboxes`.

use std::ffi::CStr;

use super::service::{self, MailboxService};
use crate::domain::ari_mailboxes::{self as rules, AriRefusal};
use crate::domain::store::Source;
use crate::host::ari::{AriAnswer, AriRequest, AriResource};
use crate::host::log::ast_debug;

pub struct Mailboxes;

/// The mailbox whose GET makes the test build's route panic (before it answers).
#[cfg(feature = "test-hooks")]
const TEST_PANIC_MAILBOX: &str = "panic@res_mwi_hub_test";

const INTERNAL: &CStr = c"Internal Server Error";

fn refused(r: AriRefusal) -> AriAnswer {
    match r {
        AriRefusal::BadRequest(message) => AriAnswer::Error { code: 400, reason: c"Bad Request", message },
        AriRefusal::NotFound(message) => {
            AriAnswer::Error { code: 404, reason: c"Not Found", message: message.into() }
        }
    }
}

fn internal(message: &str) -> AriAnswer {
    AriAnswer::Error { code: 500, reason: INTERNAL, message: message.into() }
}

fn with_service(f: impl FnOnce(&MailboxService) -> AriAnswer) -> AriAnswer {
    match service::current() {
        Some(s) => f(&s),
        None => internal("the external-mailbox store is not available"),
    }
}

impl AriResource for Mailboxes {
    const SEGMENT: &'static CStr = c"mailboxes";
    const VARIABLE: &'static CStr = c"mailboxName";

    fn list(_request: &AriRequest<'_>) -> AriAnswer {
        with_service(|s| AriAnswer::Json(rules::list_json(&s.list(None).0)))
    }

    fn get(request: &AriRequest<'_>) -> AriAnswer {
        let key = match rules::parse_name(request.variable.as_deref()) {
            Ok(k) => k,
            Err(r) => return refused(r),
        };
        #[cfg(feature = "test-hooks")]
        if key.as_str() == TEST_PANIC_MAILBOX {
            panic!("test-hooks: forced panic in the ARI GET route");
        }
        with_service(|s| match s.get(&key) {
            Some(r) => AriAnswer::Json(rules::mailbox_json(&r).to_string()),
            None => refused(AriRefusal::NotFound(rules::GET_MISSING)),
        })
    }

    fn put(request: &AriRequest<'_>) -> AriAnswer {
        let parsed = rules::parse_name(request.variable.as_deref())
            .and_then(|key| rules::parse_update(&request.query, request.body.as_deref()).map(|c| (key, c)));
        let (key, counts) = match parsed {
            Ok(v) => v,
            Err(r) => return refused(r),
        };
        with_service(|s| match s.update(&key, counts, Source::Ari) {
            Ok(_) => {
                // Answered once on the bus, as the CLI's writes: a client's next GET of a
                // phone's lamp state sees it.
                s.settle();
                AriAnswer::NoContent
            }
            Err(e) => {
                // The service logged the failure (once per episode).
                ast_debug!(1, "ARI update of mailbox {key} failed, nothing changed: {e}");
                internal(rules::UPDATE_FAILED)
            }
        })
    }

    fn delete(request: &AriRequest<'_>) -> AriAnswer {
        let key = match rules::parse_name(request.variable.as_deref()) {
            Ok(k) => k,
            Err(r) => return refused(r),
        };
        with_service(|s| match s.delete(&key) {
            Ok(Some(_)) => {
                s.settle();
                AriAnswer::NoContent
            }
            Ok(None) => refused(AriRefusal::NotFound(rules::DELETE_MISSING)),
            Err(e) => {
                ast_debug!(1, "ARI delete of mailbox {key} failed, nothing changed: {e}");
                // The original's reason phrase, typo included (clients may match it).
                AriAnswer::Error {
                    code: 500,
                    reason: c"INternal Server Error",
                    message: rules::DELETE_FAILED.into(),
                }
            }
        })
    }
}
