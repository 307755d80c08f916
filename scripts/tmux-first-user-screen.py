#!/usr/bin/env python3
"""Read a warroom console screen captured from tmux, for tmux-first-user.sh.

  marks HELP            the marks the help's legend gives to an attacker's
                        moves (privilege escalation, persistence, credential
                        access, defence evasion), one a line
  rows SCREEN           the stream pane's rows: mark-column<TAB>principal<TAB>key
  selected SCREEN_E     the stream pane's selected row (0-based) in a capture
                        taken with `capture-pane -e` (the highlighted row), or -1

Only what is on screen is read: the stream pane is found by its title
("1 Stream"), its columns by the header row's words.
"""
import re
import sys

SGR = re.compile(r"\x1b\[([0-9;:]*)m")
ANY_ESC = re.compile(r"\x1b(\[[0-9;:?]*[A-Za-z]|\][^\x07\x1b]*(\x07|\x1b\\))")


def plain(line):
    return ANY_ESC.sub("", line)


def stream_box(lines):
    """(first row index, last row index, left col, right col, header) of the
    stream pane's body, in plain lines; None when it is not on screen."""
    for i, ln in enumerate(lines):
        j = ln.find("1 Stream")
        if j < 0:
            continue
        left = ln.rfind("╭", 0, j)
        right = ln.find("╮", j)
        if left < 0:
            continue
        if right < 0:
            right = len(ln) - 1
        body = []
        for k in range(i + 1, len(lines)):
            seg = lines[k][left:right + 1] if len(lines[k]) > left else ""
            if seg.startswith("╰"):
                break
            body.append(k)
        if not body:
            return None
        return body[0] + 1, body[-1], left, right, lines[body[0]][left + 1:right]
    return None


def columns(header):
    """Start of each header word: {'principal': 17, 'key': 31, ...}."""
    out = {}
    for m in re.finditer(r"\S+", header):
        out.setdefault(m.group(0), m.start())
    return out


def cell(row, cols, name):
    if name not in cols:
        return ""
    start = cols[name]
    later = sorted(v for v in cols.values() if v > start)
    end = later[0] if later else len(row)
    return row[start:end].strip()


def rows(path):
    lines = [plain(l.rstrip("\n")) for l in open(path, encoding="utf-8", errors="replace")]
    box = stream_box(lines)
    if box is None:
        return
    first, last, left, right, header = box
    cols = columns(header)
    markw = cols.get("time", 4)
    for k in range(first, last + 1):
        row = lines[k][left + 1:right]
        if not row.strip() or "no events" in row:
            continue
        print("%s\t%s\t%s" % (row[:markw].rstrip() or "-", cell(row, cols, "principal"), cell(row, cols, "key")))


def selected(path):
    raw = [l.rstrip("\n") for l in open(path, encoding="utf-8", errors="replace")]
    lines = [plain(l) for l in raw]
    box = stream_box(lines)
    if box is None:
        print(-1)
        return
    first, last, left, right, _ = box
    for n, k in enumerate(range(first, last + 1)):
        # Walk the line, tracking whether a background colour is set, and
        # count the cells of the pane's body that have one.
        bg, col, marked, text = False, 0, 0, raw[k]
        i = 0
        while i < len(text):
            m = SGR.match(text, i)
            if m:
                ps = [p for p in re.split("[;:]", m.group(1))] if m.group(1) else ["0"]
                j = 0
                while j < len(ps):
                    p = ps[j] or "0"
                    if p == "0" or p == "49":
                        bg = False
                    elif p == "7":
                        bg = True
                    elif p == "27":
                        bg = False
                    elif p == "48":
                        bg = True
                        j += 2 if j + 1 < len(ps) and ps[j + 1] == "5" else 4
                    elif p == "38" or p == "58":
                        j += 2 if j + 1 < len(ps) and ps[j + 1] == "5" else 4
                    elif p.isdigit() and (40 <= int(p) <= 47 or 100 <= int(p) <= 107):
                        bg = True
                    j += 1
                i = m.end()
                continue
            m = ANY_ESC.match(text, i)
            if m:
                i = m.end()
                continue
            if left < col < right and bg:
                marked += 1
            col += 1
            i += 1
        if marked > (right - left) // 2:
            print(n)
            return
    print(-1)


def marks(path):
    attack = ("privilege escalation", "persistence", "credential access", "defence evasion", "defense evasion")
    seen = set()
    # The help is one column, or two side by side at 120 columns and more
    # (where a cut entry on the left runs into the right one: "…~  defence").
    legend = re.compile(r"(?:^|[│ …])(\S) {2}(%s)(?= {2}| *│| *$)" % "|".join(attack))
    for ln in open(path, encoding="utf-8", errors="replace"):
        for m in legend.finditer(plain(ln).rstrip()):
            if m.group(1) not in seen:
                seen.add(m.group(1))
                print(m.group(1))


if __name__ == "__main__":
    {"rows": rows, "selected": selected, "marks": marks}[sys.argv[1]](sys.argv[2])
