//! Answers to Asterisk's voicemail-provider questions from mailbox counts: which folder a
//! question is about, and sums over the mailbox lists Asterisk passes ("1000@default,1001").

use super::counts::MwiCounts;

/// The folder a provider question names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// "INBOX" (or none): new messages.
    Inbox,
    /// "Old": old messages.
    Old,
    /// "Urgent": urgent messages.
    Urgent,
    /// Any other folder: this store keeps none.
    Other,
}

impl Folder {
    /// As app_voicemail names folders; case-insensitive, empty means INBOX.
    pub fn parse(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "" | "inbox" => Self::Inbox,
            "old" => Self::Old,
            "urgent" => Self::Urgent,
            _ => Self::Other,
        }
    }
}

/// Counts summed over several mailboxes, wide enough never to overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sum {
    pub new: u64,
    pub old: u64,
    pub urgent: u64,
}

/// The ids in a provider mailbox list: separated by ',' or '&', blanks trimmed.
pub fn ids(list: &str) -> impl Iterator<Item = &str> {
    list.split([',', '&']).map(str::trim).filter(|s| !s.is_empty())
}

/// Looks an id up as given; an id without '@' falls back to `id@default`, as app_voicemail
/// reads it.
pub fn find(id: &str, lookup: impl Fn(&str) -> Option<MwiCounts>) -> Option<MwiCounts> {
    lookup(id).or_else(|| if id.contains('@') { None } else { lookup(&format!("{id}@default")) })
}

/// New, old and urgent summed over a mailbox list.
pub fn sum(list: &str, lookup: impl Fn(&str) -> Option<MwiCounts>) -> Sum {
    let mut s = Sum::default();
    for id in ids(list) {
        if let Some(c) = find(id, &lookup) {
            s.new += u64::from(c.new);
            s.old += u64::from(c.old);
            s.urgent += u64::from(c.urgent);
        }
    }
    s
}

/// Messages in `folder` over a mailbox list.
pub fn total(list: &str, folder: Folder, lookup: impl Fn(&str) -> Option<MwiCounts>) -> u64 {
    let s = sum(list, lookup);
    match folder {
        Folder::Inbox => s.new,
        Folder::Old => s.old,
        Folder::Urgent => s.urgent,
        Folder::Other => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(id: &str) -> Option<MwiCounts> {
        match id {
            "1000@default" => Some(MwiCounts { new: 3, old: 1, urgent: 2 }),
            "2000@other" => Some(MwiCounts { new: u32::MAX, old: 0, urgent: 0 }),
            "raw" => Some(MwiCounts { new: 0, old: 5, urgent: 0 }),
            _ => None,
        }
    }

    #[test]
    fn folders() {
        assert_eq!(Folder::parse(""), Folder::Inbox);
        assert_eq!(Folder::parse("INBOX"), Folder::Inbox);
        assert_eq!(Folder::parse("Old"), Folder::Old);
        assert_eq!(Folder::parse("urgent"), Folder::Urgent);
        assert_eq!(Folder::parse("Work"), Folder::Other);
    }

    #[test]
    fn sums_lists_with_default_context() {
        assert_eq!(sum("1000", lookup), Sum { new: 3, old: 1, urgent: 2 });
        assert_eq!(sum("1000@default, raw&nope", lookup), Sum { new: 3, old: 6, urgent: 2 });
        assert_eq!(sum("1000@default,2000@other", lookup).new, 3 + u64::from(u32::MAX));
        assert_eq!(total("1000,raw", Folder::Old, lookup), 6);
        assert_eq!(total("1000", Folder::Urgent, lookup), 2);
        assert_eq!(total("1000", Folder::Other, lookup), 0);
        assert_eq!(total("", Folder::Inbox, lookup), 0);
    }
}
