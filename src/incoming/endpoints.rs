//! The mailbox mapping of each endpoint, read from its `incoming_mwi_mailbox` option by name
//! and kept while the endpoint object is the same (reading an option builds the endpoint's
//! whole object set, about a hundred strings, which is too slow to do per NOTIFY).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::incoming::mapping::{MailboxMapping, MappingError};
use crate::host::log::ast_warning;
use crate::host::pjsip::SipEndpoint;

/// The endpoint option that maps NOTIFYs to mailboxes (Asterisk's, extended with templates).
pub const OPTION: &str = "incoming_mwi_mailbox";

/// An endpoint's mapping: none (option unset), usable, or refused with the reason.
pub type Mapping = Option<Result<MailboxMapping, MappingError>>;

/// At most this many endpoints are cached; beyond it the cache starts over.
const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct EndpointMappings {
    /// Endpoint id -> (the object read, its mapping). Holding the object keeps its address
    /// from being reused, so an address match means the same configuration.
    by_id: Mutex<HashMap<String, (SipEndpoint, Mapping)>>,
}

impl EndpointMappings {
    /// The mapping of `endpoint` (whose id is `id`), read once per endpoint object.
    pub fn mapping(&self, id: &str, endpoint: SipEndpoint) -> Mapping {
        let mut cache = super::lock(&self.by_id);
        if let Some((held, mapping)) = cache.get(id) {
            if held.identity() == endpoint.identity() {
                return mapping.clone();
            }
        }
        let mapping = match endpoint.option(OPTION) {
            None => None,
            Some(text) if text.is_empty() => None,
            Some(text) => {
                let parsed = MailboxMapping::parse(&text);
                if let Err(e) = &parsed {
                    ast_warning!(
                        "endpoint '{id}': {OPTION} '{}' {e}; its message-summary NOTIFYs are answered 404",
                        crate::domain::text::printable(&text)
                    );
                }
                Some(parsed)
            }
        };
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(id.to_owned(), (endpoint, mapping.clone()));
        mapping
    }
}
