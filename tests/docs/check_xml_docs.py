#!/usr/bin/python3
"""Checks res_mwi_hub-en_US.xml (`make lint`): it parses, has a <docs> root, documents every
mwi-subscription option and every setting of res_mwi_hub.conf.sample with a non-empty synopsis,
and documents the AMI actions and the events they send.

    check_xml_docs.py [FILE]    (default: res_mwi_hub-en_US.xml at the repository root)

Asterisk built with XML documentation refuses to register a sorcery type or option it has no
documentation for, so a missing option here is a load failure there. Exit status 1 on any
problem, each printed on its own line.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

# Every option of pjsip.conf's type = mwi-subscription.
OPTIONS = [
    "type",
    "server_uri",
    "client_uri",
    "contact_user",
    "mailbox",
    "outbound_auth",
    "transport",
    "outbound_proxy",
    "endpoint",
    "expiration",
    "retry_interval",
    "forbidden_retry_interval",
    "fatal_retry_interval",
    "max_retries",
    "max_random_initial_delay",
]
# The AMI actions the source declares (impl AmiAction: NAME, then SYNOPSIS), name -> synopsis.
# The module has Asterisk document an action from this file only when the synopsis here equals
# its static one (host/manager.rs), so they must match.
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
ACTION_DECL = re.compile(r'const NAME: [^=]+= c"([^"]+)";\s*const AUTHORITY[^;]+;\s*'
                         r'const SYNOPSIS: [^=]+= c"([^"]+)";')


def source_actions():
    actions = {}
    for folder, _, files in os.walk(SOURCE):
        for f in files:
            if f.endswith(".rs"):
                actions.update(ACTION_DECL.findall(open(os.path.join(folder, f)).read()))
    return actions


MANAGER_ACTIONS = source_actions()
# Event name: (class, parameters it must document).
MANAGER_EVENTS = {
    "MWIGet": ("EVENT_FLAG_REPORTING", ["Mailbox", "OldMessages", "NewMessages", "UrgentMessages", "ActionID"]),
    "MWIGetComplete": ("EVENT_FLAG_REPORTING", ["ActionID", "EventList", "ListItems"]),
    "MWISubscriptionStatus": (
        "EVENT_FLAG_SYSTEM",
        ["ObjectName", "ServerURI", "Mailbox", "State", "PreviousState", "Reason"],
    ),
    "MWISubscriptionEntry": (
        "EVENT_FLAG_COMMAND",
        ["ObjectName", "ServerURI", "Mailbox", "State", "LastResponse", "Granted", "ExpiresIn",
         "NextSubscribeIn", "Failures", "NewMessages", "OldMessages", "UrgentNew", "UrgentOld"],
    ),
    "MWISubscriptionsComplete": ("EVENT_FLAG_COMMAND", ["EventList", "ListItems"]),
}
MODULE = "res_mwi_hub"
OBJECT = "mwi-subscription"


def text_of(element):
    return "".join(element.itertext()).strip() if element is not None else ""


def check(path):
    problems = []
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return [f"{path}: {e}"]
    if root.tag != "docs":
        return [f"{path}: root element is <{root.tag}>, Asterisk wants <docs>"]

    infos = root.findall(f"configInfo[@name='{MODULE}']")
    if len(infos) != 1:
        problems.append(f"expected one configInfo name='{MODULE}', found {len(infos)}")
    objects = root.findall(f"configInfo[@name='{MODULE}']/configFile[@name='pjsip.conf']"
                           f"/configObject[@name='{OBJECT}']")
    if len(objects) != 1:
        problems.append(f"expected one pjsip.conf configObject name='{OBJECT}', found {len(objects)}")
    else:
        obj = objects[0]
        if not text_of(obj.find("synopsis")):
            problems.append(f"configObject {OBJECT}: empty synopsis")
        documented = [o.get("name") for o in obj.findall("configOption")]
        for name in OPTIONS:
            found = obj.findall(f"configOption[@name='{name}']")
            if len(found) != 1:
                problems.append(f"configOption {name}: found {len(found)} times, expected once")
            elif not text_of(found[0].find("synopsis")):
                problems.append(f"configOption {name}: empty synopsis")
        for name in documented:
            if name not in OPTIONS:
                problems.append(f"configOption {name}: documented but not in this check's list")

    # res_mwi_hub.conf: every setting of the sample file (";name = default"), and no other.
    sample = os.path.join(os.path.dirname(path), "res_mwi_hub.conf.sample")
    settings = re.findall(r"^;([a-z_]+) = ", open(sample).read(), re.M)
    general = root.findall(f"configInfo[@name='{MODULE}']/configFile[@name='res_mwi_hub.conf']"
                           f"/configObject[@name='general']")
    if len(general) != 1 or not settings:
        problems.append(f"expected one res_mwi_hub.conf configObject general ({len(general)}) and "
                        f"settings in {sample} ({len(settings)})")
    else:
        documented = sorted(o.get("name") for o in general[0].findall("configOption")
                            if text_of(o.find("synopsis")))
        if documented != sorted(settings):
            problems.append(f"res_mwi_hub.conf: documented {documented}, the sample has {sorted(settings)}")

    for name in MANAGER_ACTIONS:
        found = root.findall(f"manager[@name='{name}']")
        if len(found) != 1:
            problems.append(f"manager action {name}: found {len(found)} times, expected once")
        elif " ".join(text_of(found[0].find("synopsis")).split()) != MANAGER_ACTIONS[name]:
            problems.append(f"manager action {name}: synopsis {text_of(found[0].find('synopsis'))!r} "
                            f"is not the source's {MANAGER_ACTIONS[name]!r}")
    if len(MANAGER_ACTIONS) < 4:
        problems.append(f"found only {sorted(MANAGER_ACTIONS)} AMI actions in {SOURCE}")
    for m in root.findall("manager"):
        if m.get("name") not in MANAGER_ACTIONS:
            problems.append(f"manager action {m.get('name')}: documented, not in the source")

    for name, (cls, params) in MANAGER_EVENTS.items():
        found = root.findall(f"managerEvent[@name='{name}']/managerEventInstance")
        if len(found) != 1:
            problems.append(f"managerEvent {name}: {len(found)} managerEventInstance, expected one")
            continue
        instance = found[0]
        if instance.get("class") != cls:
            problems.append(f"managerEvent {name}: class {instance.get('class')}, expected {cls}")
        if not text_of(instance.find("synopsis")):
            problems.append(f"managerEvent {name}: empty synopsis")
        for p in params:
            if not text_of(instance.find(f"syntax/parameter[@name='{p}']")):
                problems.append(f"managerEvent {name}: parameter {p} missing or undescribed")

    for lang in root.iter():
        if lang.tag in ("configInfo", "manager", "managerEvent") and lang.get("language") != "en_US":
            problems.append(f"<{lang.tag} name='{lang.get('name')}'>: language is not en_US")
    return problems


def main():
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "res_mwi_hub-en_US.xml")
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(default)
    problems = check(path)
    for p in problems:
        print(f"check_xml_docs: {p}")
    if problems:
        return 1
    print(f"check_xml_docs: {path}: {len(OPTIONS)} mwi-subscription options, the res_mwi_hub.conf settings, "
          f"{len(MANAGER_ACTIONS)} actions, "
          f"{len(MANAGER_EVENTS)} events documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
