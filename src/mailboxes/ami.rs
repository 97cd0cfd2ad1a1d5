//! AMI actions MWIGet, MWIUpdate, MWIDelete: res_mwi_external_ami's names, privileges,
//! parameters, responses and events, field for field. Additions old clients ignore: the
//! UrgentMessages parameter and field. Where res_mwi_external_ami was wrong this is right:
//! bad counts and ids are refused, MWIDelete that matches nothing answers Error, and
//! MWIDelete refuses the empty regex `//` (it deleted everything).

use super::service::{self, MailboxService};
use crate::domain::mailbox_commands::{self as cmd, Selector};
use crate::domain::store::{MailboxRecord, Source};
use crate::domain::text::printable;
use crate::host::manager::{AmiAction, AmiCall, EVENT_FLAG_CALL, EVENT_FLAG_REPORTING};

fn with_service(call: &AmiCall, f: impl FnOnce(&MailboxService)) {
    match service::current() {
        Some(s) => f(&s),
        None => call.error("External mailbox store not available"),
    }
}

pub struct MwiGet;

impl AmiAction for MwiGet {
    const NAME: &'static std::ffi::CStr = c"MWIGet";
    const AUTHORITY: u32 = EVENT_FLAG_CALL | EVENT_FLAG_REPORTING;
    const SYNOPSIS: &'static std::ffi::CStr = c"Get the message counts of external mailboxes.";
    const DESCRIPTION: &'static std::ffi::CStr = c"Mailbox: an id, or /regex/ (// lists all).\nAnswers with a list of MWIGet events (Mailbox, OldMessages, NewMessages, UrgentMessages) closed by MWIGetComplete.\n";

    fn handle(call: &AmiCall) {
        let selector = match cmd::parse_ami_selector(&call.header(c"Mailbox")) {
            Ok(s) => s,
            Err(e) => return call.error(&e),
        };
        with_service(call, |s| {
            let records: Vec<MailboxRecord> = match &selector {
                Selector::Exact(key) => s.get(key).into_iter().collect(),
                Selector::Regex(re) => s.list(re.as_ref()).0,
            };
            call.list_ack("Mailboxes will follow", "start");
            let action_id = call.header(c"ActionID");
            for r in &records {
                call.append(&cmd::mwiget_event(r, &action_id));
            }
            call.list_complete(c"MWIGetComplete", records.len());
        })
    }
}

pub struct MwiUpdate;

impl AmiAction for MwiUpdate {
    const NAME: &'static std::ffi::CStr = c"MWIUpdate";
    const AUTHORITY: u32 = EVENT_FLAG_CALL;
    const SYNOPSIS: &'static std::ffi::CStr = c"Set the message counts of an external mailbox.";
    const DESCRIPTION: &'static std::ffi::CStr = c"Mailbox: the id (kept verbatim). OldMessages, NewMessages, UrgentMessages: 0 to 2147483647, missing means 0.\nAnswers Success once the counts are stored; publishes them when they changed.\n";

    fn handle(call: &AmiCall) {
        let mailbox = call.header(c"Mailbox");
        let key = match cmd::parse_ami_selector(&mailbox) {
            Ok(Selector::Exact(key)) => key,
            Ok(Selector::Regex(_)) => {
                return call
                    .error(&format!("Invalid mailbox '{}': a regex cannot be updated", printable(&mailbox)))
            }
            Err(e) => return call.error(&e),
        };
        let counts = match cmd::parse_ami_counts(
            &call.header(c"NewMessages"),
            &call.header(c"OldMessages"),
            &call.header(c"UrgentMessages"),
        ) {
            Ok(c) => c,
            Err(e) => return call.error(&e),
        };
        with_service(call, |s| match s.update(&key, counts, Source::Ami) {
            Ok(_) => call.ack(None),
            Err(e) => call.error(&format!("Update attempt failed: {e}")),
        })
    }
}

pub struct MwiDelete;

impl AmiAction for MwiDelete {
    const NAME: &'static std::ffi::CStr = c"MWIDelete";
    const AUTHORITY: u32 = EVENT_FLAG_CALL;
    const SYNOPSIS: &'static std::ffi::CStr = c"Delete external mailboxes.";
    const DESCRIPTION: &'static std::ffi::CStr = c"Mailbox: an id, or /regex/ (non-empty).\nAnswers Error when nothing matched. Deleted mailboxes publish 0/0 and leave the MWI cache.\n";

    fn handle(call: &AmiCall) {
        let mailbox = call.header(c"Mailbox");
        let selector = match cmd::parse_ami_selector(&mailbox) {
            Ok(s) => s,
            Err(e) => return call.error(&e),
        };
        with_service(call, |s| {
            let deleted = match &selector {
                Selector::Exact(key) => s.delete(key).map(|r| usize::from(r.is_some())),
                Selector::Regex(Some(re)) => s.delete_matching(re).map(|v| v.len()),
                Selector::Regex(None) => {
                    return call.error(&format!(
                        "Mailbox regex is empty in: {} (refusing to delete every mailbox; use the CLI command 'mwi delete all')",
                        printable(&mailbox)
                    ))
                }
            };
            match deleted {
                Ok(0) => call.error(&format!("No mailbox matches: {}", printable(&mailbox))),
                Ok(_) => call.ack(None),
                Err(e) => call.error(&format!("Delete attempt failed: {e}")),
            }
        })
    }
}
