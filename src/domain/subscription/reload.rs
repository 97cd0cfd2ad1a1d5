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

/// Compares the running objects with the newly loaded ones. An object counts as changed when
/// any of its settings differ, timing included: the subscription is redone with the new ones.
pub fn plan(
    running: &BTreeMap<String, SubscriptionSettings>,
    loaded: &BTreeMap<String, SubscriptionSettings>,
) -> ReloadPlan {
    let mut plan = ReloadPlan::default();
    for (name, new) in loaded {
        match running.get(name) {
            None => plan.added.push(name.clone()),
            Some(old) if old == new => plan.unchanged.push(name.clone()),
            Some(_) => plan.changed.push(name.clone()),
        }
    }
    plan.removed = running.keys().filter(|name| !loaded.contains_key(*name)).cloned().collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str, server_uri: &str, expiration: &str) -> (String, SubscriptionSettings) {
        let options = [("server_uri", server_uri), ("expiration", expiration)]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
        (name.to_owned(), SubscriptionSettings::from_options(name, &options).unwrap())
    }

    #[test]
    fn sorts_objects_into_the_four_classes() {
        let running = BTreeMap::from([
            object("b-same", "sip:1@h", "60"),
            object("a-gone", "sip:2@h", "60"),
            object("c-uri", "sip:3@h", "60"),
            object("d-timing", "sip:4@h", "60"),
            object("e-same", "sip:5@h", "60"),
        ]);
        let loaded = BTreeMap::from([
            object("e-same", "sip:5@h", "60"),
            object("b-same", "sip:1@h", "60"),
            object("c-uri", "sip:3@other", "60"),
            object("d-timing", "sip:4@h", "120"),
            object("f-new", "sip:6@h", "60"),
            object("0-new", "sip:7@h", "60"),
        ]);
        assert_eq!(
            plan(&running, &loaded),
            ReloadPlan {
                added: vec!["0-new".to_owned(), "f-new".to_owned()],
                removed: vec!["a-gone".to_owned()],
                changed: vec!["c-uri".to_owned(), "d-timing".to_owned()],
                unchanged: vec!["b-same".to_owned(), "e-same".to_owned()],
            }
        );
    }

    #[test]
    fn empty_sides() {
        let some = BTreeMap::from([object("x", "sip:1@h", "60")]);
        let none = BTreeMap::new();
        assert_eq!(plan(&none, &none), ReloadPlan::default());
        assert_eq!(plan(&none, &some), ReloadPlan { added: vec!["x".to_owned()], ..ReloadPlan::default() });
        assert_eq!(plan(&some, &none), ReloadPlan { removed: vec!["x".to_owned()], ..ReloadPlan::default() });
        assert_eq!(
            plan(&some, &some),
            ReloadPlan { unchanged: vec!["x".to_owned()], ..ReloadPlan::default() }
        );
    }
}
