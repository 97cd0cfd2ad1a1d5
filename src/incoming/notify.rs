//! The NOTIFY handler: claims message-summary NOTIFYs from endpoints with
//! `incoming_mwi_mailbox`, parses them, and writes the counts into the mailbox store (which
//! publishes them). Answers:
//! - 200 when the state was taken, or is already superseded by a NOTIFY received later;
//! - 400 with the reason for a body that is not a valid message summary, a NOTIFY with
//!   Event message-summary but no such body, or an account user unusable as a mailbox;
//! - 403 for a new account when the endpoint already holds `max_mailboxes_per_endpoint`
//!   mailboxes (see `domain::incoming::growth`; logged once per episode);
//! - 404 when the endpoint's `incoming_mwi_mailbox` is invalid or a `${ACCOUNT}` template finds
//!   no account;
//! - 500 when the store cannot write (nothing published; the service logs it once per episode);
//! - a retransmission (same endpoint, Call-ID and CSeq within 32 s) gets the first answer again
//!   and is not published again.
//!
//! Everything else passes through untouched: other methods and events, unidentified
//! requests, and endpoints without `incoming_mwi_mailbox` (res_pjsip_pubsub answers those 404).

use crate::domain::incoming::growth::{self, Admission, MailboxLimit};
use crate::domain::incoming::mapping::{MailboxMapping, MappingError, RenderError};
use crate::domain::incoming::request::{is_message_summary_event, is_summary_content_type, request_uri_user};
use crate::domain::incoming::retransmissions::RequestKey;
use crate::domain::incoming::summary_counts::counts_for;
use crate::domain::message_summary::MessageSummary;
use crate::domain::store::UpdateOutcome;
use crate::host::log::{ast_debug, ast_warning};
use crate::host::pjsip::{Handled, IncomingRequest, RequestHandler, PRIORITY_AFTER_AUTHENTICATION};
use crate::mailboxes::service::{self, EndpointUpdate};

pub struct NotifyHandler;

/// The account whose NOTIFY makes the test build's handler panic (before it answers).
#[cfg(feature = "test-hooks")]
const TEST_PANIC_ACCOUNT: &str = "panic-res-mwi-hub-test";

impl RequestHandler for NotifyHandler {
    const NAME: &'static std::ffi::CStr = c"res_mwi_hub incoming MWI";
    const PRIORITY: i32 = PRIORITY_AFTER_AUTHENTICATION;

    fn on_request(request: &IncomingRequest<'_>) -> Handled {
        if !request.is_method("NOTIFY") {
            return Handled::PassedOn;
        }
        let body = request.body();
        let summary_body =
            body.as_ref().filter(|b| is_summary_content_type(&b.media_type, &b.subtype)).map(|b| b.data);
        let summary_event = request
            .header("Event")
            .or_else(|| request.header("o"))
            .is_some_and(|e| is_message_summary_event(&e));
        if summary_body.is_none() && !summary_event {
            return Handled::PassedOn;
        }
        let (Some(state), Some(store)) = (super::current(), service::current()) else {
            return Handled::PassedOn;
        };
        let Some(endpoint) = request.endpoint() else {
            return Handled::PassedOn;
        };
        let endpoint_id = endpoint.id();
        let Some(mapping) = state.endpoints.mapping(&endpoint_id, endpoint) else {
            return Handled::PassedOn;
        };

        let call_id = request.call_id().unwrap_or_default();
        let cseq = request.cseq().unwrap_or(0);
        let arrival = super::lock(&state.arrivals).take(&(call_id.clone(), cseq));
        let key = RequestKey { endpoint: endpoint_id.clone(), call_id, cseq };
        let now = service::now_ms().max(0) as u64;
        let answered = super::lock(&state.answers).answered(&key, now);
        if let Some((status, reason)) = answered {
            ast_debug!(1, "incoming MWI from endpoint '{endpoint_id}': retransmission answered {status} again, not published");
            request.respond(status, reason.as_deref());
            return Handled::Claimed;
        }
        let (status, reason) = answer(request, &endpoint_id, mapping, summary_body, arrival, &state, &store);
        let counter = if status == 200 { &state.taken } else { &state.refused };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        request.respond(status, reason.as_deref());
        super::lock(&state.answers).remember(key, (status, reason), now);
        Handled::Claimed
    }
}

