//! The counts a parsed message summary publishes.
//!
//! Asterisk's MWI state carries one new/old/urgent triple, which phones show as voicemail, so:
//! - a Voice-Message line gives the counts: new, old, and the new-urgent count as urgent;
//! - a body without one (status only, or only other classes such as Fax-Message, which
//!   Asterisk's MWI model cannot carry) follows Messages-Waiting: `yes` keeps the mailbox's
//!   counts if it already has new messages and otherwise publishes 1 new (lamp on, old count
//!   kept); `no` publishes 0 new and 0 urgent, keeping the old count;
//! - counts above 2147483647 (valid in RFC 3842, but Asterisk's MWI state holds `int`s) are
//!   published as 2147483647: the lamp stays right and nothing turns negative.

use crate::domain::counts::{MwiCounts, MAX_PUBLISHABLE_COUNT};
use crate::domain::message_summary::{MessageClass, MessageSummary};

/// The counts to publish for `summary`, given the mailbox's current counts (if stored).
pub fn counts_for(summary: &MessageSummary, current: Option<MwiCounts>) -> MwiCounts {
    let current = current.unwrap_or_default();
    let counts = match summary.counts(MessageClass::Voice) {
        Some(voice) => MwiCounts { new: voice.new, old: voice.old, urgent: voice.new_urgent },
        None if summary.waiting() => {
            if current.new > 0 {
                current
            } else {
                MwiCounts { new: 1, old: current.old, urgent: 0 }
            }
        }
        None => MwiCounts { new: 0, old: current.old, urgent: 0 },
    };
    MwiCounts {
        new: counts.new.min(MAX_PUBLISHABLE_COUNT),
        old: counts.old.min(MAX_PUBLISHABLE_COUNT),
        urgent: counts.urgent.min(MAX_PUBLISHABLE_COUNT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(body: &str, current: Option<MwiCounts>) -> MwiCounts {
        counts_for(&MessageSummary::parse(body.as_bytes()).unwrap(), current)
    }

    fn c(new: u32, old: u32, urgent: u32) -> MwiCounts {
        MwiCounts { new, old, urgent }
    }

    #[test]
    fn voice_counts_drive_the_lamp() {
        assert_eq!(counts("Messages-Waiting: yes\r\nVoice-Message: 3/1 (2/0)\r\n", None), c(3, 1, 2));
        assert_eq!(counts("Messages-Waiting: no\r\nVoice-Message: 0/4\r\n", Some(c(9, 9, 9))), c(0, 4, 0));
        // The counts win over a Messages-Waiting that disagrees with them.
        assert_eq!(counts("Messages-Waiting: no\r\nVoice-Message: 2/0\r\n", None), c(2, 0, 0));
    }

    #[test]
    fn status_only_yes_lights_the_lamp_without_inventing_over_known_counts() {
        assert_eq!(counts("Messages-Waiting: yes\r\n", None), c(1, 0, 0));
        assert_eq!(counts("Messages-Waiting: yes\r\n", Some(c(0, 5, 0))), c(1, 5, 0));
        assert_eq!(counts("Messages-Waiting: yes\r\n", Some(c(4, 2, 1))), c(4, 2, 1));
        assert_eq!(counts("Messages-Waiting: yes\r\nFax-Message: 2/0\r\n", None), c(1, 0, 0));
    }

    #[test]
    fn status_only_no_turns_the_lamp_off_and_keeps_old_messages() {
        assert_eq!(counts("Messages-Waiting: no\r\n", Some(c(4, 2, 1))), c(0, 2, 0));
        assert_eq!(counts("Messages-Waiting: no\r\n", None), c(0, 0, 0));
    }

    #[test]
    fn counts_asterisk_cannot_hold_saturate() {
        assert_eq!(
            counts("Messages-Waiting: yes\r\nVoice-Message: 4294967295/2147483648 (3000000000/0)\r\n", None),
            c(MAX_PUBLISHABLE_COUNT, MAX_PUBLISHABLE_COUNT, MAX_PUBLISHABLE_COUNT)
        );
    }
}
