#!/usr/bin/env python3
"""Judge the AddressSanitizer logs of a `make memcheck` run.

Usage: check-asan-logs.py LOG_DIR

LOG_DIR holds ASan's log files (log_path=LOG_DIR/asan: one asan.PID per process that reported
anything). Each report is one ASan error (up to its SUMMARY line) or one leak of a LeakSanitizer
report ("Direct leak of ..." with its allocation stack). A report is ours when any of its frames
is in our image (res_mwi_hub.so, libres_mwi_hub.so) or in our crate's code: it fails the run.
A report with a frame in an image no longer mapped ("<unknown module>") cannot be told apart
from ours (res_mwi_hub is the image the suite unloads and reloads), so it fails too. The rest,
wholly inside Asterisk, pjproject and the libraries they use, are printed as notices, counted,
and do not fail. Exit status: 0 when no report is ours, 1 otherwise, 2 on bad usage.
"""
import re
import sys
from collections import Counter
from pathlib import Path

# A frame line: "    #3 0x7f... in func file:line" or "    #3 0x7f...  (/path/image.so+0x12)".
FRAME = re.compile(r"^\s+#\d+ 0x[0-9a-f]+")
# Our image under any of the names it is built or installed as, our crate's symbols (demangled,
# or mangled either way) and our sources (debuginfo paths are absolute: this tree's src/).
ROOT = Path(__file__).resolve().parents[2]
OURS = re.compile(r"res_mwi_hub\.so|libres_mwi_hub|res_mwi_hub::|11res_mwi_hub|" + re.escape(f"{ROOT}/src/"))
UNMAPPED = "<unknown module>"
ERROR_START = re.compile(r"^==\d+==ERROR: AddressSanitizer: (.*)")
LEAKS_START = re.compile(r"^==\d+==ERROR: LeakSanitizer: detected memory leaks")
LEAK_START = re.compile(r"^(Direct|Indirect) leak of \d+ byte\(s\) in \d+ object\(s\) allocated from:")
SUMMARY = re.compile(r"^SUMMARY: ")


class Report:
    def __init__(self, path, kind):
        self.path, self.kind, self.lines = path, kind, []

    def frames(self):
        return [line for line in self.lines if FRAME.match(line)]

    def verdict(self):
        frames = self.frames()
        if any(OURS.search(f) for f in frames):
            return "ours"
        if any(UNMAPPED in f for f in frames):
            return "unmapped"
        return "theirs"

    def signature(self):
        """The report's kind and its top frames without addresses: equal for repeats."""
        top = [re.sub(r"^\s+#\d+ 0x[0-9a-f]+ (in )?|\s*\(BuildId: [0-9a-f]+\)", "", f).strip()
               for f in self.frames()[:4]]
        return f"{self.kind}: " + " < ".join(top)


def reports_in(path):
    reports, current, in_leaks = [], None, False
    for line in path.read_text(errors="replace").splitlines():
        if m := ERROR_START.match(line):
            current = Report(path, m.group(1).split(" on ")[0].strip())
            reports.append(current)
            in_leaks = False
        elif LEAKS_START.match(line):
            current, in_leaks = None, True
        elif in_leaks and (m := LEAK_START.match(line)):
            current = Report(path, f"{m.group(1).lower()} leak")
            reports.append(current)
        elif SUMMARY.match(line):
            # An error's SUMMARY is its last line; a leak report's sums up all its leaks.
            if current is not None and not in_leaks:
                current.lines.append(line)
            current, in_leaks = None, False
            continue
        if current is not None:
            current.lines.append(line)
    return reports


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    logs = sorted(Path(argv[1]).glob("asan.*"))
    reports = [r for path in logs for r in reports_in(path)]
    by_verdict = {v: [r for r in reports if r.verdict() == v] for v in ("ours", "unmapped", "theirs")}

    theirs = Counter(r.signature() for r in by_verdict["theirs"])
    for signature, n in theirs.most_common():
        print(f"notice: not ours ({n}x): {signature}")
    # The fast unwinder (fast_unwind_on_malloc=0 makes the suite ~5x slower) stops at the first
    # frame of uninstrumented code built without frame pointers, such as Asterisk's own.
    cut = sum(1 for r in by_verdict["theirs"] if r.kind.endswith("leak") and len(r.frames()) < 4)
    if cut:
        print(f"notice: {cut} of those leak stacks stop inside Asterisk within 3 frames: whose call "
              "led there is not known (rerun the test with fast_unwind_on_malloc=0 to see)")
    for report in by_verdict["unmapped"]:
        print(f"\nFAIL: report with a frame in an unloaded image (maybe ours), in {report.path}:")
        print("\n".join(report.lines))
    for report in by_verdict["ours"]:
        print(f"\nFAIL: report involving res_mwi_hub, in {report.path}:")
        print("\n".join(report.lines))

    failing = len(by_verdict["ours"]) + len(by_verdict["unmapped"])
    print(f"\nmemcheck: {len(logs)} ASan log file(s), {len(reports)} report(s): "
          f"{len(by_verdict['ours'])} ours, {len(by_verdict['unmapped'])} in an unloaded image, "
          f"{len(by_verdict['theirs'])} Asterisk's ({len(theirs)} distinct)")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
