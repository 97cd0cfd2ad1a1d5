//! What a reload changes: objects added, removed, changed (resubscribe) and unchanged (nothing
//! is sent for those).

use std::collections::BTreeMap;

use super::settings::SubscriptionSettings;

/// Names in each class, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadPlan {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
}

/// Compares the running objects with the newly loaded ones.
pub fn plan(running: &BTreeMap<String, SubscriptionSettings>, loaded: &BTreeMap<String, SubscriptionSettings>) -> ReloadPlan {
    let _ = (running, loaded);
    todo!("helper")
}
