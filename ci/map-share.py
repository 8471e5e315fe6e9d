#!/usr/bin/env python3
"""Sums the input sections a GNU ld map file attributes to one archive, per output section.

Usage: map-share.py MAP ARCHIVE_NAME
"""
import re
import sys
from collections import defaultdict

path, archive = sys.argv[1], sys.argv[2]
out = None
pending = False
sums = defaultdict(int)
entry = re.compile(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$")
with open(path) as f:
    for line in f:
        line = line.rstrip("\n")
        m = re.match(r"^(\.[A-Za-z_]+)\b", line)
        if m:
            out = m.group(1)
            pending = False
            continue
        if re.match(r"^ \.\S+$", line):
            pending = True
            continue
        m = re.match(r"^ \.\S+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$", line)
        if m is None and pending:
            m = entry.match(line)
        pending = False
        if m and out and archive in m.group(3):
            sums[out] += int(m.group(2), 16)
print(
    f"{archive} share:",
    " ".join(f"{k}={sums[k]}" for k in (".text", ".rodata", ".data", ".bss") if k in sums),
)
