use super::*;
use crate::domain::subscription::machine::Phase;

fn change(at: Millis, from: Phase, to: Phase, reason: &str) -> Change {
    Change { at, from, to, reason: reason.to_owned() }
}

/// An established subscription with counts and a history of two changes.
fn active() -> SubscriptionView {
    SubscriptionView {
        name: "vm-1000".to_owned(),
        server_uri: "sip:1000@vm.example.com".to_owned(),
        mailbox: "1000@default".to_owned(),
        status: Status {
            phase: Phase::Active,
            last_response: Some("200".to_owned()),
            granted: Some(60),
            expires_in_ms: Some(12_340),
            next_subscribe_in_ms: Some(2_060),
            failures: 0,
            history: vec![
                change(1_000, Phase::Waiting, Phase::Subscribing, "started: subscribing (expires 60)"),
                change(1_250, Phase::Subscribing, Phase::Active, "200, granted 60 s, refresh in 50 s"),
            ],
        },
        counts: Some(ClassCounts { new: 3, old: 1, new_urgent: 1, old_urgent: 0 }),
        last_notify_ago_ms: Some(4_200),
    }
}

/// Never answered: nothing known but the configuration and the failures.
fn retrying() -> SubscriptionView {
    SubscriptionView {
        name: "vm-2000".to_owned(),
        server_uri: "sip:2000@vm.example.com;transport=tcp".to_owned(),
        mailbox: "2000@default".to_owned(),
        status: Status {
            phase: Phase::Retrying,
            last_response: None,
            granted: None,
            expires_in_ms: None,
            next_subscribe_in_ms: Some(49_750),
            failures: 12,
            history: Vec::new(),
        },
        counts: None,
        last_notify_ago_ms: None,
    }
}

#[test]
fn table_of_two() {
    assert_eq!(
        format_table(&[active(), retrying()]),
        concat!(
            "Name     Server                                 Mailbox       State     Last  Expires  Refresh/retry in  Counts     Failures\n",
            "vm-1000  sip:1000@vm.example.com                1000@default  Active    200   60s      2.1s              3/1 (1/0)  0\n",
            "vm-2000  sip:2000@vm.example.com;transport=tcp  2000@default  Retrying  -     -        49.8s             -          12\n",
            "2 subscriptions\n",
        )
    );
}

#[test]
fn footer_counts_rows() {
    let header = "Name  Server  Mailbox  State  Last  Expires  Refresh/retry in  Counts  Failures\n";
    assert_eq!(format_table(&[]), format!("{header}0 subscriptions\n"));
    let one = format_table(&[active()]);
    assert_eq!(one.lines().count(), 3, "{one}");
    assert!(one.ends_with("\n1 subscription\n"), "{one}");
    assert!(
        one.starts_with("Name     Server                   Mailbox       State   Last  Expires"),
        "{one}"
    );
}

#[test]
fn table_cuts_long_server_uris() {
    let forty = format!("sip:{}", "a".repeat(36));
    let view = |uri: &str| SubscriptionView { server_uri: uri.to_owned(), ..retrying() };
    let text = format_table(&[view(&forty)]);
    assert!(text.contains(&format!("  {forty}  ")), "{text}");
    let text = format_table(&[view(&format!("{forty}b"))]);
    let cut = format!("sip:{}~", "a".repeat(35));
    assert_eq!(cut.chars().count(), SERVER_WIDTH);
    assert!(text.contains(&format!("  {cut}  ")), "{text}");
    assert!(!text.contains("aab"), "{text}");
    // Characters, not bytes: a multi-byte character is never split.
    let text = format_table(&[view(&format!("sip:{}", "é".repeat(50)))]);
    assert!(text.contains(&format!("sip:{}~  ", "é".repeat(35))), "{text}");
}

#[test]
fn every_field_stays_on_one_line() {
    let mut view = active();
    view.name = "vm\r\nEvent: Fake".to_owned();
    view.server_uri = "sip:a@b\r\nInjected: 1\x07".to_owned();
    view.mailbox = "1000@default\u{2028}x".to_owned();
    view.status.last_response = Some("not sent: no\ttransport\n".to_owned());
    view.status.history[1].reason = "NOTIFY\r\nterminated".to_owned();

    let table = format_table(&[view.clone()]);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("vm\\x0d\\x0aEvent: Fake  sip:a@b\\x0d\\x0aInjected: 1\\x07  "), "{table}");
    assert!(table.contains("1000@default\\u{2028}x"), "{table}");

    let detail = format_detail(&view, 10_000);
    assert_eq!(detail.lines().count(), 14, "{detail}");
    assert!(detail.contains("Server: sip:a@b\\x0d\\x0aInjected: 1\\x07\n"), "{detail}");
    assert!(detail.contains("Last response: not sent: no\\x09transport\\x0a\n"), "{detail}");
    assert!(detail.contains(": NOTIFY\\x0d\\x0aterminated\n"), "{detail}");

    let entry = ami_entry(&view, "id\r\nX: 1");
    assert_eq!(entry.matches("\r\n").count(), 16, "{entry:?}");
    assert!(entry.contains("ActionID: id\\x0d\\x0aX: 1\r\n"), "{entry:?}");
    assert!(entry.contains("ObjectName: vm\\x0d\\x0aEvent: Fake\r\n"), "{entry:?}");
    assert!(entry.contains("LastResponse: not sent: no\\x09transport\\x0a\r\n"), "{entry:?}");

    let body = ami_status_event(&view.name, &view.server_uri, &view.mailbox, &view.status.history[1]);
    assert_eq!(body.matches("\r\n").count(), 6, "{body:?}");
    assert!(body.contains("ServerURI: sip:a@b\\x0d\\x0aInjected: 1\\x07\r\n"), "{body:?}");
    assert!(body.ends_with("Reason: NOTIFY\\x0d\\x0aterminated\r\n"), "{body:?}");
    // No lone CR or LF anywhere: every line break is one of ours.
    for text in [&entry, &body] {
        assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "{text:?}");
        assert_eq!(text.matches('\r').count(), text.matches("\r\n").count(), "{text:?}");
    }
}