/// Handles a claimed NOTIFY; returns the status and reason phrase to answer.
fn answer(
    request: &IncomingRequest<'_>,
    endpoint_id: &str,
    mapping: Result<MailboxMapping, MappingError>,
    summary_body: Option<&[u8]>,
    arrival: u64,
    state: &super::IncomingState,
    store: &service::MailboxService,
) -> (u16, Option<String>) {
    let Ok(mapping) = mapping else {
        return (404, Some("No valid incoming_mwi_mailbox for this endpoint".into()));
    };
    let Some(data) = summary_body else {
        return (400, Some("Expected an application/simple-message-summary body".into()));
    };
    let summary = match MessageSummary::parse(data) {
        Ok(s) => s,
        Err(e) => {
            ast_debug!(1, "incoming MWI from endpoint '{endpoint_id}': 400, {e}");
            return (400, Some(e.to_string()));
        }
    };
    let account = summary.account_user().or_else(|| request_uri_user(request.raw()));
    #[cfg(feature = "test-hooks")]
    if account == Some(TEST_PANIC_ACCOUNT) {
        panic!("test-hooks: forced panic in the NOTIFY handler");
    }
    let mailbox = match mapping.mailbox(account) {
        Ok(m) => m,
        Err(e @ RenderError::NoAccount) => return (404, Some(e.to_string())),
        Err(e @ RenderError::BadAccount) => return (400, Some(e.to_string())),
    };
    let limit = MailboxLimit(state.limit.load(std::sync::atomic::Ordering::Relaxed));
    let room_for_new = |held: usize| match super::lock(&state.growth).admit_new(endpoint_id, held, limit) {
        Admission::Admit => true,
        Admission::Refuse { log } => {
            if log {
                ast_warning!(
                    "endpoint '{endpoint_id}' holds {held} mailboxes, its limit \
                     (max_mailboxes_per_endpoint = {} in res_mwi_hub.conf): NOTIFYs for new accounts \
                     ({mailbox} first) are refused with {} until it holds fewer; its mailboxes keep \
                     updating. Logged once until then; 'mwi show status' counts the refusals",
                    limit.0,
                    growth::REFUSED_STATUS
                );
            }
            false
        }
    };
    let result = store.update_from_endpoint(&mailbox, endpoint_id, room_for_new, |current| {
        let counts = counts_for(&summary, current);
        #[cfg(feature = "test-hooks")]
        {
            let mut newest = super::lock(&state.newest);
            let seen = newest.entry(mailbox.as_str().to_owned()).or_insert((0, counts));
            if arrival >= seen.0 {
                *seen = (arrival, counts);
            }
            if !super::ARRIVAL_CHECK.load(std::sync::atomic::Ordering::Relaxed) {
                return Some(counts);
            }
        }
        super::lock(&state.latest).admit(mailbox.as_str(), arrival).then_some(counts)
    });
    match result {
        Ok(EndpointUpdate::Stored(outcome)) => {
            if crate::host::log::debug_enabled(1) {
                let what = match outcome {
                    UpdateOutcome::Unchanged => "unchanged",
                    _ => "published",
                };
                ast_debug!(1, "incoming MWI from endpoint '{endpoint_id}' for {mailbox}: {what}");
            }
            (200, None)
        }
        Ok(EndpointUpdate::NoRoom) => {
            ast_debug!(1, "incoming MWI from endpoint '{endpoint_id}' for {mailbox}: refused, no room for a new mailbox");
            (growth::REFUSED_STATUS, Some(growth::REFUSED_REASON.into()))
        }
        Ok(EndpointUpdate::Superseded) => {
            ast_debug!(
                1,
                "incoming MWI from endpoint '{endpoint_id}' for {mailbox}: superseded by a later NOTIFY"
            );
            (200, None)
        }
        Err(e) => {
            ast_debug!(1, "incoming MWI from endpoint '{endpoint_id}' for {mailbox} not stored: {e}");
            (500, Some("Mailbox store unavailable".into()))
        }
    }
}
