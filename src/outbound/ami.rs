//! AMI for outbound subscriptions: `MWIShowSubscriptions` lists them (like
//! PJSIPShowRegistrationsOutbound); every state change raises `MWISubscriptionStatus`.

use super::{current, view};
use crate::domain::subscription::report::ami_entry;
use crate::host::manager::{AmiAction, AmiCall, EVENT_FLAG_REPORTING, EVENT_FLAG_SYSTEM};

pub struct MwiShowSubscriptions;

impl AmiAction for MwiShowSubscriptions {
    const NAME: &'static std::ffi::CStr = c"MWIShowSubscriptions";
    const AUTHORITY: u32 = EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING;
    const SYNOPSIS: &'static std::ffi::CStr = c"List outbound MWI subscriptions.";
    const DESCRIPTION: &'static std::ffi::CStr = c"Answers with one MWISubscriptionEntry event per outbound MWI subscription (type = mwi-subscription in pjsip.conf), closed by MWISubscriptionsComplete.\n";

    fn handle(call: &AmiCall) {
        let Some(rt) = current() else {
            return call.error("Outbound MWI subscriptions are not running");
        };
        let subs = rt.subscriptions();
        call.list_ack("Subscriptions will follow", "start");
        let action_id = call.header(c"ActionID");
        for s in &subs {
            call.append(&ami_entry(&view(s), &action_id));
        }
        call.list_complete(c"MWISubscriptionsComplete", subs.len());
    }
}