#[test]
fn long_fields_are_limited_but_the_action_id_is_echoed_whole() {
    let mut view = retrying();
    view.name = "n".repeat(300);
    let entry = ami_entry(&view, &"i".repeat(300));
    assert!(entry.contains(&format!("ActionID: {}\r\n", "i".repeat(300))), "{entry}");
    assert!(entry.contains(&format!("ObjectName: {}...\r\n", "n".repeat(200))), "{entry}");
}

#[test]
fn detail_with_history() {
    assert_eq!(
        format_detail(&active(), 13_300),
        concat!(
            "Name: vm-1000\n",
            "Server: sip:1000@vm.example.com\n",
            "Mailbox: 1000@default\n",
            "State: Active\n",
            "Last response: 200\n",
            "Granted expires: 60 s\n",
            "Expires in: 12.3 s\n",
            "Next SUBSCRIBE in: 2.1 s\n",
            "Failures in a row: 0\n",
            "Counts: 3 new, 1 old (urgent: 1 new, 0 old)\n",
            "Last NOTIFY: 4.2 s ago\n",
            "History (oldest first):\n",
            "  -12.3s  Waiting -> Subscribing: started: subscribing (expires 60)\n",
            "  -12.1s  Subscribing -> Active: 200, granted 60 s, refresh in 50 s\n",
        )
    );
}

#[test]
fn detail_of_what_is_not_known() {
    assert_eq!(
        format_detail(&retrying(), 0),
        concat!(
            "Name: vm-2000\n",
            "Server: sip:2000@vm.example.com;transport=tcp\n",
            "Mailbox: 2000@default\n",
            "State: Retrying\n",
            "Last response: -\n",
            "Granted expires: -\n",
            "Expires in: -\n",
            "Next SUBSCRIBE in: 49.8 s\n",
            "Failures in a row: 12\n",
            "Counts: -\n",
            "Last NOTIFY: never\n",
            "History (oldest first):\n",
            "  (none)\n",
        )
    );
    // A change stamped after `now` (a clock read before the machine's) shows as 0.0.
    let mut view = active();
    view.status.history.truncate(1);
    assert!(format_detail(&view, 0)
        .ends_with("  -0.0s  Waiting -> Subscribing: started: subscribing (expires 60)\n"));
}

#[test]
fn ami_entry_fields() {
    assert_eq!(
        ami_entry(&active(), "list-1"),
        concat!(
            "Event: MWISubscriptionEntry\r\n",
            "ActionID: list-1\r\n",
            "ObjectName: vm-1000\r\n",
            "ServerURI: sip:1000@vm.example.com\r\n",
            "Mailbox: 1000@default\r\n",
            "State: Active\r\n",
            "LastResponse: 200\r\n",
            "Granted: 60\r\n",
            "ExpiresIn: 12\r\n",
            "NextSubscribeIn: 2\r\n",
            "Failures: 0\r\n",
            "NewMessages: 3\r\n",
            "OldMessages: 1\r\n",
            "UrgentNew: 1\r\n",
            "UrgentOld: 0\r\n",
            "\r\n",
        )
    );
    assert_eq!(
        ami_entry(&retrying(), ""),
        concat!(
            "Event: MWISubscriptionEntry\r\n",
            "ObjectName: vm-2000\r\n",
            "ServerURI: sip:2000@vm.example.com;transport=tcp\r\n",
            "Mailbox: 2000@default\r\n",
            "State: Retrying\r\n",
            "LastResponse: \r\n",
            "Granted: \r\n",
            "ExpiresIn: \r\n",
            "NextSubscribeIn: 50\r\n",
            "Failures: 12\r\n",
            "NewMessages: \r\n",
            "OldMessages: \r\n",
            "UrgentNew: \r\n",
            "UrgentOld: \r\n",
            "\r\n",
        )
    );
}

#[test]
fn ami_status_event_body() {
    let c = change(5_000, Phase::Active, Phase::Retrying, "503, retry in 4 s (failure 1 of 10)");
    assert_eq!(
        ami_status_event("vm-1000", "sip:1000@vm.example.com", "1000@default", &c),
        concat!(
            "ObjectName: vm-1000\r\n",
            "ServerURI: sip:1000@vm.example.com\r\n",
            "Mailbox: 1000@default\r\n",
            "State: Retrying\r\n",
            "PreviousState: Active\r\n",
            "Reason: 503, retry in 4 s (failure 1 of 10)\r\n",
        )
    );
}

#[test]
fn seconds_with_one_decimal() {
    assert_eq!(tenths(0), "0.0");
    assert_eq!(tenths(49), "0.0");
    assert_eq!(tenths(50), "0.1");
    assert_eq!(tenths(49_750), "49.8");
    assert_eq!(tenths(60_000), "60.0");
    assert_eq!(tenths(u64::MAX), format!("{}.{}", (u64::MAX / 100) / 10, (u64::MAX / 100) % 10));
}
