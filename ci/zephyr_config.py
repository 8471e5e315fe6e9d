#!/usr/bin/env python3
"""What a Zephyr build of this application would see, for the checks that run without one.

  zephyr_config.py sources CONF     the C files CMakeLists.txt builds for CONF, one a line
  zephyr_config.py dotconfig CONF   CONF as a .config (the DOTCONFIG rust_cargo_application()
                                    hands to cargo, which build.rs reads)

CONF is a Kconfig .config (CONFIG_X=y) or an autoconf.h (#define CONFIG_X 1), the header
Zephyr generates from .config and force-includes into every C file. autoconf.h writes a
bool as 1, like an int of value 1: the types of the CONFIG_SMP_RS_* symbols are taken from
the application's Kconfig to tell them apart (build.rs reads only those).

CMakeLists.txt is evaluated as far as this application uses CMake: target_sources(app
PRIVATE ...), target_sources_ifdef(SYM app PRIVATE ...), and if(A [OR|AND [NOT] B ...]) /
elseif() / else() / endif() around them. Any other command naming a source file is an error,
so a change to CMakeLists.txt cannot silently escape the checks.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_conf(path):
    """CONFIG_* name -> value (str) of a .config or an autoconf.h; bools are 'y'."""
    text = Path(path).read_text()
    conf = {}
    if re.search(r"^#define CONFIG_", text, re.M):
        types = kconfig_types()
        for m in re.finditer(r"^#define (CONFIG_\w+) (.*)$", text, re.M):
            name, value = m.group(1), m.group(2).strip()
            if value == "1" and types.get(name[len("CONFIG_"):], "bool") == "bool":
                value = "y"
            conf[name] = value
    else:
        for line in text.splitlines():
            m = re.match(r"^(CONFIG_\w+)=(.*)$", line)
            if m:
                conf[m.group(1)] = m.group(2)
    return conf


def kconfig_types():
    """Types of the symbols the application's Kconfig declares."""
    types = {}
    cur = None
    for line in (ROOT / "Kconfig").read_text().splitlines():
        m = re.match(r"^\s*(?:menu)?config\s+(\w+)", line)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"^\s*(bool|int|hex|string|tristate)\b", line)
        if m and cur is not None:
            types[cur] = m.group(1)
            cur = None
    return types


def cmake_commands(text):
    """(name, [args]) of each command of a CMake file, comments removed."""
    text = re.sub(r"#[^\n]*", "", text)
    pos = 0
    pat = re.compile(r"\s*(\w+)\s*\(")
    while True:
        m = pat.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise SystemExit(f"CMakeLists.txt: cannot parse near {text[pos:pos + 40]!r}")
            return
        depth, i = 1, m.end()
        while depth:
            if i >= len(text):
                raise SystemExit("CMakeLists.txt: unbalanced parentheses")
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        yield m.group(1).lower(), text[m.end():i - 1].split()
        pos = i


def truth(conf, args):
    """CMake if() over Kconfig variables: NAME, NOT, AND, OR (left to right, AND first)."""
    def term(tokens):
        neg = False
        while tokens and tokens[0] == "NOT":
            neg = not neg
            tokens.pop(0)
        if not tokens or not re.fullmatch(r"CONFIG_\w+", tokens[0]):
            raise SystemExit(f"CMakeLists.txt: unsupported if() condition {args}")
        value = conf.get(tokens.pop(0), "n") not in ("n", "", "0")
        return value != neg

    tokens = list(args)
    ors = [[]]
    for tok in tokens:
        if tok == "OR":
            ors.append([])
        else:
            ors[-1].append(tok)
    result = False
    for group in ors:
        ands = [[]]
        for tok in group:
            if tok == "AND":
                ands.append([])
            else:
                ands[-1].append(tok)
        value = True
        for t in ands:
            t = list(t)
            v = term(t)
            if t:
                raise SystemExit(f"CMakeLists.txt: unsupported if() condition {args}")
            value = value and v
        result = result or value
    return result


def sources(conf):
    files = []
    # Stack of (this branch taken, some branch of this if() already taken).
    stack = []
    text = (ROOT / "CMakeLists.txt").read_text()
    for name, args in cmake_commands(text):
        active = all(taken for taken, _ in stack)
        if name == "if":
            taken = active and truth(conf, args)
            stack.append((taken, taken))
        elif name == "elseif":
            _, done = stack.pop()
            taken = not done and all(t for t, _ in stack) and truth(conf, args)
            stack.append((taken, done or taken))
        elif name == "else":
            _, done = stack.pop()
            stack.append((not done and all(t for t, _ in stack), True))
        elif name == "endif":
            stack.pop()
        elif name == "target_sources":
            if args[:2] != ["app", "PRIVATE"]:
                raise SystemExit(f"CMakeLists.txt: unsupported target_sources{args}")
            if active:
                files += args[2:]
        elif name == "target_sources_ifdef":
            if args[1:3] != ["app", "PRIVATE"]:
                raise SystemExit(f"CMakeLists.txt: unsupported target_sources_ifdef{args}")
            if active and truth(conf, args[:1]):
                files += args[3:]
        elif any(a.endswith(".c") for a in args):
            raise SystemExit(f"CMakeLists.txt: {name}() names a source file; teach {__file__}")
    if stack:
        raise SystemExit("CMakeLists.txt: if() without endif()")
    return files


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("sources", "dotconfig"):
        raise SystemExit(__doc__)
    conf = read_conf(sys.argv[2])
    if sys.argv[1] == "sources":
        print("\n".join(sources(conf)))
    else:
        for name, value in conf.items():
            print(f"{name}={value}")


if __name__ == "__main__":
    main()
