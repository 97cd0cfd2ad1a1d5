//! Numbers NOTIFYs in arrival order, on pjsip's receiving thread (see
//! `crate::domain::incoming::arrival`). Never answers, never claims: it only looks.

use crate::host::pjsip::{Handled, IncomingRequest, RequestHandler, PRIORITY_ON_RECEIVING_THREAD};

pub struct ArrivalStamper;

impl RequestHandler for ArrivalStamper {
    const NAME: &'static std::ffi::CStr = c"res_mwi_hub arrival order";
    const PRIORITY: i32 = PRIORITY_ON_RECEIVING_THREAD;

    fn on_request(request: &IncomingRequest<'_>) -> Handled {
        if request.is_method("NOTIFY") {
            if let (Some(state), Some(call_id), Some(cseq)) =
                (super::current(), request.call_id(), request.cseq())
            {
                super::lock(&state.arrivals).stamp((call_id, cseq));
            }
        }
        Handled::PassedOn
    }
}
